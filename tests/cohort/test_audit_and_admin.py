"""The audit log, and the programme-scoped admin that writes to it."""

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from cohort.models import AuditEvent, Cohort, Role
from cohort.services import audit_log, membership_grant, membership_revoke

from ..factories import UserFactory

pytestmark = pytest.mark.django_db


def test_audit_log_records_actor_action_and_target(programme_a, staff_a, cohort_a):
    with scope(programme=programme_a):
        event = audit_log(
            programme=programme_a,
            actor=staff_a,
            action="cohort.renamed",
            target=cohort_a,
            changes={"name": ["Old", "New"]},
        )
    assert event.actor == staff_a
    assert event.actor_label == staff_a.email
    assert event.target_id == str(cohort_a.uuid)
    assert event.target_label == cohort_a.name
    assert event.target_type.model == "cohort"


def test_granting_a_role_twice_records_one_event(programme_a, staff_a):
    person = UserFactory()
    with scope(programme=programme_a):
        membership_grant(programme=programme_a, user=person, role=Role.MENTOR, actor=staff_a)
        membership_grant(programme=programme_a, user=person, role=Role.MENTOR, actor=staff_a)
        assert AuditEvent.objects.filter(action="membership.granted").count() == 1


def test_the_last_staff_member_cannot_be_removed(programme_a, staff_a):
    from django.core.exceptions import ValidationError

    with scope(programme=programme_a):
        membership = staff_a.memberships.get(programme=programme_a)
        with pytest.raises(ValidationError, match="at least one staff member"):
            membership_revoke(membership=membership, actor=staff_a)


def test_audit_page_lists_events_newest_first(client_for, staff_a, programme_a, cohort_a):
    with scope(programme=programme_a):
        audit_log(programme=programme_a, actor=staff_a, action="first.thing")
        audit_log(programme=programme_a, actor=staff_a, action="second.thing")
    body = client_for(staff_a).get(f"/p/{programme_a.slug}/audit/").content.decode()
    assert body.index("second.thing") < body.index("first.thing")


def test_admin_change_by_staff_is_audited(client_for, staff_a, programme_a, cohort_a):
    client = client_for(staff_a)
    url = reverse("admin:cohort_cohort_change", args=[cohort_a.pk])
    response = client.post(
        url,
        {
            "programme": programme_a.pk,
            "name": "Cohort renamed",
            "starts_on": "2026-09-01",
            "ends_on": "2027-08-31",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with scopes_disabled():
        assert Cohort.objects.get(pk=cohort_a.pk).name == "Cohort renamed"
        event = AuditEvent.objects.get(action="admin.cohort.changed")
    assert event.via == AuditEvent.Via.ADMIN
    assert event.actor == staff_a
    assert event.changes == {"name": "Cohort renamed"}


def test_admin_programme_choices_are_limited_to_the_staffs_programmes(
    client_for, staff_a, programme_a, programme_b
):
    response = client_for(staff_a).get(reverse("admin:cohort_cohort_add"))
    assert response.status_code == 200
    body = response.content.decode()
    assert programme_a.name in body
    assert programme_b.name not in body


def test_admin_refuses_a_forged_programme(client_for, staff_a, programme_a, programme_b):
    response = client_for(staff_a).post(
        reverse("admin:cohort_cohort_add"),
        {
            "programme": programme_b.pk,
            "name": "Smuggled",
            "starts_on": "2026-09-01",
            "ends_on": "2027-08-31",
        },
    )
    assert response.status_code == 200  # the form shows "Select a valid choice"
    with scopes_disabled():
        assert not Cohort.objects.filter(name="Smuggled").exists()


def test_admin_login_goes_through_the_one_sign_in(client, db):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 302
    assert follow["Location"].startswith(reverse("account_login"))


def test_a_fellow_is_refused_the_admin(client_for, fellow_a):
    client = client_for(fellow_a)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 403


def test_audit_log_cannot_be_edited_in_admin(client_for, staff_a, programme_a):
    with scope(programme=programme_a):
        event = audit_log(programme=programme_a, actor=staff_a, action="x.y")
    client = client_for(staff_a)
    url = reverse("admin:cohort_auditevent_change", args=[event.pk])
    assert client.get(url).status_code == 200  # readable
    client.post(url, {"action": "tampered"})
    event.refresh_from_db()
    assert event.action == "x.y"
    assert client.post(reverse("admin:cohort_auditevent_delete", args=[event.pk])).status_code in (
        302,
        403,
    )
    with scopes_disabled():
        assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_staff_remove_a_role_from_the_people_page(client_for, staff_a, mentor_a, programme_a):
    with scopes_disabled():
        membership = mentor_a.memberships.get(programme=programme_a)
    client = client_for(staff_a)
    response = client.post(f"/p/{programme_a.slug}/people/{membership.uuid}/remove/", follow=True)
    assert "no longer has that role in the programme" in response.content.decode()
    with scopes_disabled():
        assert not mentor_a.memberships.filter(programme=programme_a).exists()
        assert AuditEvent.objects.filter(action="membership.revoked").count() == 1


def test_the_last_staff_role_cannot_be_removed_in_the_browser_or_the_admin(
    client_for, staff_a, programme_a
):
    with scopes_disabled():
        membership = staff_a.memberships.get(programme=programme_a)
    client = client_for(staff_a)
    response = client.post(f"/p/{programme_a.slug}/people/{membership.uuid}/remove/", follow=True)
    assert "A programme needs at least one staff member." in response.content.decode()
    client.post(reverse("admin:cohort_membership_delete", args=[membership.pk]), {"post": "yes"})
    with scopes_disabled():
        assert staff_a.memberships.filter(programme=programme_a, role=Role.STAFF).exists()
