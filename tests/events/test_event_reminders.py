"""Event reminders (issue #6 item 4): a day before an event, each person registered gets one
reminder with the time in the event's zone, where, the joining link and the event's page;
once per registration and start time, however often or concurrently the hourly job runs."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import Membership, Role
from events import services
from events.calendar import event_page_path
from events.models import Event, Registration
from events.services import event_reminders_send
from events.tasks import event_reminders_hourly
from notifications.models import Delivery, Kind, Notification, OutboxMessage
from notifications.services import preference_set

from ..factories import EventFactory, MembershipFactory, RegistrationFactory

pytestmark = pytest.mark.django_db

# A fixed "now" in winter (GMT), on the hour the job runs: five past.
NOW = datetime(2026, 11, 21, 9, 5, tzinfo=ZoneInfo("Europe/London"))


def run(programme, now=NOW) -> int:
    with scope(programme=programme):
        return event_reminders_send(programme=programme, now=now)


def member(programme, role=Role.FELLOW):
    return MembershipFactory(programme=programme, role=role).user


def event_at(programme, starts_at, **kwargs) -> Event:
    return EventFactory(
        programme=programme, starts_at=starts_at, ends_at=starts_at + timedelta(hours=3), **kwargs
    )


def register(event, user=None, **kwargs) -> Registration:
    user = user or member(event.programme)
    with scopes_disabled():
        return RegistrationFactory(event=event, user=user, **kwargs)


def reminders_to(user) -> list[Notification]:
    with scopes_disabled():
        return list(Notification.objects.filter(recipient=user, kind=Kind.REMINDER).order_by("pk"))


def reminded_for(registration):
    with scopes_disabled():
        return Registration.objects.get(pk=registration.pk).reminded_for


def test_a_day_before_each_person_registered_is_reminded(programme_a):
    tomorrow = register(event_at(programme_a, NOW + timedelta(hours=23, minutes=55)))
    starting_soon = register(event_at(programme_a, NOW + timedelta(minutes=30)))
    later = register(event_at(programme_a, NOW + timedelta(hours=24, minutes=55)))
    started = register(event_at(programme_a, NOW - timedelta(minutes=5)))
    assert run(programme_a) == 2
    assert len(reminders_to(tomorrow.user)) == len(reminders_to(starting_soon.user)) == 1
    assert reminders_to(later.user) == reminders_to(started.user) == []
    assert reminded_for(tomorrow) == tomorrow.event.starts_at
    assert reminded_for(later) is None
    # An hour later the next event has come within the day.
    assert run(programme_a, NOW + timedelta(hours=1)) == 1
    assert len(reminders_to(later.user)) == 1


def test_the_reminder_says_when_in_the_events_zone_where_and_how_to_join(programme_a):
    paris = ZoneInfo("Europe/Paris")
    starts = datetime(2026, 11, 22, 10, 0, tzinfo=paris)  # 09:00 in London
    webinar = event_at(
        programme_a,
        starts,
        kind="webinar",
        title="CE marking explained",
        time_zone="Europe/Paris",
        is_online=True,
        online_url="https://meet.example.org/ce",
        venue_name="",
        venue_address="",
    )
    pit_stop = event_at(programme_a, NOW + timedelta(hours=5), title="Pit Stop Leeds")
    online, in_person = register(webinar), register(pit_stop)

    assert run(programme_a) == 2

    (reminder,) = reminders_to(online.user)
    assert reminder.title == "Reminder: CE marking explained, tomorrow at 10:00"
    assert "Webinar: Sunday 22 November 2026, 10:00 to 13:00 (Europe/Paris time)." in reminder.body
    assert "Where: Online." in reminder.body
    assert "Joining link: https://meet.example.org/ce" in reminder.body
    with scopes_disabled():
        assert reminder.link == event_page_path(webinar)
    (reminder,) = reminders_to(in_person.user)
    assert reminder.title == "Reminder: Pit Stop Leeds, today at 14:05"
    assert "Saturday 21 November 2026, 14:05 to 17:05 (UK time)." in reminder.body
    assert "Where: Wellcome Collection, 183 Euston Road, London NW1 2BE." in reminder.body
    assert "Joining link" not in reminder.body


def test_each_reminder_is_written_to_the_email_outbox(programme_a):
    event = event_at(programme_a, NOW + timedelta(hours=20), title="Networking evening")
    wants_email, in_app_only = register(event), register(event)
    with scope(programme=programme_a):
        preference_set(
            programme=programme_a,
            user=in_app_only.user,
            kind=Kind.REMINDER,
            delivery=Delivery.IN_APP,
        )
    assert run(programme_a) == 2
    with scopes_disabled():
        outbox = list(OutboxMessage.objects.filter(kind=Kind.REMINDER))
    assert [(m.recipient, m.to_email) for m in outbox] == [
        (wants_email.user, wants_email.user.email)
    ]
    assert "Reminder: Networking evening, tomorrow at" in outbox[0].subject
    assert outbox[0].status == OutboxMessage.Status.PENDING
    assert "Where: Wellcome Collection" in outbox[0].body_text
    assert len(reminders_to(in_app_only.user)) == 1


def test_a_reminder_is_sent_once_however_often_the_job_runs(programme_a):
    registration = register(event_at(programme_a, NOW + timedelta(hours=10)))
    assert run(programme_a) == 1
    assert run(programme_a) == 0
    assert run(programme_a, NOW + timedelta(hours=1)) == 0
    assert len(reminders_to(registration.user)) == 1


def test_a_moved_event_is_reminded_again_for_its_new_time(programme_a):
    event = event_at(programme_a, NOW + timedelta(hours=10))
    registration = register(event)
    assert run(programme_a) == 1
    new_start = event.starts_at + timedelta(hours=3)
    with scopes_disabled():
        Event.objects.filter(pk=event.pk).update(
            starts_at=new_start, ends_at=new_start + timedelta(hours=3), version=2
        )
    assert run(programme_a) == 1
    assert reminded_for(registration) == new_start
    titles = [n.title for n in reminders_to(registration.user)]
    assert len(titles) == 2 and titles[0] != titles[1]
    assert run(programme_a) == 0


def test_only_people_registered_for_a_published_event_are_reminded(programme_a):
    soon = NOW + timedelta(hours=6)
    event = event_at(programme_a, soon)
    waiting = register(event, status="waitlisted")
    cancelled = register(event, status="cancelled")
    registered = register(event)
    called_off = register(event_at(programme_a, soon, status="cancelled"))
    draft = register(event_at(programme_a, soon, status="draft"))
    assert run(programme_a) == 1
    assert len(reminders_to(registered.user)) == 1
    for registration in (waiting, cancelled, called_off, draft):
        assert reminders_to(registration.user) == []
        assert reminded_for(registration) is None


def test_someone_who_left_the_programme_is_not_reminded(programme_a):
    registration = register(event_at(programme_a, NOW + timedelta(hours=6)))
    with scopes_disabled():
        Membership.objects.filter(user=registration.user).delete()
    assert run(programme_a) == 0


def test_a_run_that_read_before_another_committed_sends_nothing_twice(programme_a):
    event = event_at(programme_a, NOW + timedelta(hours=6))
    registration = register(event)
    with scope(programme=programme_a):
        message = {"title": "Reminder", "body": ""}
        first = services._event_reminder_send(
            programme=programme_a, registration=registration, event=event, message=message
        )
        # The second run read the registration before the first claimed it.
        second = services._event_reminder_send(
            programme=programme_a, registration=registration, event=event, message=message
        )
    assert (first, second) == (True, False)
    assert len(reminders_to(registration.user)) == 1


def test_an_event_moved_after_the_run_read_it_is_not_reminded_for_the_old_time(programme_a):
    event = event_at(programme_a, NOW + timedelta(hours=6))
    registration = register(event)
    with scopes_disabled():
        Event.objects.filter(pk=event.pk).update(
            starts_at=event.starts_at + timedelta(days=2), ends_at=event.ends_at + timedelta(days=2)
        )
    with scope(programme=programme_a):
        sent = services._event_reminder_send(
            programme=programme_a,
            registration=registration,
            event=event,  # as read, before the move
            message={"title": "Reminder", "body": ""},
        )
    assert sent is False and reminded_for(registration) is None


@pytest.mark.postgresql  # a true race needs two connections to a real server
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once(programme_a, monkeypatch):
    event = event_at(programme_a, NOW + timedelta(hours=6))
    registrations = [register(event) for _ in range(4)]
    runs = 2
    both_read = threading.Barrier(runs, timeout=10)
    send, attempts = services._event_reminder_send, []

    def wait_then_send(**kwargs):
        if kwargs["registration"].pk == registrations[0].pk:
            both_read.wait()  # both runs have read every registration as not yet reminded
        attempts.append(send(**kwargs))
        return attempts[-1]

    monkeypatch.setattr(services, "_event_reminder_send", wait_then_send)
    results, errors = [], []

    def one_run():
        try:
            results.append(run(programme_a))
        except Exception as error:  # reported below rather than lost in the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=one_run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors and not any(t.is_alive() for t in threads)
    assert sum(results) == 4
    assert sorted(attempts) == [False] * 4 + [True] * 4
    with scopes_disabled():
        assert Notification.objects.filter(kind=Kind.REMINDER).count() == 4


def test_the_reads_of_a_run_do_not_grow_with_the_number_of_events(programme_a):
    def add(events, people):
        for _ in range(events):
            event = event_at(programme_a, NOW + timedelta(hours=6))
            for _ in range(people):
                register(event)
        run(programme_a)  # sends them their reminders

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert run(programme_a) == 0
        return len(context)

    add(1, 2)
    few = queries()
    add(3, 4)
    assert queries() == few == 2  # the events within the day, the registrations not reminded


def test_the_hourly_task_runs_each_programme_in_its_own_scope(
    programme_a, programme_b, settings, monkeypatch
):
    soon = timezone.now() + timedelta(hours=3)
    in_a = register(event_at(programme_a, soon))
    in_b = register(event_at(programme_b, soon))
    assert event_reminders_hourly.apply().get() == 2
    assert [n.programme_id for n in reminders_to(in_a.user)] == [programme_a.pk]
    assert [n.programme_id for n in reminders_to(in_b.user)] == [programme_b.pk]
    assert event_reminders_hourly.apply().get() == 0

    beat = settings.CELERY_BEAT_SCHEDULE["event-reminders"]
    assert beat["task"] == event_reminders_hourly.name == "events.tasks.event_reminders_hourly"
    assert beat["schedule"].minute == {5}
    assert beat["schedule"].hour == set(range(24))
