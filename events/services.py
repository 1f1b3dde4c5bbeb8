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


# --- resources and opportunities -----------------------------------------------------------------
