"""Every write of the events app, each in a transaction and each audited: events and their
registrations (the waiting list moves up by itself), attendance and check-in, calendar feeds
and reminders, the resource library and signposted opportunities."""

from __future__ import annotations

# --- events and registration ---------------------------------------------------------------------


# --- calendars and reminders ---------------------------------------------------------------------
# (Imports are local to this section's functions: the module's head belongs to the events part.)

# A feed's last_read_at is written at most this often: calendar apps poll, and a write per poll
# would turn every read into a write for nothing.
FEED_READ_STAMP_SECONDS = 60
# Registrants are reminded of an event this many hours before it starts (the hourly job runs at
# five past, so "a day before" is accurate to the hour).
REMINDER_HOURS_BEFORE = 24


def _feed_audit(feed, *, actor, action: str, changes=None) -> None:
    from cohort.services import audit_log

    # The target is the feed (by its uuid): the secret token never reaches the audit log.
    audit_log(programme=feed.programme, actor=actor, action=action, target=feed, changes=changes)


def calendar_feed_create(*, programme, user):
    """Switch on the person's calendar feed (a new secret address). If one is on already it is
    returned as it is: pressing the button twice never voids an address someone subscribed to."""
    from django.db import IntegrityError, transaction

    from .models import CalendarFeed
    from .selectors import live_calendar_feed

    existing = live_calendar_feed(programme=programme, user=user)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            feed = CalendarFeed.objects.create(programme=programme, user=user)
            _feed_audit(feed, actor=user, action="calendar_feed.created")
    except IntegrityError:
        # Two requests at once: the partial unique index lets one live feed through.
        return live_calendar_feed(programme=programme, user=user)
    return feed


def _revoke_live(*, programme, user, now):
    """Turn off the person's live feed, locked so that a reset racing a revoke cannot leave
    two live addresses or none that was asked for. Returns the feed turned off, or None."""
    from .models import CalendarFeed

    feed = (
        CalendarFeed.objects.select_for_update()
        .filter(programme=programme, user=user, revoked_at__isnull=True)
        .first()
    )
    if feed is None:
        return None
    CalendarFeed.objects.filter(pk=feed.pk).update(revoked_at=now)
    feed.revoked_at = now
    return feed


def calendar_feed_reset(*, programme, user, now=None):
    """A new secret address for the person's feed; the old one stops working at once (say, it
    was shared by mistake). With no feed on, this simply switches one on."""
    from django.db import transaction
    from django.utils import timezone

    from .models import CalendarFeed

    now = now or timezone.now()
    with transaction.atomic():
        old = _revoke_live(programme=programme, user=user, now=now)
        feed = CalendarFeed.objects.create(programme=programme, user=user, created_at=now)
        _feed_audit(
            feed,
            actor=user,
            action="calendar_feed.reset" if old is not None else "calendar_feed.created",
            changes={"replaces": str(old.uuid)} if old is not None else None,
        )
    return feed


def calendar_feed_revoke(*, programme, user, now=None) -> bool:
    """Turn the person's feed off: its address answers 410 Gone from now on. False if there
    was none to turn off."""
    from django.db import transaction
    from django.utils import timezone

    now = now or timezone.now()
    with transaction.atomic():
        feed = _revoke_live(programme=programme, user=user, now=now)
        if feed is None:
            return False
        _feed_audit(feed, actor=user, action="calendar_feed.revoked")
    return True


def calendar_feed_mark_read(*, feed, now=None) -> bool:
    """Note that a calendar app read the feed. At most one UPDATE a minute per feed: skipped
    outright when the stamp loaded with the feed is fresh, and conditional otherwise, so
    overlapping polls write once. Not audited: it is a read, recorded for the person's page."""
    from datetime import timedelta

    from django.db.models import Q
    from django.utils import timezone

    from .models import CalendarFeed

    now = now or timezone.now()
    stale = now - timedelta(seconds=FEED_READ_STAMP_SECONDS)
    if feed.last_read_at is not None and feed.last_read_at > stale:
        return False
    won = (
        CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True)
        .filter(Q(last_read_at__isnull=True) | Q(last_read_at__lte=stale))
        .update(last_read_at=now)
    )
    if won:
        feed.last_read_at = now
    return bool(won)


def _reminder_message(event, *, now) -> dict:
    """The reminder's title and body, with the time in the event's own zone."""
    from django.utils import timezone
    from django.utils.formats import date_format

    from .calendar import time_range

    start = event.local_starts_at
    today = timezone.localtime(now, event.zone).date()
    if start.date() == today:
        when = f"today at {start:%H:%M}"
    elif (start.date() - today).days == 1:
        when = f"tomorrow at {start:%H:%M}"
    else:  # not reached with a 24-hour window, but never wrong
        when = f"on {date_format(start, 'l j F')} at {start:%H:%M}"
    lines = [f"{event.get_kind_display()}: {time_range(event)}.", f"Where: {event.where}."]
    if event.is_online and event.online_url:
        lines.append(f"Joining link: {event.online_url}")
    lines.append(
        "If you can no longer come, cancel your place on the event page so that someone on "
        "the waiting list can have it."
    )
    return {"title": f"Reminder: {event.title}, {when}", "body": "\n".join(lines)}


def _event_reminder_send(*, programme, registration, event, message: dict) -> bool:
    """Claim the reminder of one registration for the event's start time and send it, in one
    transaction. The claim is a conditional UPDATE of the registration's own row (reminded_for
    IS DISTINCT FROM the start): of two runs at once, the second waits on the row lock, then
    PostgreSQL re-checks the condition against the committed row and updates nothing. (A
    condition through a join would not do: Django writes it as `id IN (subquery)`, and the
    subquery is not re-checked.) If the sender rolls back, the claim goes with it and the next
    run sends the reminder instead."""
    from django.db import transaction
    from django.db.models import Q

    from notifications.models import Kind
    from notifications.services import notify

    from .calendar import event_page_path
    from .models import Event, Registration

    with transaction.atomic():
        # The event as read: moved or cancelled since, nothing is sent now, and a moved one is
        # reminded for its new time on the next run.
        if not Event.objects.filter(
            pk=event.pk, starts_at=event.starts_at, status=Event.Status.PUBLISHED
        ).exists():
            return False
        won = (
            Registration.objects.filter(pk=registration.pk, status=Registration.Status.REGISTERED)
            .filter(Q(reminded_for__isnull=True) | ~Q(reminded_for=event.starts_at))
            .update(reminded_for=event.starts_at)
        )
        if not won:
            return False
        notify(
            programme=programme,
            recipients=[registration.user],
            kind=Kind.REMINDER,
            link=event_page_path(event),
            **message,
        )
    return True


def event_reminders_send(*, programme, now=None) -> int:
    """A day before each event: remind everyone registered (not those waiting or who
    cancelled), once per registration and start time. Events published, not cancelled, starting
    within the next 24 hours and not started yet. Returns how many reminders were sent; the
    reads are two queries however many events and registrations there are."""
    from datetime import timedelta

    from django.db.models import Exists, F, OuterRef, Q
    from django.utils import timezone

    from cohort.models import Membership

    from .models import Event, Registration

    now = now or timezone.now()
    events = {
        event.pk: event
        for event in Event.objects.filter(
            programme=programme,
            status=Event.Status.PUBLISHED,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(hours=REMINDER_HOURS_BEFORE),
        ).select_related("programme")
    }
    if not events:
        return 0
    registrations = list(
        Registration.objects.filter(
            programme=programme, event__in=list(events), status=Registration.Status.REGISTERED
        )
        .filter(Q(reminded_for__isnull=True) | ~Q(reminded_for=F("event__starts_at")))
        # Someone who has left the programme is not reminded of its events.
        .filter(Exists(Membership.objects.filter(programme=programme, user=OuterRef("user"))))
        .select_related("user")
        # Every run claims in the same order, so overlapping runs cannot deadlock.
        .order_by("pk")
    )
    messages = {pk: _reminder_message(event, now=now) for pk, event in events.items()}
    sent = 0
    for registration in registrations:
        event = events[registration.event_id]
        if _event_reminder_send(
            programme=programme,
            registration=registration,
            event=event,
            message=messages[event.pk],
        ):
            sent += 1
    return sent


# --- resources and opportunities -----------------------------------------------------------------
