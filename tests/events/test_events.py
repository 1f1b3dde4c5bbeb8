"""Events, registration and the waiting list, attendance, QR check-in and the PDP evidence it
leaves: the services with their rules, and the pages with each bad input of issue #6."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import Fellow, Role
from events.models import Event, EventDomain, Registration
from events.services import (
    attendance_mark,
    checkin_code,
    checkin_with_code,
    event_cancel,
    event_save,
    registration_cancel,
    registration_create,
)
from notifications.models import Kind, Notification, OutboxMessage
from pdp.models import CompetencyDomain, Evidence
from pdp.services import objective_save, pdp_for_fellow

from ..factories import (
    CohortFactory,
    EventFactory,
    FellowFactory,
    MembershipFactory,
    RegistrationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _fellow(programme, email=None):
    user = UserFactory(**({"email": email} if email else {}))
    MembershipFactory(programme=programme, user=user, role=Role.FELLOW)
    FellowFactory(programme=programme, user=user)
    return user


def _url(name, event, **kwargs):
    return reverse(
        name, kwargs={"programme_slug": event.programme.slug, "event_uuid": event.uuid, **kwargs}
    )


@pytest.fixture
def event(programme_a):
    return EventFactory(programme=programme_a, capacity=2)


# --- registration and the waiting list ---------------------------------------------------------


def test_register_then_full_event_puts_people_on_the_waiting_list_in_order(
    programme_a, event, fellow_a
):
    others = [_fellow(programme_a) for _ in range(3)]
    with scope(programme=programme_a):
        first = registration_create(event=event, user=fellow_a)
        second = registration_create(event=event, user=others[0])
        third = registration_create(event=event, user=others[1])
        fourth = registration_create(event=event, user=others[2])
    assert not first.waitlisted and not second.waitlisted
    assert third.waitlisted and third.position == 1
    assert fourth.waitlisted and fourth.position == 2


def test_registering_twice_is_refused_without_a_duplicate(programme_a, event, fellow_a):
    with scope(programme=programme_a):
        registration_create(event=event, user=fellow_a)
        with pytest.raises(ValidationError, match="already registered"):
            registration_create(event=event, user=fellow_a)
        assert Registration.objects.filter(event=event, user=fellow_a).count() == 1


def test_a_cancellation_moves_the_first_person_waiting_up_and_tells_them(
    programme_a, event, fellow_a
):
    holder, waiting_first, waiting_second = (_fellow(programme_a) for _ in range(3))
    with scope(programme=programme_a):
        registration_create(event=event, user=fellow_a)
        mine = registration_create(event=event, user=holder).registration
        registration_create(event=event, user=waiting_first)
        registration_create(event=event, user=waiting_second)
        registration_cancel(registration=mine, actor=holder)
        statuses = dict(Registration.objects.filter(event=event).values_list("user_id", "status"))
        told = Notification.objects.filter(recipient=waiting_first, kind=Kind.EVENT)
        assert told.count() == 1 and "place has come up" in told.get().title
        assert OutboxMessage.objects.filter(recipient=waiting_first).exists()
    assert statuses[holder.pk] == Registration.Status.CANCELLED
    assert statuses[waiting_first.pk] == Registration.Status.REGISTERED
    assert statuses[waiting_second.pk] == Registration.Status.WAITLISTED


def test_registering_again_after_cancelling_reuses_the_row_and_respects_the_queue(
    programme_a, event, fellow_a
):
    other, waiting = _fellow(programme_a), _fellow(programme_a)
    with scope(programme=programme_a):
        mine = registration_create(event=event, user=fellow_a).registration
        registration_create(event=event, user=other)
        registration_create(event=event, user=waiting)
        registration_cancel(registration=mine, actor=fellow_a)  # waiting moves up
        again = registration_create(event=event, user=fellow_a)
        assert again.waitlisted and again.registration.pk == mine.pk
        assert Registration.objects.filter(event=event, user=fellow_a).count() == 1


@pytest.mark.parametrize(
    "change, message",
    [
        ({"status": Event.Status.DRAFT}, "not open for registration"),
        ({"status": Event.Status.CANCELLED}, "cancelled"),
        ({"starts_at": -1}, "Registration has closed"),
    ],
)
def test_registration_is_refused_for_drafts_cancelled_and_past_events(
    programme_a, fellow_a, change, message
):
    event = EventFactory(programme=programme_a)
    if change.get("starts_at"):
        event.starts_at = timezone.now() - timedelta(hours=1)
        event.ends_at = event.starts_at + timedelta(hours=2)
    event.status = change.get("status", event.status)
    with scopes_disabled():
        event.save()
    with scope(programme=programme_a), pytest.raises(ValidationError, match=message):
        registration_create(event=event, user=fellow_a)


def test_an_event_for_fellows_of_one_cohort_is_not_open_to_others(programme_a, fellow_a, mentor_a):
    cohort = CohortFactory(programme=programme_a, name="Another cohort")
    event = EventFactory(programme=programme_a, audience=Event.Audience.FELLOWS, cohort=cohort)
    with scope(programme=programme_a):
        for person in (fellow_a, mentor_a):
            with pytest.raises(ValidationError, match="not open to you"):
                registration_create(event=event, user=person)
        with scopes_disabled():
            Fellow.objects.filter(user=fellow_a).update(cohort=cohort)
        assert not registration_create(event=event, user=fellow_a).waitlisted


def test_more_places_move_the_waiting_list_up_and_fewer_than_taken_are_refused(
    programme_a, staff_a, event, fellow_a
):
    people = [_fellow(programme_a) for _ in range(3)]
    with scope(programme=programme_a):
        for person in [fellow_a, *people]:
            registration_create(event=event, user=person)
        with pytest.raises(ValidationError) as refused:
            event_save(programme=programme_a, actor=staff_a, data={"capacity": 1}, event=event)
        assert "2 people already hold a place" in str(refused.value)
        event_save(programme=programme_a, actor=staff_a, data={"capacity": 3}, event=event)
        assert (
            Registration.objects.filter(event=event, status=Registration.Status.REGISTERED).count()
            == 3
        )
        assert Registration.objects.get(event=event, user=people[1]).promoted_at is not None


def test_moving_an_event_tells_everyone_registered_or_waiting_and_bumps_its_version(
    programme_a, staff_a, event, fellow_a
):
    waiting = [_fellow(programme_a) for _ in range(2)]
    with scope(programme=programme_a):
        for person in [fellow_a, *waiting]:
            registration_create(event=event, user=person)
        later = event.starts_at + timedelta(days=1)
        saved = event_save(
            programme=programme_a,
            actor=staff_a,
            data={"starts_at": later, "ends_at": later + timedelta(hours=2)},
            event=event,
            version=event.version,
        )
        titles = list(Notification.objects.filter(kind=Kind.EVENT).values_list("title", flat=True))
    assert saved.version == event.version + 1
    assert len(titles) == 3 and all("time" in t for t in titles)


def test_cancelling_an_event_needs_a_reason_and_tells_registrants(
    programme_a, staff_a, event, fellow_a
):
    with scope(programme=programme_a):
        registration_create(event=event, user=fellow_a)
        with pytest.raises(ValidationError):
            event_cancel(event=event, actor=staff_a, reason="  ")
        event_cancel(event=event, actor=staff_a, reason="The venue flooded.")
        note = Notification.objects.get(recipient=fellow_a, kind=Kind.EVENT)
    assert "cancelled" in note.title and "flooded" in note.body


# --- attendance, QR check-in and PDP evidence ---------------------------------------------------


@pytest.fixture
def started(programme_a):
    """A Pit Stop in the finance domain that began ten minutes ago."""
    starts = timezone.now() - timedelta(minutes=10)
    event = EventFactory(
        programme=programme_a, starts_at=starts, ends_at=starts + timedelta(hours=3)
    )
    with scopes_disabled():
        domain = CompetencyDomain.objects.create(programme=programme_a, name="Finance")
        EventDomain.objects.create(programme=programme_a, event=event, domain=domain)
    return event, domain


def _objective(programme, user, domain, title="Raise a seed round"):
    with scope(programme=programme):
        fellow = Fellow.objects.get(user=user)
        return objective_save(
            pdp=pdp_for_fellow(fellow=fellow),
            actor=user,
            data={
                "title": title,
                "measure": "Money in the bank",
                "target_date": timezone.localdate() + timedelta(days=90),
                "domain": domain,
            },
        )


def test_staff_marking_attendance_adds_pdp_evidence_once_and_a_correction_takes_it_back(
    programme_a, staff_a, fellow_a, started
):
    event, domain = started
    objective = _objective(programme_a, fellow_a, domain)
    other_domain_objective = _objective(
        programme_a,
        fellow_a,
        CompetencyDomain.objects.create(programme=programme_a, name="Leadership"),
        title="Lead a team",
    )
    registration = RegistrationFactory(event=event, user=fellow_a)
    with scope(programme=programme_a):
        attendance_mark(registration=registration, actor=staff_a, attended=True)
        attendance_mark(registration=registration, actor=staff_a, attended=True)
        evidence = list(Evidence.objects.filter(objective__pdp__fellow__user=fellow_a))
        assert [(e.objective_id, e.kind) for e in evidence] == [(objective.pk, Evidence.Kind.EVENT)]
        assert event.title in evidence[0].title and not other_domain_objective.evidence.exists()
        attendance_mark(registration=registration, actor=staff_a, attended=False)
        assert not Evidence.objects.filter(objective__pdp__fellow__user=fellow_a).exists()
        assert registration.__class__.objects.get(pk=registration.pk).status == "no_show"


def test_attendance_cannot_be_marked_before_the_event(programme_a, staff_a, event, fellow_a):
    registration = RegistrationFactory(event=event, user=fellow_a)
    with scope(programme=programme_a), pytest.raises(ValidationError, match="an hour before"):
        attendance_mark(registration=registration, actor=staff_a, attended=True)


def test_qr_check_in_marks_attendance_and_adds_evidence(programme_a, fellow_a, started):
    event, domain = started
    _objective(programme_a, fellow_a, domain)
    RegistrationFactory(event=event, user=fellow_a)
    with scope(programme=programme_a):
        result = checkin_with_code(event=event, user=fellow_a, code=checkin_code(event))
        again = checkin_with_code(event=event, user=fellow_a, code=checkin_code(event))
        registration = Registration.objects.get(event=event, user=fellow_a)
        assert Evidence.objects.filter(objective__pdp__fellow__user=fellow_a).count() == 1
    assert not result.already and not result.walk_in and again.already
    assert registration.status == "attended" and registration.check_in == "qr"


def test_a_walk_in_is_added_to_the_register(programme_a, fellow_a, started):
    event, _ = started
    with scope(programme=programme_a):
        result = checkin_with_code(event=event, user=fellow_a, code=checkin_code(event))
    assert result.walk_in and result.registration.status == "attended"


def test_a_code_for_another_event_an_expired_one_or_a_forged_one_is_refused(
    programme_a, fellow_a, started
):
    event, _ = started
    other = EventFactory(programme=programme_a, title="Webinar on NICE evidence")
    with scope(programme=programme_a):
        cases = {
            "another event “Webinar on NICE evidence”": checkin_code(other),
            "expired": checkin_code(event, at=timezone.now() - timedelta(minutes=45)),
            "not a valid check-in code": checkin_code(event)[:-3] + "abc",
        }
        for message, code in cases.items():
            with pytest.raises(ValidationError, match=message):
                checkin_with_code(event=event, user=fellow_a, code=code)
        assert not Registration.objects.filter(event=event).exists()


def test_check_in_is_refused_long_before_the_event(programme_a, fellow_a, event):
    with scope(programme=programme_a), pytest.raises(ValidationError, match="Check-in opens"):
        checkin_with_code(event=event, user=fellow_a, code=checkin_code(event))


# --- pages ---------------------------------------------------------------------------------------


def test_a_fellow_finds_registers_and_cancels_through_the_pages(
    client_for, programme_a, event, fellow_a
):
    client = client_for(fellow_a)
    listing = client.get(reverse("events:list", kwargs={"programme_slug": "alpha"}))
    assert listing.status_code == 200 and event.title in listing.content.decode()
    response = client.post(_url("events:register", event), follow=True)
    assert "You are registered" in response.content.decode()
    again = client.post(_url("events:register", event), follow=True)
    assert "already registered" in again.content.decode()
    page = client.get(_url("events:event", event)).content.decode()
    assert "Cancel my place" in page
    gone = client.post(_url("events:unregister", event), follow=True)
    assert "is cancelled" in gone.content.decode()


def test_a_full_event_says_you_are_on_the_waiting_list(client_for, programme_a, fellow_a):
    event = EventFactory(programme=programme_a, capacity=1)
    RegistrationFactory(event=event, user=_fellow(programme_a))
    response = client_for(fellow_a).post(_url("events:register", event), follow=True)
    assert "is full, so you are on the waiting list, at number 1" in response.content.decode()


def test_an_event_ending_before_it_starts_is_refused_at_the_field_with_the_text_kept(
    client_for, programme_a, staff_a
):
    day = (timezone.localdate() + timedelta(days=10)).isoformat()
    response = client_for(staff_a).post(
        reverse("events:create", kwargs={"programme_slug": "alpha"}),
        {
            "kind": "webinar",
            "title": "Regulation 101",
            "starts_on": day,
            "starts_time": "14:00",
            "ends_time": "13:00",
            "time_zone": "Europe/London",
            "is_online": "True",
            "online_url": "https://meet.example.org/reg101",
            "audience": "programme",
            "publish": "",
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "The event must end after it starts" in page and "Regulation 101" in page
    with scopes_disabled():
        assert not Event.objects.filter(title="Regulation 101").exists()


def test_staff_create_and_publish_an_event_in_its_own_time_zone(client_for, programme_a, staff_a):
    day = timezone.localdate() + timedelta(days=10)
    response = client_for(staff_a).post(
        reverse("events:create", kwargs={"programme_slug": "alpha"}),
        {
            "kind": "conference",
            "title": "HLTH Europe",
            "starts_on": day.isoformat(),
            "starts_time": "09:00",
            "ends_on": (day + timedelta(days=1)).isoformat(),
            "ends_time": "17:00",
            "time_zone": "Europe/Amsterdam",
            "is_online": "False",
            "venue_name": "RAI Amsterdam",
            "audience": "fellows_mentors",
            "capacity": "40",
            "publish": "",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        event = Event.objects.get(title="HLTH Europe")
    assert event.status == "published" and event.local_starts_at.hour == 9
    assert event.starts_at.utcoffset() == timedelta(0)  # stored in UTC
    assert (event.ends_at - event.starts_at) == timedelta(hours=32)


def test_a_stale_edit_is_answered_409_and_keeps_what_was_typed(client_for, programme_a, staff_a):
    event = EventFactory(programme=programme_a)
    client = client_for(staff_a)
    form = client.get(_url("events:edit", event)).context["form"]
    data = {
        k: v for k, v in form.initial.items() if v is not None and k not in ("domains", "resources")
    }
    data.update(
        {
            "starts_on": data["starts_on"].isoformat(),
            "starts_time": data["starts_time"].strftime("%H:%M"),
            "ends_time": data["ends_time"].strftime("%H:%M"),
            "cohort": "",
            "organiser": "",
            "title": "My new title",
        }
    )
    with scope(programme=programme_a):
        event_save(programme=programme_a, actor=staff_a, data={"title": "Theirs"}, event=event)
    response = client.post(_url("events:edit", event), data)
    assert response.status_code == 409
    assert "Someone else changed this event" in response.content.decode()
    assert "My new title" in response.content.decode()
    with scopes_disabled():
        assert Event.objects.get(pk=event.pk).title == "Theirs"
    retry = client.post(_url("events:edit", event), response.context["form"].data)
    assert retry.status_code == 302


def test_drafts_and_other_programmes_events_are_404(client_for, programme_a, programme_b, fellow_a):
    draft = EventFactory(programme=programme_a, status=Event.Status.DRAFT)
    theirs = EventFactory(programme=programme_b)
    client = client_for(fellow_a)
    assert client.get(_url("events:event", draft)).status_code == 404
    other_url = reverse(
        "events:event", kwargs={"programme_slug": "alpha", "event_uuid": theirs.uuid}
    )
    assert client.get(other_url).status_code == 404
    assert client.post(_url("events:register", draft)).status_code == 404


def test_the_check_in_page_names_the_problem_with_a_code(
    client_for, programme_a, fellow_a, started
):
    event, _ = started
    other = EventFactory(programme=programme_a, title="Another Pit Stop")
    with scope(programme=programme_a):
        wrong = checkin_code(other)
    client = client_for(fellow_a)
    response = client.get(_url("events:checkin", event, code=wrong))
    assert response.status_code == 400 and "another event" in response.content.decode()
    assert client.post(_url("events:checkin", event, code=wrong)).status_code == 400
    with scope(programme=programme_a):
        good = checkin_code(event)
    done = client.post(_url("events:checkin", event, code=good), follow=True)
    assert "You are checked in" in done.content.decode()


def test_staff_see_the_register_mark_attendance_and_export_it(
    client_for, programme_a, staff_a, fellow_a, started
):
    event, _ = started
    registration = RegistrationFactory(event=event, user=fellow_a)
    RegistrationFactory(event=event, user=_fellow(programme_a), status="waitlisted")
    client = client_for(staff_a)
    page = client.get(_url("events:register_list", event))
    assert page.status_code == 200 and fellow_a.email in page.content.decode()
    marked = client.post(
        reverse(
            "events:attendance",
            kwargs={"programme_slug": "alpha", "registration_uuid": registration.uuid},
        ),
        {"attended": "yes"},
        follow=True,
    )
    assert "attended" in marked.content.decode()
    export = client.get(_url("events:register_export", event, fmt="csv"))
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert export["Content-Type"].startswith("text/csv")
    assert {r["Email"]: r["Status"] for r in rows}[fellow_a.email] == "Attended"
    assert len(rows) == 2


def test_the_qr_code_page_shows_an_svg_to_staff_only(
    client_for, programme_a, staff_a, fellow_a, started
):
    event, _ = started
    page = client_for(staff_a).get(_url("events:checkin_code", event))
    assert page.status_code == 200 and "<svg" in page.content.decode()
    assert client_for(fellow_a).get(_url("events:checkin_code", event)).status_code == 403


def test_the_event_list_runs_the_same_queries_whatever_the_number_of_events(
    client_for, programme_a, fellow_a, django_assert_max_num_queries
):
    client = client_for(fellow_a)
    url = reverse("events:list", kwargs={"programme_slug": "alpha"})
    EventFactory(programme=programme_a)
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(12):
        RegistrationFactory(event=EventFactory(programme=programme_a), user=fellow_a)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_home_pages_show_events(client_for, programme_a, staff_a, fellow_a, event):
    RegistrationFactory(event=event, user=fellow_a)
    fellow_home = client_for(fellow_a).get(
        reverse("cohort:home", kwargs={"programme_slug": "alpha"})
    )
    assert "Your next events" in fellow_home.content.decode()
    assert event.title in fellow_home.content.decode()
    staff_home = client_for(staff_a).get(reverse("cohort:home", kwargs={"programme_slug": "alpha"}))
    assert "Coming up" in staff_home.content.decode() and event.title in staff_home.content.decode()


@pytest.mark.postgresql  # a true race needs two connections to a real server
@pytest.mark.django_db(transaction=True)
def test_two_people_racing_for_the_last_place_get_one_place_and_one_waiting(programme_a):
    import threading

    from django.db import connection

    event = EventFactory(programme=programme_a, capacity=1)
    people = [_fellow(programme_a) for _ in range(2)]
    start = threading.Barrier(2, timeout=10)
    results, errors = [], []

    def register(user):
        try:
            start.wait()
            with scope(programme=programme_a):
                results.append(registration_create(event=event, user=user).waitlisted)
        except Exception as error:  # reported below rather than lost in the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(user,)) for user in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert sorted(results) == [False, True]
    with scopes_disabled():
        statuses = sorted(Registration.objects.filter(event=event).values_list("status", flat=True))
    assert statuses == ["registered", "waitlisted"]
