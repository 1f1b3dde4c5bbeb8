"""Announcements to a programme, a cohort or a role, with read receipts; the daily digest."""

import pytest
from django.core import mail
from django_scopes import scope, scopes_disabled

from cohort.models import Membership, Role
from notifications import services
from notifications.models import (
    Announcement,
    AnnouncementReceipt,
    Delivery,
    Kind,
    Notification,
    OutboxMessage,
    Preference,
)
from notifications.tasks import digest_send_daily

from ..factories import CohortFactory, FellowFactory

pytestmark = pytest.mark.django_db


def _publish(client, programme, **data):
    return client.post(f"/p/{programme.slug}/announcements/new/", data)


def test_staff_publish_to_everyone_and_see_who_read_it(
    client_for, staff_a, fellow_a, mentor_a, programme_a
):
    client = client_for(staff_a)
    response = _publish(
        client, programme_a, title="Welcome", body="Hello all.", audience="programme"
    )
    assert response.status_code == 302
    with scopes_disabled():
        announcement = Announcement.objects.get()
        recipients = set(announcement.receipts.values_list("user__email", flat=True))
        # The author is a recipient (it shows on their home page) but is not notified.
        assert not Notification.objects.filter(recipient=staff_a).exists()
    assert recipients == {staff_a.email, fellow_a.email, mentor_a.email}
    detail = client.get(response["Location"]).content.decode()
    assert "3 people, 1 of whom have read it" in detail  # the author

    fellow = client_for(fellow_a)
    home = fellow.get(f"/p/{programme_a.slug}/").content.decode()
    assert "Welcome" in home
    fellow.get(f"/p/{programme_a.slug}/announcements/{announcement.uuid}/")
    detail = client_for(staff_a).get(response["Location"]).content.decode()
    assert "3 people, 2 of whom have read it" in detail


def test_announcement_to_one_cohort_reaches_only_its_fellows(staff_a, programme_a, fellow_a):
    with scopes_disabled():
        other_cohort = CohortFactory(programme=programme_a, name="Cohort 2")
        other = FellowFactory(programme=programme_a, cohort=other_cohort)
        Membership.objects.create(programme=programme_a, user=other.user, role=Role.FELLOW)
    with scope(programme=programme_a):
        announcement = services.announcement_publish(
            programme=programme_a,
            author=staff_a,
            title="Cohort 2 only",
            body="Your Pit Stop.",
            audience="cohort",
            cohort=other_cohort,
        )
        users = set(announcement.receipts.values_list("user_id", flat=True))
    assert users == {other.user_id}


def test_announcement_to_a_role(staff_a, mentor_a, fellow_a, programme_a):
    with scope(programme=programme_a):
        announcement = services.announcement_publish(
            programme=programme_a,
            author=staff_a,
            title="Mentors",
            body="Briefing.",
            audience="role",
            role=Role.MENTOR,
        )
        assert list(announcement.receipts.values_list("user", flat=True)) == [mentor_a.pk]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "", "body": "x", "audience": "programme"}, "This field is required."),
        ({"title": "x", "body": "", "audience": "programme"}, "This field is required."),
        ({"title": "x", "body": "y"}, "This field is required."),
        ({"title": "x", "body": "y", "audience": "cohort"}, "Choose the cohort."),
        ({"title": "x", "body": "y", "audience": "role"}, "Choose the role."),
    ],
)
def test_announcement_bad_input_is_explained_and_kept(
    client_for, staff_a, programme_a, data, message
):
    response = _publish(client_for(staff_a), programme_a, **data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert message in body
    if data.get("title"):
        assert f'value="{data["title"]}"' in body
    with scopes_disabled():
        assert not Announcement.objects.exists()


def test_an_empty_audience_is_refused(client_for, staff_a, programme_a):
    response = _publish(
        client_for(staff_a), programme_a, title="x", body="y", audience="role", role=Role.MENTOR
    )
    assert response.status_code == 400
    assert b"Nobody is in that audience yet." in response.content
    with scopes_disabled():
        assert not Announcement.objects.exists()


def test_fellows_cannot_publish(client_for, fellow_a, programme_a):
    response = _publish(
        client_for(fellow_a), programme_a, title="x", body="y", audience="programme"
    )
    assert response.status_code == 403


def test_dismiss_hides_it_from_the_home_page(client_for, staff_a, fellow_a, programme_a):
    with scope(programme=programme_a):
        announcement = services.announcement_publish(
            programme=programme_a,
            author=staff_a,
            title="Dismiss me",
            body="x",
            audience="programme",
        )
    client = client_for(fellow_a)
    assert "Dismiss me" in client.get(f"/p/{programme_a.slug}/").content.decode()
    response = client.post(
        f"/p/{programme_a.slug}/announcements/{announcement.uuid}/dismiss/", follow=True
    )
    assert "has been dismissed" in response.content.decode()
    assert "Dismiss me" not in client.get(f"/p/{programme_a.slug}/").content.decode()
    with scopes_disabled():
        receipt = AnnouncementReceipt.objects.get(user=fellow_a)
    assert receipt.read_at and receipt.dismissed_at


def test_an_announcement_not_for_me_is_404(client_for, staff_a, mentor_a, fellow_a, programme_a):
    with scope(programme=programme_a):
        announcement = services.announcement_publish(
            programme=programme_a,
            author=staff_a,
            title="Mentors only",
            body="x",
            audience="role",
            role=Role.MENTOR,
        )
    client = client_for(fellow_a)
    base = f"/p/{programme_a.slug}/announcements/{announcement.uuid}/"
    assert client.get(base).status_code == 404
    assert client.post(base + "dismiss/").status_code == 404


def test_daily_digest_one_email_per_person_and_none_when_nothing(
    programme_a, fellow_a, mentor_a, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        Preference.objects.create(
            programme=programme_a, user=fellow_a, kind=Kind.ANNOUNCEMENT, delivery=Delivery.DIGEST
        )
    with scope(programme=programme_a):
        for title in ("First news", "Second news"):
            services.notify(
                programme=programme_a, recipients=[fellow_a], kind=Kind.ANNOUNCEMENT, title=title
            )
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        assert digest_send_daily() == 1
    assert len(mail.outbox) == 1
    digest = mail.outbox[0]
    assert digest.to == [fellow_a.email]
    assert "Your daily digest: 2 updates" in digest.subject
    assert "First news" in digest.body and "Second news" in digest.body
    # Nothing new: no second digest, and the mentor (no digest items) never gets one.
    with django_capture_on_commit_callbacks(execute=True):
        assert digest_send_daily() == 0
    assert len(mail.outbox) == 1
    with scopes_disabled():
        assert OutboxMessage.objects.filter(kind=Kind.DIGEST).count() == 1
        assert not Notification.objects.filter(digest_state="pending").exists()
