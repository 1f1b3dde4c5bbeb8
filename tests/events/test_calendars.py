"""Calendars (issue #6 item 3): each event's .ics and a person's private calendar feed. Every
file is parsed back with icalendar and read field by field, as a calendar app would."""

from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from icalendar import Calendar

from cohort.models import AuditEvent, Fellow, Membership, Role
from events.calendar import event_uid, meeting_uid
from events.demo import seed_calendar_feeds
from events.models import CalendarFeed, Event
from events.services import calendar_feed_create, calendar_feed_reset, calendar_feed_revoke
from mentoring.services import cohort_windows, meeting_save, meeting_start

from ..factories import (
    CohortFactory,
    EventFactory,
    FellowFactory,
    MembershipFactory,
    MentorFactory,
    MentorshipFactory,
    RegistrationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def page_of(event) -> str:
    """The event's page in full."""
    with scopes_disabled():
        return settings.SITE_URL + event.get_absolute_url()


def ics_url(event) -> str:
    return reverse(
        "events:event_ics",
        kwargs={"programme_slug": event.programme.slug, "event_uuid": event.uuid},
    )


def calendar_page(programme) -> str:
    return reverse("events:calendar", kwargs={"programme_slug": programme.slug})


def parse(response) -> Calendar:
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def entries(calendar: Calendar) -> dict[str, object]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def feed_of(user, programme) -> CalendarFeed:
    with scope(programme=programme):
        return calendar_feed_create(programme=programme, user=user)


def feed_path(feed) -> str:
    return reverse("calendar_feed", kwargs={"token": feed.token})


@pytest.fixture
def paris_webinar(programme_a):
    """A webinar at 10:00 Paris time on a date in summer time, so the zone matters."""
    starts = datetime(timezone.now().year + 1, 7, 14, 10, 0, tzinfo=PARIS)
    return EventFactory(
        programme=programme_a,
        kind="webinar",
        title="Regulation & CE marking: a primer",
        description="MHRA and EU routes compared.\nBring your questions.",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1, minutes=30),
        time_zone="Europe/Paris",
        is_online=True,
        online_url="https://meet.example.org/ce-marking",
        venue_name="",
        venue_address="",
    )


# --- one event's .ics ---------------------------------------------------------------------------


def test_an_events_ics_is_a_calendar_in_the_events_own_time_zone(
    client, programme_a, fellow_a, paris_webinar
):
    client.force_login(fellow_a)
    response = client.get(ics_url(paris_webinar))

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="regulation-ce-marking-a-primer-'
        f'{paris_webinar.starts_at.astimezone(PARIS):%Y-%m-%d}.ics"'
    )
    assert response["Cache-Control"] == "private, no-store"
    calendar = parse(response)
    assert str(calendar["VERSION"]) == "2.0"
    assert "Pitwall" in str(calendar["PRODID"])
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "PUBLISH"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{paris_webinar.uuid}@pitwall"
    assert event["DTSTAMP"].dt.tzinfo is not None
    # 10:00 in Paris, written as Paris time with its VTIMEZONE, not converted to UTC or London.
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event["DTSTART"].dt.replace(tzinfo=None) == datetime(
        paris_webinar.starts_at.year, 7, 14, 10, 0
    )
    assert event["DTSTART"].dt == paris_webinar.starts_at
    assert event["DTEND"].dt == paris_webinar.ends_at
    assert event["DTEND"].params["TZID"] == "Europe/Paris"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert str(event["SUMMARY"]) == "Regulation & CE marking: a primer"
    assert str(event["LOCATION"]) == "Online"
    assert str(event["URL"]) == page_of(paris_webinar)
    description = str(event["DESCRIPTION"])
    assert "MHRA and EU routes compared.\nBring your questions." in description
    assert f"Event page: {page_of(paris_webinar)}" in description
    assert "10:00 to 11:30 (Europe/Paris time)" in description
    # Not registered: the joining link is for those holding a place.
    assert "meet.example.org" not in description
    assert event["SEQUENCE"] == 1
    assert str(event["STATUS"]) == "CONFIRMED"


def test_an_in_person_event_in_the_uk_names_its_venue_and_address(client, programme_a, fellow_a):
    event = EventFactory(programme=programme_a, venue_address="183 Euston Road\nLondon NW1 2BE")
    client.force_login(fellow_a)
    (entry,) = parse(client.get(ics_url(event))).walk("VEVENT")
    assert str(entry["LOCATION"]) == "Wellcome Collection, 183 Euston Road, London NW1 2BE"
    assert entry["DTSTART"].params["TZID"] == "Europe/London"
    assert "(UK time)" in str(entry["DESCRIPTION"])


def test_the_joining_link_is_in_the_ics_of_those_holding_a_place_and_staff(
    client, programme_a, fellow_a, staff_a, paris_webinar
):
    with scopes_disabled():
        RegistrationFactory(event=paris_webinar, user=fellow_a)
    for user in (fellow_a, staff_a):
        client.force_login(user)
        (entry,) = parse(client.get(ics_url(paris_webinar))).walk("VEVENT")
        assert "Joining link: https://meet.example.org/ce-marking" in str(entry["DESCRIPTION"])


def test_a_moved_event_keeps_its_uid_and_raises_its_sequence(client, programme_a, fellow_a):
    event = EventFactory(programme=programme_a)
    client.force_login(fellow_a)
    (before,) = parse(client.get(ics_url(event))).walk("VEVENT")
    with scopes_disabled():
        Event.objects.filter(pk=event.pk).update(
            starts_at=event.starts_at + timedelta(days=1),
            ends_at=event.ends_at + timedelta(days=1),
            version=event.version + 1,
        )
    (after,) = parse(client.get(ics_url(event))).walk("VEVENT")
    assert str(after["UID"]) == str(before["UID"]) == event_uid(event)
    assert (before["SEQUENCE"], after["SEQUENCE"]) == (1, 2)
    assert after["DTSTART"].dt == before["DTSTART"].dt + timedelta(days=1)


def test_a_cancelled_event_is_marked_cancelled(client, programme_a, fellow_a):
    event = EventFactory(
        programme=programme_a, status="cancelled", cancelled_reason="The venue flooded."
    )
    client.force_login(fellow_a)
    (entry,) = parse(client.get(ics_url(event))).walk("VEVENT")
    assert str(entry["STATUS"]) == "CANCELLED"
    assert str(entry["SUMMARY"]).startswith("Cancelled: ")
    assert "The venue flooded." in str(entry["DESCRIPTION"])


def test_an_event_someone_may_not_see_answers_404_like_one_that_does_not_exist(
    client, programme_a, programme_b, fellow_a, mentor_a, staff_a, fellow_b, staff_b
):
    public = EventFactory(programme=programme_a)
    fellows_only = EventFactory(programme=programme_a, audience="fellows")
    draft = EventFactory(programme=programme_a, status="draft")
    EventFactory(programme=programme_b)  # B has events of its own
    missing = reverse(
        "events:event_ics",
        kwargs={"programme_slug": "bravo", "event_uuid": "00000000-0000-0000-0000-000000000000"},
    )
    for user in (fellow_b, staff_b):
        client.force_login(user)
        # Through A's address the middleware refuses; through B's the event is not found.
        assert client.get(ics_url(public)).status_code == 404
        aimed = reverse(
            "events:event_ics", kwargs={"programme_slug": "bravo", "event_uuid": public.uuid}
        )
        assert client.get(aimed).status_code == client.get(missing).status_code == 404
    client.force_login(mentor_a)
    assert client.get(ics_url(fellows_only)).status_code == 404
    client.force_login(fellow_a)
    assert client.get(ics_url(fellows_only)).status_code == 200
    assert client.get(ics_url(draft)).status_code == 404
    client.force_login(staff_a)
    (entry,) = parse(client.get(ics_url(draft))).walk("VEVENT")
    assert str(entry["STATUS"]) == "TENTATIVE"  # staff's copy of an event not yet published
    assert client.post(ics_url(public)).status_code == 405


def test_an_event_title_that_makes_no_filename_still_gets_one(client, programme_a, fellow_a):
    event = EventFactory(programme=programme_a, title="«» ✓")
    client.force_login(fellow_a)
    response = client.get(ics_url(event))
    assert response["Content-Disposition"].startswith('attachment; filename="event-')


# --- the calendar page and the feed's address ---------------------------------------------------


def test_the_calendar_page_switches_the_feed_on_and_shows_its_address(
    client, programme_a, fellow_a
):
    client.force_login(fellow_a)
    page = client.get(calendar_page(programme_a))
    assert page.status_code == 200
    assert "Get my calendar address" in page.content.decode()

    response = client.post(reverse("events:calendar_create", kwargs={"programme_slug": "alpha"}))
    assert response.status_code == 302 and response["Location"] == calendar_page(programme_a)
    with scopes_disabled():
        feed = CalendarFeed.objects.get(user=fellow_a)
    body = client.get(calendar_page(programme_a)).content.decode()
    https_url = f"{settings.SITE_URL}/calendar/{feed.token}.ics"
    assert feed.get_feed_url() == https_url
    assert f'value="{https_url}"' in body
    assert "webcal://" + https_url.split("://", 1)[1] in body
    for app in ("Outlook", "Google Calendar", "Apple Calendar"):
        assert app in body
    assert "Your calendar feed is on" in body

    # Pressing the button again keeps the address people subscribed to.
    client.post(reverse("events:calendar_create", kwargs={"programme_slug": "alpha"}))
    with scopes_disabled():
        assert list(CalendarFeed.objects.values_list("token", flat=True)) == [feed.token]
        actions = list(
            AuditEvent.objects.filter(programme=programme_a).values_list("action", "target_id")
        )
    assert actions == [("calendar_feed.created", str(feed.uuid))]
    assert feed.token not in str(actions)


def test_the_action_routes_only_take_posts(client, programme_a, fellow_a):
    client.force_login(fellow_a)
    for name in ("calendar_create", "calendar_reset", "calendar_revoke"):
        url = reverse(f"events:{name}", kwargs={"programme_slug": "alpha"})
        assert client.get(url).status_code == 405
    with scopes_disabled():
        assert not CalendarFeed.objects.exists()


def test_a_new_address_voids_the_old_one_at_once(client, programme_a, fellow_a):
    old = feed_of(fellow_a, programme_a)
    assert client.get(feed_path(old)).status_code == 200
    client.force_login(fellow_a)
    client.post(reverse("events:calendar_reset", kwargs={"programme_slug": "alpha"}))
    client.logout()
    with scopes_disabled():
        new = CalendarFeed.objects.get(user=fellow_a, revoked_at__isnull=True)
        assert AuditEvent.objects.filter(action="calendar_feed.reset").count() == 1
    assert new.token != old.token

    gone = client.get(feed_path(old))
    assert gone.status_code == 410
    assert gone["Content-Type"] == "text/plain; charset=utf-8"
    message = gone.content.decode()
    assert "turned off" in message and "Your calendar" in message
    assert settings.SITE_URL in message
    assert client.get(feed_path(new)).status_code == 200


def test_turning_the_feed_off_stops_its_address(client, programme_a, fellow_a):
    feed = feed_of(fellow_a, programme_a)
    client.force_login(fellow_a)
    response = client.post(reverse("events:calendar_revoke", kwargs={"programme_slug": "alpha"}))
    assert response.status_code == 302
    assert client.get(feed_path(feed)).status_code == 410
    body = client.get(calendar_page(programme_a)).content.decode()
    assert feed.token not in body and "Get my calendar address" in body
    assert "Your calendar feed is off" in body
    client.post(reverse("events:calendar_revoke", kwargs={"programme_slug": "alpha"}))
    assert "already off" in client.get(calendar_page(programme_a)).content.decode()
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="calendar_feed.revoked").count() == 1


def test_reset_and_revoke_through_the_services_keep_one_live_feed(programme_a, fellow_a):
    with scope(programme=programme_a):
        first = calendar_feed_create(programme=programme_a, user=fellow_a)
        second = calendar_feed_reset(programme=programme_a, user=fellow_a)
        assert calendar_feed_revoke(programme=programme_a, user=fellow_a) is True
        assert calendar_feed_revoke(programme=programme_a, user=fellow_a) is False
        third = calendar_feed_reset(programme=programme_a, user=fellow_a)  # none on: a new one
        live = list(CalendarFeed.objects.filter(user=fellow_a, revoked_at__isnull=True))
    assert len({first.token, second.token, third.token}) == 3
    assert live == [third]


def test_a_wrong_token_is_not_found(client, programme_a, fellow_a):
    feed_of(fellow_a, programme_a)
    response = client.get("/calendar/not-a-real-token.ics")
    assert response.status_code == 404
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "no calendar" in response.content.decode()


def test_someone_who_left_the_programme_loses_their_feed(client, programme_a, fellow_a):
    feed = feed_of(fellow_a, programme_a)
    with scopes_disabled():
        Membership.objects.filter(user=fellow_a, programme=programme_a).delete()
    assert client.get(feed_path(feed)).status_code == 404


# --- what the feed carries -------------------------------------------------------------------


@pytest.fixture
def year(programme_a, fellow_a, mentor_a):
    """fellow_a mentored by mentor_a in a cohort whose year began 80 days ago: meeting 1's
    window has closed (its meeting was held 70 days ago), meetings 2 to 4 are still to come."""
    starts = timezone.localdate() - timedelta(days=80)
    cohort = CohortFactory(
        programme=programme_a, starts_on=starts, ends_on=starts + timedelta(days=364)
    )
    with scopes_disabled():
        fellow = Fellow.objects.get(user=fellow_a)
        fellow.cohort = cohort
        fellow.save()
        mentorship = MentorshipFactory(
            fellow=fellow,
            mentor=mentor_a.mentor_profiles.get(),
            cohort=cohort,
            started_on=starts,
        )
    with scope(programme=programme_a):
        meeting = meeting_start(mentorship=mentorship, number=1, actor=fellow_a)
        meeting_save(
            meeting=meeting,
            actor=fellow_a,
            data={
                "held_on": timezone.localdate() - timedelta(days=70),
                "format": "video",
                "discussion": "The pilot plan.",
                "fellow_reflection": "",
            },
            version=meeting.version,
        )
        windows = cohort_windows(cohort)
    return SimpleNamespace(mentorship=mentorship, windows=windows, cohort=cohort)


def test_the_feed_carries_the_persons_events_and_places_on_the_waiting_list(
    client, programme_a, fellow_a, paris_webinar
):
    with scopes_disabled():
        registered = RegistrationFactory(event=paris_webinar, user=fellow_a)
        waiting = RegistrationFactory(
            event=EventFactory(programme=programme_a, title="Full house"),
            user=fellow_a,
            status="waitlisted",
        )
        called_off = RegistrationFactory(
            event=EventFactory(programme=programme_a, title="Called off", status="cancelled"),
            user=fellow_a,
        )
        withdrawn = RegistrationFactory(
            event=EventFactory(programme=programme_a, title="Changed my mind"),
            user=fellow_a,
            status="cancelled",
        )
        draft = RegistrationFactory(
            event=EventFactory(programme=programme_a, title="Unpublished", status="draft"),
            user=fellow_a,
        )
        attended = RegistrationFactory(
            event=EventFactory(
                programme=programme_a,
                title="Last month",
                starts_at=timezone.now() - timedelta(days=30),
                ends_at=timezone.now() - timedelta(days=30) + timedelta(hours=2),
            ),
            user=fellow_a,
            status="attended",
        )
        long_ago = RegistrationFactory(
            event=EventFactory(
                programme=programme_a,
                title="Two years ago",
                starts_at=timezone.now() - timedelta(days=730),
                ends_at=timezone.now() - timedelta(days=730) + timedelta(hours=2),
            ),
            user=fellow_a,
        )
    feed = feed_of(fellow_a, programme_a)

    response = client.get(feed_path(feed))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    calendar = parse(response)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "Alpha Programme: your events and meetings"
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert str(calendar["X-PUBLISHED-TTL"]) == "PT1H"
    assert response.content.count(b"X-WR-CALNAME") == 1
    found = entries(calendar)
    assert set(found) == {
        event_uid(r.event) for r in (registered, waiting, called_off, attended)
    }, "left out: places cancelled by the person, drafts, events over a year ago"
    assert event_uid(withdrawn.event) not in found
    assert event_uid(draft.event) not in found
    assert event_uid(long_ago.event) not in found
    webinar = found[event_uid(paris_webinar)]
    assert webinar["DTSTART"].params["TZID"] == "Europe/Paris"
    assert webinar["DTSTART"].dt == paris_webinar.starts_at
    assert str(webinar["STATUS"]) == "CONFIRMED"
    assert "Joining link: https://meet.example.org/ce-marking" in str(webinar["DESCRIPTION"])
    assert {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")} == {
        "Europe/Paris",
        "Europe/London",
    }
    full = found[event_uid(waiting.event)]
    assert str(full["STATUS"]) == "TENTATIVE"
    assert str(full["SUMMARY"]) == "Full house (waiting list)"
    assert "waiting list" in str(full["DESCRIPTION"])
    assert str(found[event_uid(called_off.event)]["STATUS"]) == "CANCELLED"


def test_a_moved_event_keeps_its_uid_in_the_feed_with_a_higher_sequence(
    client, programme_a, fellow_a
):
    event = EventFactory(programme=programme_a)
    with scopes_disabled():
        RegistrationFactory(event=event, user=fellow_a)
    feed = feed_of(fellow_a, programme_a)
    before = entries(parse(client.get(feed_path(feed))))[event_uid(event)]
    with scopes_disabled():
        Event.objects.filter(pk=event.pk).update(
            starts_at=event.starts_at + timedelta(hours=2),
            ends_at=event.ends_at + timedelta(hours=2),
            version=2,
        )
    after = entries(parse(client.get(feed_path(feed))))[event_uid(event)]
    assert (before["SEQUENCE"], after["SEQUENCE"]) == (1, 2)
    assert after["DTSTART"].dt - before["DTSTART"].dt == timedelta(hours=2)


def test_the_fellows_feed_has_their_meetings_due_and_held_as_all_day_entries(
    client, programme_a, fellow_a, mentor_a, year
):
    feed = feed_of(fellow_a, programme_a)
    found = entries(parse(client.get(feed_path(feed))))
    mentorship, windows = year.mentorship, year.windows
    assert set(found) == {meeting_uid(mentorship, n) for n in (1, 2, 3, 4)}

    held = found[meeting_uid(mentorship, 1)]
    held_on = timezone.localdate() - timedelta(days=70)
    assert held["DTSTART"].params["VALUE"] == "DATE"
    assert held["DTSTART"].dt == held_on
    assert held["DTEND"].dt == held_on + timedelta(days=1)
    assert str(held["SUMMARY"]) == f"Mentor meeting 1 — with {mentor_a.display_name}"

    due = found[meeting_uid(mentorship, 2)]
    opens, closes = windows[2]
    assert due["DTSTART"].params["VALUE"] == "DATE"
    assert due["DTSTART"].dt == closes
    assert str(due["SUMMARY"]) == f"Mentor meeting 2 due — with {mentor_a.display_name}"
    year_url = settings.SITE_URL + reverse(
        "mentoring:mentorship_year",
        kwargs={"programme_slug": "alpha", "mentorship_uuid": mentorship.uuid},
    )
    description = str(due["DESCRIPTION"])
    assert f"{opens:%-d %B %Y} to {closes:%-d %B %Y}" in description
    assert year_url in description and str(due["URL"]) == year_url
    assert str(due["TRANSP"]) == "TRANSPARENT"


def test_the_mentors_feed_has_each_mentees_meetings_and_never_another_persons(
    client, programme_a, fellow_a, mentor_a, year
):
    # Another fellow of the same mentor, and a third pair the mentor has no part in.
    other_fellow = FellowFactory(programme=programme_a, cohort=year.cohort)
    second = MentorshipFactory(
        fellow=other_fellow,
        mentor=year.mentorship.mentor,
        cohort=year.cohort,
        started_on=year.cohort.starts_on,
    )
    stranger = MentorshipFactory(
        fellow=FellowFactory(programme=programme_a, cohort=year.cohort),
        mentor=MentorFactory(programme=programme_a),
        cohort=year.cohort,
        started_on=year.cohort.starts_on,
    )
    with scopes_disabled():
        RegistrationFactory(event=EventFactory(programme=programme_a), user=other_fellow.user)

    mentor_entries = entries(parse(client.get(feed_path(feed_of(mentor_a, programme_a)))))
    assert set(mentor_entries) == {
        meeting_uid(m, n) for m in (year.mentorship, second) for n in (1, 2, 3, 4)
    }
    summary = str(mentor_entries[meeting_uid(year.mentorship, 2)]["SUMMARY"])
    assert summary == f"Mentor meeting 2 due — with {fellow_a.display_name}"

    fellow_entries = entries(parse(client.get(feed_path(feed_of(fellow_a, programme_a)))))
    assert set(fellow_entries) == {meeting_uid(year.mentorship, n) for n in (1, 2, 3, 4)}
    assert not any(str(second.uuid) in uid or str(stranger.uuid) in uid for uid in fellow_entries)


def test_a_feed_of_programme_b_shows_nothing_of_programme_a(
    client, programme_a, programme_b, fellow_a
):
    # The same person in both programmes: each programme's feed carries only its own events.
    MembershipFactory(programme=programme_b, user=fellow_a, role=Role.FELLOW)
    event_a = EventFactory(programme=programme_a)
    event_b = EventFactory(programme=programme_b)
    with scopes_disabled():
        RegistrationFactory(event=event_a, user=fellow_a)
        RegistrationFactory(event=event_b, user=fellow_a)
    found_b = entries(parse(client.get(feed_path(feed_of(fellow_a, programme_b)))))
    assert set(found_b) == {event_uid(event_b)}


def test_the_feed_reads_a_fixed_number_of_queries_whatever_it_holds(
    client, programme_a, mentor_a, year
):
    feed = feed_of(mentor_a, programme_a)

    def add(count):
        for _ in range(count):
            with scopes_disabled():
                RegistrationFactory(event=EventFactory(programme=programme_a), user=mentor_a)
            MentorshipFactory(
                fellow=FellowFactory(programme=programme_a, cohort=year.cohort),
                mentor=year.mentorship.mentor,
                cohort=year.cohort,
                started_on=year.cohort.starts_on,
            )

    def queries() -> int:
        client.get(feed_path(feed))  # the read stamp is written at most once a minute
        with CaptureQueriesContext(connection) as context:
            assert client.get(feed_path(feed)).status_code == 200
        return len(context)

    add(1)
    small = queries()
    add(5)
    assert queries() == small
    # The feed, the membership, registrations, mentorships, their windows, their meetings.
    assert small == 6


def test_a_read_is_recorded_at_most_once_a_minute(client, programme_a, fellow_a):
    feed = feed_of(fellow_a, programme_a)
    assert feed.last_read_at is None

    def stamp():
        with scopes_disabled():
            return CalendarFeed.objects.get(pk=feed.pk).last_read_at

    client.get(feed_path(feed))
    first = stamp()
    assert first is not None
    with CaptureQueriesContext(connection) as context:
        client.get(feed_path(feed))
    assert stamp() == first
    assert not any(q["sql"].startswith("UPDATE") for q in context.captured_queries)

    with scopes_disabled():
        CalendarFeed.objects.filter(pk=feed.pk).update(last_read_at=first - timedelta(minutes=2))
    client.get(feed_path(feed))
    assert stamp() > first - timedelta(minutes=2)


def test_the_feed_answers_head_and_refuses_post(client, programme_a, fellow_a):
    feed = feed_of(fellow_a, programme_a)
    assert client.head(feed_path(feed)).status_code == 200
    assert client.post(feed_path(feed)).status_code == 405


# --- links for the event page and home pages ------------------------------------------------


def _render(source: str, *, user, programme, **context) -> str:
    request = RequestFactory().get("/")
    request.user = user
    request.programme = programme
    with scopes_disabled():
        request.roles = frozenset(
            Membership.objects.filter(programme=programme, user=user).values_list("role", flat=True)
        )
    with scope(programme=programme):
        return Template("{% load events_tags %}" + source).render(
            Context({"request": request, **context})
        )


def test_the_event_page_link_downloads_the_ics(programme_a, fellow_a):
    event = EventFactory(programme=programme_a)
    html = _render("{% calendar_links event %}", user=fellow_a, programme=programme_a, event=event)
    assert f'href="{ics_url(event)}"' in html
    assert "Add to your calendar (.ics)" in html
    assert f'href="{calendar_page(programme_a)}"' in html


def test_the_home_page_card_leads_to_the_calendar_page(programme_a, fellow_a):
    html = _render("{% calendar_feed_card %}", user=fellow_a, programme=programme_a)
    assert f'href="{calendar_page(programme_a)}"' in html
    assert "Your calendar" in html and "Subscribe to your events and meetings" in html
    feed_of(fellow_a, programme_a)
    html = _render("{% calendar_feed_card %}", user=fellow_a, programme=programme_a)
    assert "are in your calendar app" in html


# --- the demo ---------------------------------------------------------------------------------


def test_the_demo_gives_the_demo_fellow_and_mentor_a_feed_once(programme_a):
    from cohort.demo import FELLOW_EMAIL, MENTOR_EMAIL

    people = [UserFactory(email=FELLOW_EMAIL), UserFactory(email=MENTOR_EMAIL)]
    for user in people:
        MembershipFactory(programme=programme_a, user=user, role=Role.FELLOW)
    seeder = SimpleNamespace(programmes={"cep": programme_a})
    seed_calendar_feeds(seeder)
    with scopes_disabled():
        tokens = set(CalendarFeed.objects.values_list("user__email", "token"))
    seed_calendar_feeds(seeder)
    with scopes_disabled():
        assert set(CalendarFeed.objects.values_list("user__email", "token")) == tokens
        assert CalendarFeed.objects.filter(revoked_at__isnull=True).count() == 2
    assert {email for email, _ in tokens} == {FELLOW_EMAIL, MENTOR_EMAIL}
