"""Every write of the events app, each in a transaction and each audited: events and their
registrations (the waiting list moves up by itself), attendance and check-in, calendar feeds
and reminders, the resource library and signposted opportunities."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.formats import date_format

from cohort.models import Fellow, Membership, Programme, Role, Sector
from cohort.selectors import fellow_for_user, member_roles
from cohort.services import audit_log
from notifications.models import Kind
from notifications.services import notify
from notifications.webhooks import webhook_emit
from pdp.models import Objective, PDPChange
from pdp.services import evidence_attach_event, evidence_detach_event

from .calendar import event_page_path, time_range
from .models import (
    UK_TIME_ZONE,
    CalendarFeed,
    Event,
    EventDomain,
    EventResource,
    Opportunity,
    OpportunityInterest,
    Registration,
    Resource,
    ResourceObjective,
)
from .selectors import audience_q, live_calendar_feed

# --- events and registration ---------------------------------------------------------------------

# What an attendee is told when these change (and the fields that make up "when" and "where").
WHEN_FIELDS = ["starts_at", "ends_at", "time_zone"]
WHERE_FIELDS = ["is_online", "online_url", "venue_name", "venue_address"]
EVENT_FIELDS = [
    "kind",
    "title",
    "description",
    *WHEN_FIELDS,
    *WHERE_FIELDS,
    "region",
    "capacity",
    "audience",
    "cohort",
    "organiser",
]
# A check-in code shown at the venue works for this long; the page showing it renews itself.
CHECKIN_CODE_MINUTES = 20
# People may check in from an hour before the start until an hour after the end.
CHECKIN_OPENS_BEFORE = timedelta(hours=1)
CHECKIN_CLOSES_AFTER = timedelta(hours=1)
CHECKIN_SALT = "pitwall.events.checkin"
# "22 November 2026 at 14:00" and "13:00 on 22 November 2026" (escaped letters are literal).
AT_FORMAT = r"j F Y \a\t H:i"
ON_FORMAT = r"H:i \o\n j F Y"


class StaleEvent(Exception):
    """Someone else saved the event after this form was opened; nothing was written."""

    def __init__(self, event: Event):
        super().__init__("The event was changed by someone else since you opened it.")
        self.event = event


def _span(starts, ends) -> str:
    text = f"{date_filter(starts, 'l j F Y')}, {date_filter(starts, 'H:i')} to "
    if ends.date() != starts.date():
        text += f"{date_filter(ends, 'l j F Y')}, "
    return text + date_filter(ends, "H:i")


def when_text(event: Event) -> str:
    """ "Tuesday 22 November 2026, 14:00 to 17:00 (UK time)" in the event's own zone, with the
    UK times beside it for an event held in another zone."""
    text = _span(event.local_starts_at, event.local_ends_at)
    if event.time_zone == UK_TIME_ZONE:
        return f"{text} (UK time)"
    uk = ZoneInfo(UK_TIME_ZONE)
    in_uk = _span(timezone.localtime(event.starts_at, uk), timezone.localtime(event.ends_at, uk))
    return f"{text} ({event.time_zone}); in the UK, {in_uk}"


def event_url(event: Event) -> str:
    return settings.SITE_URL + event.get_absolute_url()


def _expected_users(event: Event) -> list:
    return [
        r.user
        for r in event.registrations.filter(status__in=Registration.EXPECTED).select_related("user")
    ]


def _values(event: Event) -> dict:
    return {
        f: getattr(event, f"{f}_id" if f in ("cohort", "organiser") else f) for f in EVENT_FIELDS
    }


def _jsonable(values: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()}


def places_taken(event: Event) -> int:
    return event.registrations.filter(status__in=Registration.HOLDS_PLACE).count()


def event_save(
    *,
    programme: Programme,
    actor,
    data: dict,
    event: Event | None = None,
    version: int | None = None,
    publish: bool = False,
) -> Event:
    """Create or change an event. A change names the version the form started from: if someone
    saved in between, StaleEvent is raised and nothing is written. People registered or waiting
    are told when the time or the place changes; more places move the waiting list up."""
    creating = event is None
    with transaction.atomic():
        if creating:
            event = Event(programme=programme, created_by=actor)
            before = {}
        else:
            event = Event.objects.select_for_update().get(pk=event.pk)
            if version is not None and event.version != version:
                raise StaleEvent(event)
            before = _values(event)
        for field in EVENT_FIELDS:
            if field in data:
                setattr(event, field, data[field])
        if not event.is_online:
            event.online_url = event.online_url or ""
        if publish and event.status == Event.Status.DRAFT:
            event.status = Event.Status.PUBLISHED
        if event.is_cancelled:
            raise ValidationError("A cancelled event cannot be changed.")
        taken = 0 if creating else places_taken(event)
        if event.capacity is not None and event.capacity < taken:
            raise ValidationError(
                {
                    "capacity": f"{taken} people already hold a place: the capacity cannot be "
                    f"less than {taken}. Cancel registrations on the register first."
                }
            )
        event.full_clean(exclude=["programme", "checkin_key", "created_by"])
        if not creating:
            event.version = F("version") + 1
        event.save()
        event.refresh_from_db()
        if "domains" in data:
            _set_links(event, EventDomain, "domain", data["domains"])
        if "resources" in data:
            _set_links(event, EventResource, "resource", data["resources"])
        after = _values(event)
        changed = sorted(k for k in after if before.get(k) != after[k]) if before else []
        audit_log(
            programme=programme,
            actor=actor,
            action="event.created" if creating else "event.changed",
            target=event,
            changes=_jsonable(after if creating else {k: after[k] for k in changed}),
        )
        if publish and (creating or before.get("status") != event.status):
            audit_log(programme=programme, actor=actor, action="event.published", target=event)
        moved = [f for f in WHEN_FIELDS if f in changed]
        relocated = [f for f in WHERE_FIELDS if f in changed]
        if (moved or relocated) and event.status == Event.Status.PUBLISHED:
            what = " and ".join(p for p, flag in [("time", moved), ("place", relocated)] if flag)
            notify(
                programme=programme,
                recipients=_expected_users(event),
                kind=Kind.EVENT,
                title=f"The {what} of “{event.title}” has changed",
                body=f"It is now {when_text(event)}, {event.where}."
                + (f" Joining link: {event.online_url}" if event.is_online else ""),
                link=event.get_absolute_url(),
                actor=actor,
            )
        if not creating and event.status == Event.Status.PUBLISHED:
            _fill_from_waitlist(event, actor=actor)
    return event


def _set_links(event: Event, model, field: str, records) -> None:
    wanted = {r.pk: r for r in records}
    for record in wanted.values():
        if record.programme_id != event.programme_id:
            raise ValidationError({f"{field}s": "Choose from this programme's list."})
    existing = set(model.objects.filter(event=event).values_list(f"{field}_id", flat=True))
    model.objects.filter(event=event).exclude(**{f"{field}_id__in": list(wanted)}).delete()
    model.objects.bulk_create(
        [
            model(programme_id=event.programme_id, event=event, **{field: record})
            for pk, record in wanted.items()
            if pk not in existing
        ]
    )


def event_publish(*, event: Event, actor) -> Event:
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        if event.status != Event.Status.DRAFT:
            raise ValidationError("Only a draft can be published.")
        event.status = Event.Status.PUBLISHED
        event.save(update_fields=["status", "updated_at"])
        audit_log(programme=event.programme, actor=actor, action="event.published", target=event)
    return event


def event_cancel(*, event: Event, actor, reason: str) -> Event:
    """Call the event off: everyone registered or waiting is told, with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the event is cancelled: registrants are told."})
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        if event.is_cancelled:
            raise ValidationError("The event is already cancelled.")
        if event.is_past:
            raise ValidationError("The event has already taken place.")
        event.status = Event.Status.CANCELLED
        event.cancelled_reason = reason
        event.version = F("version") + 1
        event.save(update_fields=["status", "cancelled_reason", "version", "updated_at"])
        event.refresh_from_db()
        audit_log(
            programme=event.programme,
            actor=actor,
            action="event.cancelled",
            target=event,
            changes={"reason": reason},
        )
        notify(
            programme=event.programme,
            recipients=_expected_users(event),
            kind=Kind.EVENT,
            title=f"“{event.title}” is cancelled",
            body=f"It was to take place {when_text(event)}. {reason}",
            link=event.get_absolute_url(),
            actor=actor,
        )
    return event


def may_register(*, event: Event, user) -> bool:
    """Whether the event is meant for this person (its audience and cohort)."""
    roles = member_roles(programme=event.programme, user=user)
    if not roles:
        return False
    return (
        Event.objects.filter(pk=event.pk)
        .filter(audience_q(programme=event.programme, user=user, roles=roles))
        .exists()
    )


@dataclass
class RegistrationResult:
    registration: Registration
    waitlisted: bool
    position: int = 0


def waitlist_position(registration: Registration) -> int:
    if registration.status != Registration.Status.WAITLISTED:
        return 0
    return (
        Registration.objects.filter(
            event_id=registration.event_id, status=Registration.Status.WAITLISTED
        )
        .filter(
            Q(waitlisted_at__lt=registration.waitlisted_at)
            | Q(waitlisted_at=registration.waitlisted_at, pk__lte=registration.pk)
        )
        .count()
    )


def registration_create(*, event: Event, user, now=None) -> RegistrationResult:
    """Take a place, or a place on the waiting list when the event is full (the person is
    told which). The event row is locked so two people can never take the last place."""
    now = now or timezone.now()
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        if event.status == Event.Status.DRAFT:
            raise ValidationError("This event is not open for registration yet.")
        if event.is_cancelled:
            raise ValidationError("This event is cancelled.")
        if event.starts_at <= now:
            raise ValidationError(
                "Registration has closed: this event started on "
                f"{date_filter(event.local_starts_at, AT_FORMAT)}."
            )
        if not may_register(event=event, user=user):
            raise ValidationError("This event is not open to you.")
        registration = Registration.objects.filter(event=event, user=user).first()
        if registration is not None and registration.status == Registration.Status.REGISTERED:
            raise ValidationError("You are already registered for this event.")
        if registration is not None and registration.status == Registration.Status.WAITLISTED:
            raise ValidationError(
                "You are already on the waiting list for this event, at number "
                f"{waitlist_position(registration)}."
            )
        if registration is None:
            registration = Registration(programme=event.programme, event=event, user=user)
        full = event.capacity is not None and places_taken(event) >= event.capacity
        # Someone already waiting keeps their turn: a newcomer joins the end of the list.
        queue = Registration.objects.filter(event=event, status=Registration.Status.WAITLISTED)
        if full or queue.exists():
            registration.status = Registration.Status.WAITLISTED
            registration.waitlisted_at = now
        else:
            registration.status = Registration.Status.REGISTERED
            registration.waitlisted_at = None
        registration.registered_at = now
        registration.cancelled_at = None
        registration.promoted_at = None
        registration.save()
        waitlisted = registration.status == Registration.Status.WAITLISTED
        audit_log(
            programme=event.programme,
            actor=user,
            action="event.waitlisted" if waitlisted else "event.registered",
            target=event,
            changes={"person": str(user.uuid)},
        )
    return RegistrationResult(
        registration=registration,
        waitlisted=waitlisted,
        position=waitlist_position(registration) if waitlisted else 0,
    )


def registration_cancel(*, registration: Registration, actor, now=None) -> Registration:
    """Give up a place (or leave the waiting list). A place given up before the event goes to
    the first person waiting, who is told."""
    now = now or timezone.now()
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=registration.event_id)
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        if registration.status not in Registration.EXPECTED:
            raise ValidationError("You are not registered for this event.")
        if event.starts_at <= now:
            raise ValidationError(
                "The event has started: a registration can no longer be cancelled."
            )
        registration.status = Registration.Status.CANCELLED
        registration.cancelled_at = now
        registration.save(update_fields=["status", "cancelled_at"])
        audit_log(
            programme=event.programme,
            actor=actor,
            action="event.registration_cancelled",
            target=event,
            changes={"person": str(registration.user.uuid)},
        )
        if event.status == Event.Status.PUBLISHED:
            _fill_from_waitlist(event, actor=actor, now=now)
    return registration


def _fill_from_waitlist(event: Event, *, actor, now=None) -> list[Registration]:
    """Move people up the waiting list, first come first served, while places are free.
    Called with the event row locked."""
    now = now or timezone.now()
    if event.starts_at <= now:
        return []
    queue = Registration.objects.filter(
        event=event, status=Registration.Status.WAITLISTED
    ).select_related("user")
    if event.capacity is not None:
        free = event.capacity - places_taken(event)
        if free <= 0:
            return []
        queue = queue.order_by("waitlisted_at", "pk")[:free]
    promoted = list(queue)
    for registration in promoted:
        registration.status = Registration.Status.REGISTERED
        registration.promoted_at = now
        registration.save(update_fields=["status", "promoted_at"])
        audit_log(
            programme=event.programme,
            actor=actor,
            action="event.waitlist_promoted",
            target=event,
            changes={"person": str(registration.user.uuid)},
        )
        notify(
            programme=event.programme,
            recipients=[registration.user],
            kind=Kind.EVENT,
            title=f"A place has come up: you are registered for “{event.title}”",
            body=f"{when_text(event)}, {event.where}. If you can no longer come, cancel your "
            "place so the next person waiting can have it.",
            link=event.get_absolute_url(),
        )
    return promoted


# --- attendance, check-in and PDP evidence ------------------------------------------------------


def _source_key(registration: Registration) -> str:
    return f"registration:{registration.uuid}"


def _attendance_evidence(registration: Registration, *, attended: bool) -> None:
    """Attending becomes evidence in the fellow's PDP, for their objectives in the event's
    domains; a corrected attendance takes it back."""
    fellow = fellow_for_user(programme=registration.programme, user=registration.user)
    if fellow is None:
        return
    if not attended:
        evidence_detach_event(fellow=fellow, source_key=_source_key(registration))
        return
    event = registration.event
    evidence_attach_event(
        fellow=fellow,
        source_key=_source_key(registration),
        title=event.title,
        note=f"{event.get_kind_display()}, {when_text(event)}, {event.where}.",
        url=event_url(event),
        domain_ids=EventDomain.objects.filter(event=event).values_list("domain_id", flat=True),
    )


def attendance_evidence_attach(*, registration: Registration, actor, objective) -> None:
    """The fellow adds an event they attended as evidence for one of their objectives."""
    if registration.status != Registration.Status.ATTENDED:
        raise ValidationError("Only an event you attended can be evidence.")
    fellow = fellow_for_user(programme=registration.programme, user=registration.user)
    if fellow is None or objective.pdp.fellow_id != fellow.pk:
        raise ValidationError({"objective": "Choose one of your own objectives."})
    event = registration.event
    with transaction.atomic():
        added = evidence_attach_event(
            fellow=fellow,
            source_key=_source_key(registration),
            title=event.title,
            note=f"{event.get_kind_display()}, {when_text(event)}, {event.where}.",
            url=event_url(event),
            domain_ids=[],
            objective=objective,
        )
        if not added:
            raise ValidationError({"objective": "It is already evidence for that objective."})


def attendance_mark(*, registration: Registration, actor, attended: bool, now=None):
    """Staff mark who came. Attendance can be marked once the event has started."""
    now = now or timezone.now()
    with transaction.atomic():
        registration = (
            Registration.objects.select_for_update()
            .select_related("event", "user")
            .get(pk=registration.pk)
        )
        event = registration.event
        if event.is_cancelled:
            raise ValidationError("The event was cancelled: there is no attendance to mark.")
        if event.starts_at - CHECKIN_OPENS_BEFORE > now:
            raise ValidationError("Attendance can be marked from an hour before the event starts.")
        if registration.status == Registration.Status.CANCELLED:
            raise ValidationError(f"{registration.user.display_name} cancelled their registration.")
        if registration.status == Registration.Status.WAITLISTED and not attended:
            raise ValidationError(
                f"{registration.user.display_name} is on the waiting list, not registered."
            )
        target = Registration.Status.ATTENDED if attended else Registration.Status.NO_SHOW
        if registration.status == target:
            return registration
        registration.status = target
        registration.attended_at = now if attended else None
        registration.check_in = Registration.CheckIn.STAFF if attended else ""
        registration.checked_in_by = actor if attended else None
        registration.save(update_fields=["status", "attended_at", "check_in", "checked_in_by"])
        audit_log(
            programme=event.programme,
            actor=actor,
            action="event.attended" if attended else "event.no_show",
            target=event,
            changes={"person": str(registration.user.uuid), "via": "staff"},
        )
        _attendance_evidence(registration, attended=attended)
    return registration


class _SignerAt(signing.TimestampSigner):
    """Signs with a given moment rather than now (the demo and tests date their codes)."""

    def __init__(self, *, at, **kwargs):
        super().__init__(**kwargs)
        self.at = at

    def timestamp(self):
        return signing.b62_encode(int(self.at.timestamp()))


def checkin_code(event: Event, *, at=None) -> str:
    """The code behind the QR shown at the venue: signed, naming the event, and timed."""
    payload = {"e": event.uuid.hex, "k": event.checkin_key[:8]}
    if at is None:
        return signing.dumps(payload, salt=CHECKIN_SALT)
    return _SignerAt(at=at, salt=CHECKIN_SALT).sign_object(payload)


def checkin_code_problem(*, event: Event, code: str) -> str | None:
    """Why a scanned code does not check anyone in to this event, or None if it does."""
    try:
        payload = signing.loads(
            code, salt=CHECKIN_SALT, max_age=timedelta(minutes=CHECKIN_CODE_MINUTES)
        )
    except signing.SignatureExpired:
        return (
            "This check-in code has expired. Scan the code on the screen at the venue again: "
            "it changes every few minutes."
        )
    except signing.BadSignature:
        return "This is not a valid check-in code. Scan the code on the screen at the venue."
    if payload.get("e") != event.uuid.hex:
        other = Event.objects.filter(programme=event.programme, uuid=payload.get("e")).first()
        named = f" “{other.title}”" if other else ""
        return f"This code is for another event{named}, not for “{event.title}”."
    if payload.get("k") != event.checkin_key[:8]:
        return "This check-in code has been replaced. Scan the code on the screen at the venue."
    return None


def checkin_window_problem(event: Event, now=None) -> str | None:
    now = now or timezone.now()
    if event.is_cancelled:
        return "This event was cancelled."
    if event.status != Event.Status.PUBLISHED:
        return "This event is not published."
    if now < event.starts_at - CHECKIN_OPENS_BEFORE:
        opens = timezone.localtime(event.starts_at - CHECKIN_OPENS_BEFORE, event.zone)
        return f"Check-in opens at {date_filter(opens, ON_FORMAT)}."
    if now > event.ends_at + CHECKIN_CLOSES_AFTER:
        return "Check-in for this event has closed."
    return None


@dataclass
class CheckInResult:
    registration: Registration
    already: bool
    walk_in: bool


def checkin_with_code(*, event: Event, user, code: str, now=None) -> CheckInResult:
    """The attendee scanned the code at the venue. Someone the event is meant for who did not
    register (or was still waiting) is added to the register as attended: they are there."""
    now = now or timezone.now()
    problem = checkin_code_problem(event=event, code=code) or checkin_window_problem(event, now)
    if problem:
        raise ValidationError(problem)
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        registration = Registration.objects.filter(event=event, user=user).first()
        if registration is not None and registration.status == Registration.Status.ATTENDED:
            return CheckInResult(registration=registration, already=True, walk_in=False)
        holds_place = registration is not None and registration.status in (Registration.HOLDS_PLACE)
        if not holds_place and not may_register(event=event, user=user):
            raise ValidationError("This event is not open to you.")
        walk_in = registration is None or registration.status not in (
            Registration.Status.REGISTERED,
            Registration.Status.NO_SHOW,
        )
        if registration is None:
            registration = Registration(
                programme=event.programme, event=event, user=user, registered_at=now
            )
        registration.status = Registration.Status.ATTENDED
        registration.attended_at = now
        registration.check_in = Registration.CheckIn.QR
        registration.checked_in_by = None
        registration.save()
        audit_log(
            programme=event.programme,
            actor=user,
            action="event.attended",
            target=event,
            changes={"person": str(user.uuid), "via": "qr", "walk_in": walk_in},
        )
        _attendance_evidence(registration, attended=True)
    return CheckInResult(registration=registration, already=False, walk_in=walk_in)


def checkin_codes_replace(*, event: Event, actor) -> Event:
    """Void every code shown so far (a photo of the screen went round)."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        event.checkin_key = secrets.token_hex(16)
        event.save(update_fields=["checkin_key", "updated_at"])
        audit_log(
            programme=event.programme,
            actor=actor,
            action="event.checkin_codes_replaced",
            target=event,
        )
    return event


def register_rows(event: Event):
    """The register: everyone who registered, waited, came or cancelled, in that order."""
    order = {
        Registration.Status.ATTENDED: 0,
        Registration.Status.REGISTERED: 1,
        Registration.Status.NO_SHOW: 2,
        Registration.Status.WAITLISTED: 3,
        Registration.Status.CANCELLED: 4,
    }
    rows = list(
        event.registrations.select_related("user", "checked_in_by").order_by(
            "waitlisted_at", "registered_at", "pk"
        )
    )
    fellows = {
        f.user_id: f
        for f in Fellow.objects.filter(
            programme=event.programme, user__in=[r.user_id for r in rows]
        ).select_related("cohort")
    }
    roles: dict[int, set[str]] = {}
    for user_id, role in Membership.objects.filter(
        programme=event.programme, user__in=[r.user_id for r in rows]
    ).values_list("user_id", "role"):
        roles.setdefault(user_id, set()).add(role)
    for r in rows:
        r.fellow = fellows.get(r.user_id)
        r.role_label = ", ".join(Role(role).label for role in sorted(roles.get(r.user_id, set())))
    rows.sort(key=lambda r: order[r.status])
    return rows


# --- calendars and reminders ---------------------------------------------------------------------
# (Imports are local to this section's functions: the module's head belongs to the events part.)

# A feed's last_read_at is written at most this often: calendar apps poll, and a write per poll
# would turn every read into a write for nothing.
FEED_READ_STAMP_SECONDS = 60
# Registrants are reminded of an event this many hours before it starts (the hourly job runs at
# five past, so "a day before" is accurate to the hour).
REMINDER_HOURS_BEFORE = 24


def _feed_audit(feed, *, actor, action: str, changes=None) -> None:
    # The target is the feed (by its uuid): the secret token never reaches the audit log.
    audit_log(programme=feed.programme, actor=actor, action=action, target=feed, changes=changes)


def calendar_feed_create(*, programme, user):
    """Switch on the person's calendar feed (a new secret address). If one is on already it is
    returned as it is: pressing the button twice never voids an address someone subscribed to."""
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

RESOURCE_FIELDS = [
    "kind",
    "title",
    "summary",
    "url",
    "provider",
    "duration_minutes",
    "credits",
    "credit_level",
]
OPPORTUNITY_FIELDS = [
    "kind",
    "title",
    "summary",
    "organisation",
    "funding",
    "amount",
    "url",
    "opens_on",
    "deadline",
    "eligibility",
    "tags",
    "professions",
    "sectors",
    "stages",
    "regions",
]
MAX_TAGS = 12
MAX_TAG_LENGTH = 40


NOTE_LENGTH = OpportunityInterest._meta.get_field("note").max_length


def _person(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _audit_value(value):
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return str(value)
    return value


def _changed(before: dict, after: dict) -> dict:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _same_programme(programme, value, field: str, message: str) -> None:
    if value is not None and value.programme_id != programme.pk:
        raise ValidationError({field: message})


# --- the resource library ---


def _resource_snapshot(resource: Resource) -> dict:
    return {f: _audit_value(getattr(resource, f)) for f in RESOURCE_FIELDS}


def resource_save(*, programme, actor, data: dict, resource: Resource | None = None) -> Resource:
    """Add a resource to the library or change one, with its competency domains."""
    with transaction.atomic():
        creating = resource is None
        if creating:
            resource = Resource(programme=programme, created_by=_person(actor))
            resource.is_published = bool(data.get("is_published", True))
        before = {} if creating else _resource_snapshot(resource)
        for name in RESOURCE_FIELDS:
            if name in data:
                value = data[name]
                setattr(resource, name, value.strip() if isinstance(value, str) else value)
        _same_programme(
            programme, resource.provider, "provider", "Choose an organisation of this programme."
        )
        domains = list(data.get("domains") or [])
        for domain in domains:
            _same_programme(
                programme, domain, "domains", "Choose domains of this programme's framework."
            )
        resource.full_clean()
        resource.save()
        old_domains = set() if creating else {d.name for d in resource.domains.all()}
        if "domains" in data:
            resource.domains.set(domains, through_defaults={"programme": programme})
        changes = _changed(before, _resource_snapshot(resource))
        new_domains = {d.name for d in domains} if "domains" in data else old_domains
        if new_domains != old_domains:
            changes["domains"] = [sorted(old_domains), sorted(new_domains)]
        if creating or changes:
            audit_log(
                programme=programme,
                actor=actor,
                action="resource.created" if creating else "resource.changed",
                target=resource,
                changes=changes,
            )
    return resource


def resource_set_published(*, resource: Resource, actor, published: bool) -> bool:
    """Publish a resource or take it out of the library (its links to plans stay, hidden);
    True when this changed anything."""
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        if resource.is_published == published:
            return False
        resource.is_published = published
        resource.save(update_fields=["is_published", "updated_at"])
        audit_log(
            programme=resource.programme,
            actor=actor,
            action="resource.published" if published else "resource.unpublished",
            target=resource,
        )
    return True


def _plan_change(objective: Objective, *, actor, action: str, summary: str, resource) -> None:
    """Kept in the plan's own history too: a resource linked is part of the plan's story."""
    PDPChange.objects.create(
        programme=objective.programme,
        pdp=objective.pdp,
        objective=objective,
        actor=_person(actor),
        actor_label=getattr(actor, "display_name", "") or "system",
        action=action,
        summary=summary[:300],
        after={"resource": resource.title},
    )


def resource_link_objective(*, resource: Resource, objective: Objective, actor) -> bool:
    """Link a published resource to a live objective of a plan (the views let only the plan's
    fellow and staff do it). Linking twice changes nothing; True when a link was made."""
    if resource.programme_id != objective.programme_id:
        raise ValidationError("Choose an objective of this programme.")
    if not resource.is_published:
        raise ValidationError("This resource is not in the library, so it cannot be linked.")
    if objective.status == Objective.Status.DROPPED:
        raise ValidationError(
            f"“{objective.title}” was dropped: link resources to objectives you still pursue."
        )
    with transaction.atomic():
        _link, created = ResourceObjective.objects.get_or_create(
            resource=resource,
            objective=objective,
            defaults={"programme": resource.programme, "linked_by": _person(actor)},
        )
        if created:
            audit_log(
                programme=resource.programme,
                actor=actor,
                action="resource.linked",
                target=resource,
                changes={"objective": str(objective.uuid)},
            )
            _plan_change(
                objective,
                actor=actor,
                action="resource.linked",
                summary=f"Linked the resource “{resource.title}” to “{objective.title}”",
                resource=resource,
            )
    return created


def resource_unlink_objective(*, resource: Resource, objective: Objective, actor) -> bool:
    """Remove a resource from an objective; True when there was a link to remove."""
    with transaction.atomic():
        deleted, _ = ResourceObjective.objects.filter(
            programme=resource.programme, resource=resource, objective=objective
        ).delete()
        if deleted:
            audit_log(
                programme=resource.programme,
                actor=actor,
                action="resource.unlinked",
                target=resource,
                changes={"objective": str(objective.uuid)},
            )
            _plan_change(
                objective,
                actor=actor,
                action="resource.unlinked",
                summary=f"Unlinked the resource “{resource.title}” from “{objective.title}”",
                resource=resource,
            )
    return bool(deleted)


# --- signposted opportunities ---


def clean_tags(value) -> list[str]:
    """Tags as typed ("funding, AI, funding") to a tidy list: trimmed, each once whatever its
    case, in the order first given."""
    if isinstance(value, str):
        value = value.split(",")
    tags, seen = [], set()
    for raw in value or []:
        tag = " ".join(str(raw).split())
        if not tag or tag.casefold() in seen:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise ValidationError(
                {"tags": f"Keep each tag to {MAX_TAG_LENGTH} characters: “{tag[:20]}…” is longer."}
            )
        seen.add(tag.casefold())
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationError({"tags": f"Give at most {MAX_TAGS} tags."})
    return tags


def _opportunity_snapshot(opportunity: Opportunity) -> dict:
    return {f: _audit_value(getattr(opportunity, f)) for f in [*OPPORTUNITY_FIELDS, "status"]}


def opportunity_save(
    *, programme, actor, data: dict, opportunity: Opportunity | None = None, via: str = "web"
) -> Opportunity:
    """Signpost an opportunity (as a draft) or change one. The dates must be in order, only
    internships are partner-funded or self-funding, and who it is for comes from the lists."""
    with transaction.atomic():
        creating = opportunity is None
        if creating:
            opportunity = Opportunity(programme=programme, created_by=_person(actor))
        before = {} if creating else _opportunity_snapshot(opportunity)
        for name in OPPORTUNITY_FIELDS:
            if name in data:
                value = data[name]
                setattr(opportunity, name, value.strip() if isinstance(value, str) else value)
        opportunity.tags = clean_tags(opportunity.tags)
        _same_programme(
            programme,
            opportunity.organisation,
            "organisation",
            "Choose an organisation of this programme.",
        )
        if any(s not in Sector.values for s in opportunity.sectors or []):
            raise ValidationError({"sectors": "Choose sectors from the list."})
        opportunity.full_clean()
        opportunity.save()
        changes = _changed(before, _opportunity_snapshot(opportunity))
        if creating or changes:
            audit_log(
                programme=programme,
                actor=actor,
                action="opportunity.created" if creating else "opportunity.changed",
                target=opportunity,
                changes=changes,
                via=via,
            )
    return opportunity


def opportunity_publish(*, opportunity: Opportunity, actor, via: str = "web") -> Opportunity:
    """Show a draft to fellows, or reopen a closed one. One whose deadline has passed is not
    published: it would drop out again at once."""
    with transaction.atomic():
        opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        if opportunity.status == Opportunity.Status.PUBLISHED:
            raise ValidationError("This opportunity is already published.")
        if opportunity.deadline and opportunity.deadline < timezone.localdate():
            raise ValidationError(
                {"deadline": "Its deadline has passed: change the deadline before publishing."}
            )
        reopening = opportunity.status == Opportunity.Status.CLOSED
        opportunity.status = Opportunity.Status.PUBLISHED
        opportunity.closed_at = None
        opportunity.full_clean()
        opportunity.save(update_fields=["status", "closed_at", "updated_at"])
        audit_log(
            programme=opportunity.programme,
            actor=actor,
            action="opportunity.reopened" if reopening else "opportunity.published",
            target=opportunity,
            via=via,
        )
        if via != "api":
            _opportunity_webhook(opportunity, "opportunity.created", reopened=reopening)
    return opportunity


def opportunity_close(
    *, opportunity: Opportunity, actor, reason: str, via: str = "web"
) -> Opportunity:
    """Take an opportunity down before its deadline (filled, withdrawn by the partner), with
    the reason, which the audit log keeps. Fellows' bookmarks and applications stay."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the opportunity is closing."})
    with transaction.atomic():
        opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        if opportunity.status == Opportunity.Status.CLOSED:
            raise ValidationError("This opportunity is already closed.")
        before = opportunity.status
        opportunity.status = Opportunity.Status.CLOSED
        opportunity.closed_at = timezone.now()
        opportunity.save(update_fields=["status", "closed_at", "updated_at"])
        audit_log(
            programme=opportunity.programme,
            actor=actor,
            action="opportunity.closed",
            target=opportunity,
            changes={"status": [before, opportunity.status], "reason": reason},
            via=via,
        )
        # Partners only hear of closing what they could see (a published opportunity).
        if via != "api" and before == Opportunity.Status.PUBLISHED:
            _opportunity_webhook(opportunity, "opportunity.closed")
    return opportunity


def _opportunity_webhook(opportunity: Opportunity, event: str, **extra) -> None:
    """Tell partners' webhooks about an opportunity staff published or closed (issue #8); a
    partner's own posts through the API are not echoed back. The fields are the API's."""
    organisation = opportunity.organisation
    webhook_emit(
        programme=opportunity.programme,
        event=event,
        payload={
            "opportunity": {
                "uuid": str(opportunity.uuid),
                "kind": opportunity.kind,
                "title": opportunity.title,
                "summary": opportunity.summary,
                "organisation": (
                    {"uuid": str(organisation.uuid), "name": organisation.name}
                    if organisation
                    else None
                ),
                "url": opportunity.url,
                "opens_on": opportunity.opens_on,
                "deadline": opportunity.deadline,
                "status": opportunity.status,
                "closed_at": opportunity.closed_at,
            },
            "link": f"/api/v1/opportunities/{opportunity.uuid}/",
            **extra,
        },
    )


def _require_fellow(opportunity: Opportunity, user) -> None:
    if not Fellow.objects.filter(programme=opportunity.programme_id, user=user).exists():
        raise ValidationError(
            "Only fellows bookmark opportunities and record that they have applied."
        )


def _interest_for(opportunity: Opportunity, user) -> OpportunityInterest:
    interest, _ = OpportunityInterest.objects.get_or_create(
        opportunity=opportunity, user=user, defaults={"programme": opportunity.programme}
    )
    return OpportunityInterest.objects.select_for_update().get(pk=interest.pk)


def opportunity_bookmark(*, opportunity: Opportunity, user, bookmarked: bool = True) -> bool:
    """Keep an open opportunity on one's list, or take it off. Idempotent: True only when the
    bookmark changed."""
    _require_fellow(opportunity, user)
    if bookmarked and not opportunity.is_open:
        raise ValidationError("This opportunity is not open, so it cannot be bookmarked.")
    with transaction.atomic():
        if (
            not bookmarked
            and not OpportunityInterest.objects.filter(
                opportunity=opportunity, user=user, bookmarked_at__isnull=False
            ).exists()
        ):
            return False
        interest = _interest_for(opportunity, user)
        if bool(interest.bookmarked_at) == bookmarked:
            return False
        interest.bookmarked_at = timezone.now() if bookmarked else None
        if interest.bookmarked_at is None and interest.applied_at is None and not interest.note:
            interest.delete()
        else:
            interest.save(update_fields=["bookmarked_at"])
        audit_log(
            programme=opportunity.programme,
            actor=user,
            action="opportunity.bookmarked" if bookmarked else "opportunity.unbookmarked",
            target=opportunity,
        )
    return True


def opportunity_record_applied(*, opportunity: Opportunity, user, note: str = "") -> bool:
    """A fellow records that they applied, with an optional note (a reference, who they
    spoke to). Recording it again only updates the note; True the first time."""
    _require_fellow(opportunity, user)
    note = (note or "").strip()
    if len(note) > NOTE_LENGTH:
        raise ValidationError({"note": f"Keep the note to {NOTE_LENGTH} characters."})
    if opportunity.status == Opportunity.Status.DRAFT:
        raise ValidationError("This opportunity is not published yet.")
    with transaction.atomic():
        interest = _interest_for(opportunity, user)
        first = interest.applied_at is None
        if not first and (not note or note == interest.note):
            return False
        if first:
            interest.applied_at = timezone.now()
        if note:
            interest.note = note
        interest.save(update_fields=["applied_at", "note"])
        audit_log(
            programme=opportunity.programme,
            actor=user,
            action="opportunity.applied" if first else "opportunity.applied_note",
            target=opportunity,
            changes={"note": note} if note else {},
        )
    return first


def opportunity_withdraw_applied(*, opportunity: Opportunity, user) -> bool:
    """Undo "I have applied" (a slip of the finger); True when there was one to undo."""
    with transaction.atomic():
        interest = (
            OpportunityInterest.objects.select_for_update()
            .filter(opportunity=opportunity, user=user, applied_at__isnull=False)
            .first()
        )
        if interest is None:
            return False
        interest.applied_at = None
        if interest.bookmarked_at is None:
            interest.delete()
        else:
            interest.save(update_fields=["applied_at"])
        audit_log(
            programme=opportunity.programme,
            actor=user,
            action="opportunity.applied_withdrawn",
            target=opportunity,
        )
    return True
