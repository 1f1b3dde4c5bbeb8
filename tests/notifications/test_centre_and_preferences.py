"""The in-app centre, the bell, preferences and one-click unsubscribe."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from notifications import services
from notifications.models import Delivery, Kind, Notification, Preference
from notifications.selectors import unread_count

from ..factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_the_bell_shows_the_unread_count_in_one_query(client_for, fellow_a, programme_a):
    with scopes_disabled():
        NotificationFactory.create_batch(3, programme=programme_a, recipient=fellow_a)
    client = client_for(fellow_a)
    body = client.get(f"/p/{programme_a.slug}/").content.decode()
    assert re.search(r"Notifications\s*<strong class=\"pitwall-badge\">3", body)
    with scope(programme=programme_a), CaptureQueriesContext(connection) as ctx:
        assert unread_count(programme=programme_a, user=fellow_a) == 3
    assert len(ctx.captured_queries) == 1


def test_centre_lists_only_my_notifications_in_this_programme(
    client_for, fellow_a, mentor_a, programme_a, programme_b
):
    with scopes_disabled():
        NotificationFactory(programme=programme_a, recipient=fellow_a, title="Mine here")
        NotificationFactory(programme=programme_a, recipient=mentor_a, title="Someone else's")
        NotificationFactory(programme=programme_b, recipient=fellow_a, title="Mine elsewhere")
    body = client_for(fellow_a).get(f"/p/{programme_a.slug}/notifications/").content.decode()
    assert "Mine here" in body
    assert "Someone else's" not in body
    assert "Mine elsewhere" not in body


def test_open_marks_read_and_goes_to_the_record(client_for, fellow_a, programme_a):
    with scopes_disabled():
        n = NotificationFactory(
            programme=programme_a, recipient=fellow_a, link=f"/p/{programme_a.slug}/"
        )
    response = client_for(fellow_a).get(f"/p/{programme_a.slug}/notifications/{n.uuid}/")
    assert response.status_code == 302
    assert response["Location"] == f"/p/{programme_a.slug}/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_a_link_to_a_record_the_reader_can_no_longer_see_answers_404(
    client_for, fellow_a, programme_a
):
    # The notification points at a staff page; the fellow follows it and gets the page's 404
    # or 403 (never a 500), and the notification still counts as read.
    with scopes_disabled():
        n = NotificationFactory(
            programme=programme_a,
            recipient=fellow_a,
            link=f"/p/{programme_a.slug}/invitations/00000000-0000-0000-0000-000000000000/revoke/",
        )
    client = client_for(fellow_a)
    response = client.get(f"/p/{programme_a.slug}/notifications/{n.uuid}/", follow=True)
    assert response.status_code in (403, 404, 405)


def test_an_external_link_is_never_followed(client_for, fellow_a, programme_a):
    with scopes_disabled():
        n = NotificationFactory(
            programme=programme_a, recipient=fellow_a, link="https://evil.example/phish"
        )
    response = client_for(fellow_a).get(f"/p/{programme_a.slug}/notifications/{n.uuid}/")
    assert response["Location"] == f"/p/{programme_a.slug}/notifications/"


def test_someone_elses_notification_is_404(client_for, fellow_a, mentor_a, programme_a):
    with scopes_disabled():
        n = NotificationFactory(programme=programme_a, recipient=mentor_a)
    client = client_for(fellow_a)
    assert client.get(f"/p/{programme_a.slug}/notifications/{n.uuid}/").status_code == 404
    assert client.post(f"/p/{programme_a.slug}/notifications/{n.uuid}/read/").status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


def test_mark_one_and_mark_all_read(client_for, fellow_a, programme_a):
    with scopes_disabled():
        first, *_rest = NotificationFactory.create_batch(
            3, programme=programme_a, recipient=fellow_a
        )
    client = client_for(fellow_a)
    client.post(f"/p/{programme_a.slug}/notifications/{first.uuid}/read/")
    with scope(programme=programme_a):
        assert unread_count(programme=programme_a, user=fellow_a) == 2
    response = client.post(f"/p/{programme_a.slug}/notifications/read-all/", follow=True)
    assert b"Marked 2 notifications as read." in response.content
    with scope(programme=programme_a):
        assert unread_count(programme=programme_a, user=fellow_a) == 0
    response = client.post(f"/p/{programme_a.slug}/notifications/read-all/", follow=True)
    assert b"You had no unread notifications." in response.content


def test_preferences_page_saves_choices(client_for, fellow_a, programme_a):
    client = client_for(fellow_a)
    url = f"/p/{programme_a.slug}/notifications/preferences/"
    page = client.get(url).content.decode()
    assert "Requests to sign off a record" in page  # listed as always on
    response = client.post(
        url,
        {
            "announcement": "digest",
            "membership": "in_app",
            "mentorship": "digest",
            "connection": "in_app",
            "reminder": "immediately",
            "event": "immediately",
            "outcome": "digest",
        },
        follow=True,
    )
    assert b"Your notification settings have been saved." in response.content
    with scopes_disabled():
        chosen = dict(Preference.objects.filter(user=fellow_a).values_list("kind", "delivery"))
    assert chosen == {
        "announcement": "digest",
        "membership": "in_app",
        "mentorship": "digest",
        "connection": "in_app",
        "reminder": "immediately",
        "event": "immediately",
        "outcome": "digest",
    }


def test_preferences_bad_input_is_explained(client_for, fellow_a, programme_a):
    response = client_for(fellow_a).post(
        f"/p/{programme_a.slug}/notifications/preferences/",
        {"announcement": "carrier-pigeon", "membership": "in_app"},
    )
    assert response.status_code == 400
    assert b"There is a problem" in response.content
    with scopes_disabled():
        assert not Preference.objects.exists()


def test_mandatory_kinds_cannot_be_switched_off(programme_a, fellow_a):
    with scope(programme=programme_a), pytest.raises(ValidationError, match="cannot be switched"):
        services.preference_set(
            programme=programme_a, user=fellow_a, kind=Kind.SIGN_OFF_REQUEST, delivery="in_app"
        )


def test_unsubscribe_link_switches_that_kind_to_in_app(client, fellow_a, programme_a):
    token = services.unsubscribe_token(programme=programme_a, user=fellow_a, kind=Kind.ANNOUNCEMENT)
    url = f"/notifications/unsubscribe/{token}/"
    page = client.get(url)
    assert page.status_code == 200
    assert b"Stop emails about" in page.content
    done = client.post(url)
    assert b"You will no longer get emails" in done.content
    with scope(programme=programme_a):
        assert (
            services.delivery_for(programme=programme_a, user=fellow_a, kind=Kind.ANNOUNCEMENT)
            == Delivery.IN_APP
        )


def test_a_tampered_unsubscribe_link_is_a_clear_404(client, db):
    response = client.get("/notifications/unsubscribe/not-a-token/")
    assert response.status_code == 404
    assert b"not valid" in response.content


def test_an_unsubscribe_link_for_a_mandatory_kind_is_refused(client, fellow_a, programme_a):
    token = services.unsubscribe_token(programme=programme_a, user=fellow_a, kind=Kind.SECURITY)
    response = client.post(f"/notifications/unsubscribe/{token}/")
    assert response.status_code == 404
    with scopes_disabled():
        assert not Preference.objects.exists()


def test_accepting_an_invitation_tells_the_inviter(client_for, staff_a, programme_a, db):
    from cohort.services import invitation_accept

    from ..factories import InvitationFactory, UserFactory

    invitation = InvitationFactory(
        programme=programme_a, email="joiner@example.org", invited_by=staff_a
    )
    joiner = UserFactory(email="joiner@example.org")
    with scope(programme=programme_a):
        invitation_accept(invitation=invitation, user=joiner)
    with scopes_disabled():
        note = Notification.objects.get(recipient=staff_a)
    assert note.kind == Kind.MEMBERSHIP
    assert "joined as fellow" in note.title
