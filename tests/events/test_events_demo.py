"""seed_demo's events (issue #6, item 8): the first cohort's year of Pit Stops, webinars and
networking evenings with attendance recorded, and what is coming up whenever the demo is loaded:
one under way today, a full one with a waiting list, a draft for staff."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.demo import FELLOW_EMAIL, MENTOR_EMAIL, STAFF_EMAIL
from cohort.models import Programme
from events.models import Event, Registration
from events.services import checkin_code, waitlist_position
from pdp.models import Evidence

# One demo for the whole module, on one xdist worker.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("events-demo")]


@pytest.fixture(scope="module", autouse=True)
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            MEDIA_ROOT=tmp_path_factory.mktemp("media"),
            PITWALL_DEMO_MEETING_YEARS=0,
        ),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def unscoped():
    with scopes_disabled():
        yield


def test_the_first_year_took_place_with_attendance_recorded(unscoped):
    past = Event.objects.filter(programme__slug="cep", ends_at__lt=timezone.now())
    kinds = set(past.values_list("kind", flat=True))
    assert {"pit_stop", "webinar", "networking"} <= kinds
    assert past.filter(kind="pit_stop").count() >= 4
    attended = Registration.objects.filter(event__in=past, status="attended")
    assert attended.count() > 300
    assert Registration.objects.filter(event__in=past, status="no_show").exists()
    # The demo fellow came to all but one, and it shows in her plan as evidence.
    hers = attended.filter(user__email=FELLOW_EMAIL)
    assert hers.count() == past.count() - 1
    evidence = Evidence.objects.filter(
        kind=Evidence.Kind.EVENT, objective__pdp__fellow__user__email=FELLOW_EMAIL
    )
    assert evidence.count() >= 3


def test_what_is_coming_up_has_registrations_a_waiting_list_and_an_event_under_way(unscoped):
    now = timezone.now()
    upcoming = Event.objects.filter(programme__slug="cep", ends_at__gt=now)
    assert upcoming.filter(starts_at__lte=now, status="published").count() == 1
    full = upcoming.get(title="Pit Stop: investor readiness")
    assert full.registrations.filter(status="registered").count() == full.capacity
    waiting = full.registrations.get(user__email=FELLOW_EMAIL)
    assert waiting.status == "waitlisted" and waitlist_position(waiting) == 2
    assert upcoming.filter(status="draft").exists()
    assert Registration.objects.filter(
        event__in=upcoming, user__email=MENTOR_EMAIL, status="registered"
    ).exists()
    assert Event.objects.filter(programme__slug="accel").exists()


def test_the_demo_people_see_it_in_their_pages(client):
    from django.contrib.auth import get_user_model

    users = {u.email: u for u in get_user_model().objects.all()}
    client.force_login(users[FELLOW_EMAIL])
    home = client.get(reverse("cohort:home", kwargs={"programme_slug": "cep"})).content.decode()
    assert "Your next events" in home and "On the waiting list" in home
    events = client.get(reverse("events:list", kwargs={"programme_slug": "cep"}))
    assert "Pit Stop: investor readiness" in events.content.decode()
    assert "spring showcase" not in events.content.decode()
    client.force_login(users[STAFF_EMAIL])
    staff = client.get(reverse("cohort:home", kwargs={"programme_slug": "cep"})).content.decode()
    assert "Pit Stop: investor readiness" in staff and "Recently held" in staff
    listing = client.get(reverse("events:list", kwargs={"programme_slug": "cep"}))
    assert "Pit Stop: spring showcase" in listing.content.decode()  # the draft, for staff


def test_the_demo_fellow_can_check_in_to_the_event_under_way(client, unscoped):
    from django.contrib.auth import get_user_model

    fellow = get_user_model().objects.get(email=FELLOW_EMAIL)
    event = Event.objects.get(programme__slug="cep", title="Pit Stop: pitch clinic")
    with scope(programme=event.programme):
        code = checkin_code(event)
    client.force_login(fellow)
    url = reverse(
        "events:checkin", kwargs={"programme_slug": "cep", "event_uuid": event.uuid, "code": code}
    )
    done = client.post(url, follow=True)
    assert "You are checked in" in done.content.decode()


def test_seeding_again_adds_no_events_or_registrations(unscoped):
    before = (Event.objects.count(), Registration.objects.count(), Programme.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (
        Event.objects.count(),
        Registration.objects.count(),
        Programme.objects.count(),
    ) == before
