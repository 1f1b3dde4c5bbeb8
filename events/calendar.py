"""iCalendar (RFC 5545) files: one event's .ics, and a person's calendar feed of the events
they are registered for and their mentor meetings due.

Built with the `icalendar` package. Times are written in the event's own time zone (a TZID and
the matching VTIMEZONE), so a webinar in Europe/Paris stays at 10:00 Paris time whatever zone
the reader's calendar is in. Every entry has a stable UID, and its SEQUENCE grows when the
event changes, so a moved event updates the entry people already have rather than adding one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import icalendar
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify

from .models import Event, Registration

PRODID = "-//Pitwall//Pitwall events and meetings//EN"
UID_DOMAIN = "pitwall"
# How often a subscribed calendar should fetch the feed again (RFC 7986 and Outlook's own).
FEED_REFRESH = timedelta(hours=1)
# The VTIMEZONE of each zone covers the entries' dates with this margin either side.
ZONE_MARGIN = timedelta(days=366)


def event_uid(event: Event) -> str:
    """The entry's identity in people's calendars: the same in the .ics and the feed, forever."""
    return f"{event.uuid}@{UID_DOMAIN}"


def meeting_uid(mentorship, number: int) -> str:
    """One entry per meeting of a mentorship's year: it moves from its due date to the day it
    was held, rather than leaving the due date behind."""
    return f"meeting-{mentorship.uuid}-{number}@{UID_DOMAIN}"


def event_page_path(event: Event) -> str:
    return event.get_absolute_url()


def event_page_url(event: Event) -> str:
    return settings.SITE_URL + event_page_path(event)


def event_ics_path(event: Event) -> str:
    return reverse(
        "events:event_ics",
        kwargs={"programme_slug": event.programme.slug, "event_uuid": event.uuid},
    )


def ics_filename(event: Event) -> str:
    """A filename any system accepts: ASCII letters, digits and hyphens."""
    stem = slugify(event.title)[:60].strip("-") or "event"
    return f"{stem}-{event.local_starts_at:%Y-%m-%d}.ics"


def time_range(event: Event) -> str:
    """'Sunday 22 November 2026, 10:00 to 13:00 (UK time)' in the event's zone."""
    start, end = event.local_starts_at, event.local_ends_at
    text = f"{date_format(start, 'l j F Y')}, {start:%H:%M} to "
    if end.date() != start.date():
        text += f"{date_format(end, 'l j F Y')}, "
    text += f"{end:%H:%M}"
    if event.time_zone == "Europe/London":
        return text + " (UK time)"
    return text + f" ({event.time_zone} time)"


def _event_status(event: Event) -> str:
    if event.status == Event.Status.CANCELLED:
        return "CANCELLED"
    if event.status == Event.Status.DRAFT:
        return "TENTATIVE"  # staff's own copy of an event not yet published
    return "CONFIRMED"


def event_component(
    event: Event,
    *,
    stamp: datetime,
    registration: Registration | None = None,
    with_joining_link: bool = False,
) -> icalendar.Event:
    """The VEVENT of one event. `registration` is the reader's own place, if any (a place on
    the waiting list is marked tentative); the joining link of an online event is written only
    for someone holding a place (or staff), as the event page shows it."""
    waiting = registration is not None and registration.status == Registration.Status.WAITLISTED
    lines = []
    if event.is_cancelled:
        lines.append("This event has been cancelled.")
        if event.cancelled_reason:
            lines.append(event.cancelled_reason)
        lines.append("")
    elif waiting:
        lines += [
            "You are on the waiting list. We will email you if a place comes up.",
            "",
        ]
    lines.append(f"{event.get_kind_display()}: {time_range(event)}")
    lines.append(f"Where: {event.where}")
    if event.is_online and with_joining_link and not event.is_cancelled and event.online_url:
        lines.append(f"Joining link: {event.online_url}")
    if event.description:
        lines += ["", event.description.strip()]
    page = event_page_url(event)
    lines += ["", f"Event page: {page}"]

    status = _event_status(event)
    if status == "CONFIRMED" and waiting:
        status = "TENTATIVE"
    summary = event.title
    if event.is_cancelled:
        summary = f"Cancelled: {summary}"
    elif waiting:
        summary = f"{summary} (waiting list)"

    component = icalendar.Event.new(
        uid=event_uid(event),
        stamp=stamp,
        start=event.local_starts_at,
        end=event.local_ends_at,
        summary=summary,
        description="\n".join(lines),
        location=event.where,
        url=page,
        sequence=event.version,
        status=status,
        created=event.created_at,
        last_modified=event.updated_at,
    )
    # Cancelled and waiting-list entries do not block time in people's diaries.
    component.add("TRANSP", "TRANSPARENT" if status != "CONFIRMED" else "OPAQUE")
    return component


def meeting_components(row: dict, *, viewer, stamp: datetime, year_url: str) -> list:
    """All-day VEVENTs for one mentorship's year (a row of mentoring.selectors.mentorship_rows)
    as `viewer` (its fellow or its mentor) sees it: each meeting not yet signed off on the day
    its window closes, and each meeting held on the day it was held."""
    mentorship = row["mentorship"]
    if mentorship.fellow.user_id == viewer.pk:
        other = mentorship.mentor.user
    else:
        other = mentorship.fellow.user
    name = other.display_name
    components = []
    for item in row["schedule"]:
        number, meeting, state = item["number"], item["meeting"], item["state"]
        if state == "before":
            continue  # its window closed before this mentorship began
        opens, closes = item["opens_on"], item["closes_on"]
        window = f"{date_format(opens, 'j F Y')} to {date_format(closes, 'j F Y')}"
        held_on = meeting.held_on if meeting is not None else None
        if held_on is not None:
            day = held_on
            summary = f"Mentor meeting {number} — with {name}"
            body = [
                f"Meeting {number} of the year with {name}, held on "
                f"{date_format(held_on, 'j F Y')}. The record: {item['state_label'].lower()}.",
                f"Its window: {window}.",
            ]
        elif state == "signed":
            continue  # signed without a date held: nothing to put in a diary
        else:
            day = closes
            summary = f"Mentor meeting {number} due — with {name}"
            body = [
                f"Meeting {number} of the year with {name} is due by "
                f"{date_format(closes, 'j F Y')} (its window: {window}).",
                "Meet, write the record together, and the fellow submits it for the mentor's "
                "sign-off.",
            ]
        body += ["", f"Your year of meetings: {year_url}"]
        component = icalendar.Event.new(
            uid=meeting_uid(mentorship, number),
            stamp=stamp,
            start=day,
            end=day + timedelta(days=1),
            summary=summary,
            description="\n".join(body),
            url=year_url,
            sequence=meeting.version if meeting is not None else 0,
            status="CONFIRMED",
        )
        component.add("TRANSP", "TRANSPARENT")  # a reminder of a date, not a booked slot
        components.append(component)
    return components


def _calendar(components: list, *, name: str | None = None, feed: bool = False) -> bytes:
    calendar = icalendar.Calendar.new(
        prodid=PRODID,
        method="PUBLISH",
        calscale="GREGORIAN",
        name=name,
        refresh_interval=FEED_REFRESH if feed else None,
    )
    # icalendar gives every new calendar a random UID; a file that differs on every download
    # for no reason defeats caches and diffing.
    calendar.pop("UID", None)
    if feed:
        # Outlook reads the refresh hint from this instead (icalendar writes X-WR-CALNAME
        # beside NAME itself).
        calendar.add("X-PUBLISHED-TTL", icalendar.vDuration(FEED_REFRESH).to_ical().decode())
    days = []
    for component in components:
        calendar.add_component(component)
        start = component.start
        days.append(start.date() if isinstance(start, datetime) else start)
    if days:
        # A VTIMEZONE for every TZID used, covering the entries' dates (and a year either
        # side) rather than icalendar's default of 1970 to 2038, which is large.
        calendar.add_missing_timezones(
            first_date=min(days) - ZONE_MARGIN, last_date=max(days) + ZONE_MARGIN
        )
    return calendar.to_ical()


def event_ics(event: Event, *, registration=None, with_joining_link=False) -> bytes:
    """One event, for 'Add to your calendar'."""
    component = event_component(
        event,
        stamp=timezone.now(),
        registration=registration,
        with_joining_link=with_joining_link,
    )
    return _calendar([component])


def feed_ics(*, programme, user, registrations, mentorship_rows, year_urls) -> bytes:
    """A person's feed: their events (a place, or on the waiting list) and mentor meetings."""
    stamp = timezone.now()
    components = [
        event_component(
            registration.event,
            stamp=stamp,
            registration=registration,
            with_joining_link=registration.holds_place,
        )
        for registration in registrations
    ]
    for row in mentorship_rows:
        components += meeting_components(
            row, viewer=user, stamp=stamp, year_url=year_urls[row["mentorship"].pk]
        )
    return _calendar(
        components, name=f"{programme.display_short_name}: your events and meetings", feed=True
    )
