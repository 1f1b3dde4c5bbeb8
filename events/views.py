"""Pages of the events app: events and their registers, check-in, calendars, the resource
library and opportunities."""

from datetime import timedelta
from urllib.parse import urlencode

import segno
import tablib
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)
from django_scopes import scope

from cohort.importing import spreadsheet_safe
from cohort.models import (
    AuditEvent,
    NHSRegion,
    Organisation,
    Profession,
    Role,
    Sector,
    VentureStage,
)
from cohort.selectors import fellow_for_user, member_roles
from cohort.services import audit_log
from cohort.views import ensure_errors_shown, role_required
from mentoring.selectors import mentorship_rows
from pdp.access import OWNER, relations_to
from pdp.access import STAFF as PLAN_STAFF
from pdp.models import CompetencyDomain, Objective

from . import calendar as calendar_ics
from . import selectors as library
from .forms import (
    AppliedForm,
    CloseOpportunityForm,
    EventCancelForm,
    EventFilterForm,
    EventForm,
    EvidenceObjectiveForm,
    OpportunityFilterForm,
    OpportunityForm,
    RegisterFilterForm,
    ResourceFilterForm,
    ResourceForm,
)
from .models import Event, Opportunity, Registration, Resource, ResourceObjective
from .selectors import (
    calendar_feed_by_token,
    event_counts,
    feed_mentorships,
    feed_registrations,
    live_calendar_feed,
    visible_events,
)
from .services import (
    CHECKIN_CODE_MINUTES,
    CHECKIN_OPENS_BEFORE,
    StaleEvent,
    attendance_evidence_attach,
    attendance_mark,
    calendar_feed_create,
    calendar_feed_mark_read,
    calendar_feed_reset,
    calendar_feed_revoke,
    checkin_code,
    checkin_code_problem,
    checkin_codes_replace,
    checkin_window_problem,
    checkin_with_code,
    event_cancel,
    event_publish,
    event_save,
    opportunity_bookmark,
    opportunity_close,
    opportunity_publish,
    opportunity_record_applied,
    opportunity_save,
    opportunity_withdraw_applied,
    places_taken,
    register_rows,
    registration_cancel,
    registration_create,
    resource_link_objective,
    resource_save,
    resource_set_published,
    resource_unlink_objective,
    waitlist_position,
    when_text,
)

# --- events and registration ---------------------------------------------------------------------

PAGE_SIZE = 20


def _event_or_404(request, event_uuid) -> Event:
    """An event this member may see; any other is a 404, as if it did not exist."""
    return get_object_or_404(
        visible_events(
            programme=request.programme, user=request.user, roles=request.roles
        ).select_related("organiser", "cohort", "programme"),
        uuid=event_uuid,
    )


@require_GET
def event_list_view(request, programme_slug):
    """Upcoming events by default; filters for past ones, kind, region and online."""
    programme = request.programme
    is_staff = Role.STAFF in request.roles
    form = EventFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = visible_events(programme=programme, user=request.user, roles=request.roles)
    now = timezone.now()
    when = filters.get("when", "")
    if when == "past":
        events = events.filter(ends_at__lte=now).order_by("-starts_at", "-pk")
    elif when == "all":
        events = events.order_by("-starts_at", "-pk")
    else:
        events = events.filter(ends_at__gt=now).order_by("starts_at", "pk")
    if filters.get("kind"):
        events = events.filter(kind=filters["kind"])
    if filters.get("region"):
        events = events.filter(region=filters["region"])
    if filters.get("format") == "online":
        events = events.filter(is_online=True)
    elif filters.get("format") == "in_person":
        events = events.filter(is_online=False)
    if filters.get("mine"):
        events = events.filter(
            registrations__user=request.user,
            registrations__status__in=[*Registration.HOLDS_PLACE, Registration.Status.WAITLISTED],
        )
    events = event_counts(events.select_related("organiser", "programme"))
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    mine = {
        r.event_id: r
        for r in Registration.objects.filter(
            programme=programme, user=request.user, event__in=[e.pk for e in page]
        )
    }
    for event in page:
        event.my_registration = mine.get(event.pk)
        event.places_left = (
            None if event.capacity is None else max(event.capacity - event.places_taken, 0)
        )
    querystring = urlencode({k: v for k, v in request.GET.items() if k != "page" and v})
    return TemplateResponse(
        request,
        "events/event_list.html",
        {
            "form": form,
            "page": page,
            "events": page.object_list,
            "querystring": querystring,
            "is_staff": is_staff,
            "showing_past": when == "past",
        },
    )


@require_GET
def event_detail_view(request, programme_slug, event_uuid):
    event = _event_or_404(request, event_uuid)
    registration = Registration.objects.filter(event=event, user=request.user).first()
    taken = places_taken(event)
    waiting = event.registrations.filter(status=Registration.Status.WAITLISTED).count()
    is_staff = Role.STAFF in request.roles
    context = {
        "event": event,
        "when": when_text(event),
        "registration": registration,
        "position": waitlist_position(registration) if registration else 0,
        "taken": taken,
        "waiting": waiting,
        "places_left": None if event.capacity is None else max(event.capacity - taken, 0),
        "is_staff": is_staff,
        "domains": list(event.domains.all()),
        "can_register": event.status == Event.Status.PUBLISHED
        and not event.has_started
        and (registration is None or registration.status not in Registration.EXPECTED),
        "show_joining_link": event.is_online
        and (is_staff or (registration is not None and registration.holds_place)),
    }
    if registration and registration.status == Registration.Status.ATTENDED:
        fellow = fellow_for_user(programme=request.programme, user=request.user)
        if fellow is not None:
            context["evidence_form"] = EvidenceObjectiveForm(objectives=_own_objectives(fellow))
    return TemplateResponse(request, "events/event_detail.html", context)


def _own_objectives(fellow):
    return Objective.objects.filter(programme=fellow.programme, pdp__fellow=fellow).exclude(
        status=Objective.Status.DROPPED
    )


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def event_edit_view(request, programme_slug, event_uuid=None):
    """Staff write an event; save as a draft, or publish it."""
    programme = request.programme
    event = None
    if event_uuid is not None:
        event = get_object_or_404(Event, programme=programme, uuid=event_uuid)
        if event.is_cancelled:
            messages.error(request, "A cancelled event cannot be changed.")
            return redirect(event.get_absolute_url())
    status = 200
    conflict = None
    if request.method == "POST":
        form = EventForm(request.POST, programme=programme)
        if form.is_valid():
            publish = "publish" in request.POST
            try:
                saved = event_save(
                    programme=programme,
                    actor=request.user,
                    data=form.event_data(),
                    event=event,
                    version=form.cleaned_data.get("version"),
                    publish=publish,
                )
            except StaleEvent as stale:
                conflict = stale.event
                status = 409
                # Keep what this person typed, now against the version stored, so saving
                # again (after checking the other version shown) goes through.
                data = request.POST.copy()
                data["version"] = conflict.version
                form = EventForm(data, programme=programme)
                form.is_valid()
                form.add_error(
                    None,
                    "Someone else changed this event since you opened it. Their version is "
                    "shown below and your changes are still in the form: check both, then "
                    "save again.",
                )
            except ValidationError as error:
                ensure_errors_shown(form, error)
                status = 400
            else:
                if event is None:
                    messages.success(
                        request,
                        f"“{saved.title}” is published."
                        if saved.status == Event.Status.PUBLISHED
                        else f"“{saved.title}” is saved as a draft: only staff can see it.",
                    )
                else:
                    messages.success(request, f"Your changes to “{saved.title}” are saved.")
                return redirect(saved.get_absolute_url())
        else:
            status = 400
    else:
        initial = EventForm.initial_for(event) if event else {}
        form = EventForm(initial=initial, programme=programme)
    return TemplateResponse(
        request,
        "events/event_form.html",
        {"form": form, "event": event, "conflict": conflict},
        status=status,
    )


@role_required(Role.STAFF)
@require_POST
def event_publish_view(request, programme_slug, event_uuid):
    event = get_object_or_404(Event, programme=request.programme, uuid=event_uuid)
    try:
        event_publish(event=event, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"“{event.title}” is published.")
    return redirect(event.get_absolute_url())


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def event_cancel_view(request, programme_slug, event_uuid):
    event = get_object_or_404(Event, programme=request.programme, uuid=event_uuid)
    status = 200
    if request.method == "POST":
        form = EventCancelForm(request.POST)
        if form.is_valid():
            try:
                event_cancel(event=event, actor=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                ensure_errors_shown(form, error)
                status = 400
            else:
                messages.success(
                    request, f"“{event.title}” is cancelled. Everyone registered has been told."
                )
                return redirect(event.get_absolute_url())
        else:
            status = 400
    else:
        form = EventCancelForm()
    expected = event.registrations.filter(status__in=Registration.EXPECTED).count()
    return TemplateResponse(
        request,
        "events/event_cancel.html",
        {"event": event, "form": form, "expected": expected, "when": when_text(event)},
        status=status,
    )


@require_POST
def register_view(request, programme_slug, event_uuid):
    event = _event_or_404(request, event_uuid)
    try:
        result = registration_create(event=event, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if result.waitlisted:
            messages.warning(
                request,
                f"“{event.title}” is full, so you are on the waiting list, at number "
                f"{result.position}. If a place comes up it is yours, and we will tell you.",
            )
        else:
            messages.success(request, f"You are registered for “{event.title}”.")
    return redirect(event.get_absolute_url())


@require_POST
def unregister_view(request, programme_slug, event_uuid):
    event = _event_or_404(request, event_uuid)
    registration = Registration.objects.filter(event=event, user=request.user).first()
    if registration is None:
        messages.error(request, "You are not registered for this event.")
        return redirect(event.get_absolute_url())
    was_waiting = registration.status == Registration.Status.WAITLISTED
    try:
        registration_cancel(registration=registration, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"You have left the waiting list for “{event.title}”."
            if was_waiting
            else f"Your place at “{event.title}” is cancelled.",
        )
    return redirect(event.get_absolute_url())


@role_required(Role.STAFF)
@require_GET
def register_list_view(request, programme_slug, event_uuid):
    """The register: who registered, waits, came or cancelled, with attendance buttons."""
    event = get_object_or_404(Event, programme=request.programme, uuid=event_uuid)
    form = RegisterFilterForm(request.GET or None)
    chosen = form.cleaned_data.get("status") if form.is_valid() else ""
    rows = register_rows(event)
    counts = {status: 0 for status in Registration.Status.values}
    for row in rows:
        counts[row.status] += 1
    if chosen:
        rows = [r for r in rows if r.status == chosen]
    return TemplateResponse(
        request,
        "events/register_list.html",
        {
            "event": event,
            "when": when_text(event),
            "rows": rows,
            "counts": counts,
            "form": form,
            "can_mark": not event.is_cancelled
            and event.starts_at - CHECKIN_OPENS_BEFORE <= timezone.now(),
        },
    )


EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@role_required(Role.STAFF)
@require_GET
def register_export_view(request, programme_slug, event_uuid, fmt):
    event = get_object_or_404(Event, programme=request.programme, uuid=event_uuid)
    if fmt not in EXPORT_TYPES:
        raise Http404("No such format.")
    dataset = tablib.Dataset(
        headers=[
            "Name",
            "Email",
            "Role",
            "Profession",
            "Cohort",
            "Status",
            "Registered",
            "Attended",
            "Checked in",
        ]
    )
    for row in register_rows(event):
        dataset.append(
            [
                spreadsheet_safe(row.user.display_name),
                spreadsheet_safe(row.user.email),
                row.role_label,
                row.fellow.get_profession_display() if row.fellow else "",
                spreadsheet_safe(row.fellow.cohort.name) if row.fellow else "",
                row.get_status_display(),
                timezone.localtime(row.registered_at).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(row.attended_at).strftime("%Y-%m-%d %H:%M")
                if row.attended_at
                else "",
                row.get_check_in_display(),
            ]
        )
    audit_log(
        programme=request.programme,
        actor=request.user,
        action="event.register_exported",
        target=event,
        changes={"rows": dataset.height, "format": fmt},
    )
    content = dataset.export(fmt)
    if isinstance(content, str):
        content = content.encode("utf-8-sig")
    response = HttpResponse(content, content_type=EXPORT_TYPES[fmt])
    name = slugify(event.title)[:60] or "event"
    stamp = event.local_starts_at.strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="register-{stamp}-{name}.{fmt}"'
    return response


@role_required(Role.STAFF)
@require_POST
def attendance_view(request, programme_slug, registration_uuid):
    registration = get_object_or_404(
        Registration.objects.select_related("event", "user"),
        programme=request.programme,
        uuid=registration_uuid,
    )
    attended = request.POST.get("attended") == "yes"
    try:
        attendance_mark(registration=registration, actor=request.user, attended=attended)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"{registration.user.display_name} "
            + ("attended." if attended else "is marked as not attending."),
        )
    url = reverse(
        "events:register_list",
        kwargs={"programme_slug": programme_slug, "event_uuid": registration.event.uuid},
    )
    # Back to the list the person was working through (say, only those registered).
    shown = request.POST.get("return_status", "")
    return redirect(url + (f"?status={shown}" if shown in Registration.Status.values else ""))


@require_POST
def attendance_evidence_view(request, programme_slug, registration_uuid):
    """The fellow adds an event they attended to one of their objectives as evidence."""
    registration = get_object_or_404(
        Registration.objects.select_related("event"),
        programme=request.programme,
        uuid=registration_uuid,
        user=request.user,
    )
    fellow = fellow_for_user(programme=request.programme, user=request.user)
    if fellow is None:
        raise Http404("Only fellows have a plan.")
    form = EvidenceObjectiveForm(request.POST, objectives=_own_objectives(fellow))
    if form.is_valid():
        try:
            attendance_evidence_attach(
                registration=registration,
                actor=request.user,
                objective=form.cleaned_data["objective"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"“{registration.event.title}” is now evidence for "
                f"“{form.cleaned_data['objective'].title}” in your plan.",
            )
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(registration.event.get_absolute_url())


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def checkin_code_view(request, programme_slug, event_uuid):
    """The QR code staff show at the venue. It changes every few minutes (the page renews
    itself with JavaScript, or with the button without it)."""
    event = get_object_or_404(Event, programme=request.programme, uuid=event_uuid)
    if request.method == "POST":
        event = checkin_codes_replace(event=event, actor=request.user)
        messages.success(request, "Every code shown before no longer works. Show this one.")
        return redirect(request.path)
    problem = checkin_window_problem(event)
    code = checkin_code(event)
    url = request.build_absolute_uri(
        reverse(
            "events:checkin",
            kwargs={"programme_slug": programme_slug, "event_uuid": event.uuid, "code": code},
        )
    )
    qr = segno.make(url, error="m")
    svg = qr.svg_inline(scale=6, title=f"Check-in code for {event.title}", omitsize=True)
    return TemplateResponse(
        request,
        "events/checkin_code.html",
        {
            "event": event,
            "when": when_text(event),
            "qr_svg": svg,
            "checkin_url": url,
            "problem": problem,
            "minutes": CHECKIN_CODE_MINUTES,
            "refresh_seconds": 240,
            "valid_until": timezone.localtime(
                timezone.now() + timedelta(minutes=CHECKIN_CODE_MINUTES), event.zone
            ),
        },
    )


@require_http_methods(["GET", "POST"])
def checkin_view(request, programme_slug, event_uuid, code):
    """Where the QR code at the venue leads: confirm, and you are checked in."""
    event = get_object_or_404(Event, programme=request.programme, uuid=event_uuid)
    problem = checkin_code_problem(event=event, code=code) or checkin_window_problem(event)
    registration = Registration.objects.filter(event=event, user=request.user).first()
    if request.method == "POST" and not problem:
        try:
            result = checkin_with_code(event=event, user=request.user, code=code)
        except ValidationError as error:
            problem = " ".join(error.messages)
        else:
            if result.already:
                messages.info(request, f"You were already checked in to “{event.title}”.")
            elif result.walk_in:
                messages.success(
                    request,
                    f"You are checked in to “{event.title}”. You had not registered, so we "
                    "have added you to the register.",
                )
            else:
                messages.success(request, f"You are checked in to “{event.title}”. Welcome.")
            return redirect(event.get_absolute_url())
    visible = (
        visible_events(programme=request.programme, user=request.user, roles=request.roles)
        .filter(pk=event.pk)
        .exists()
    )
    if not visible and Role.STAFF not in request.roles:
        raise Http404("No such event.")
    return TemplateResponse(
        request,
        "events/checkin.html",
        {
            "event": event,
            "when": when_text(event),
            "problem": problem,
            "registration": registration,
            "code": code,
        },
        status=400 if problem else 200,
    )


# --- calendars -----------------------------------------------------------------------------------

ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"


def _private(response):
    # Personal data behind a secret or a session: never kept by a shared cache or indexed.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _ics_response(body: bytes, *, filename: str | None = None):
    response = HttpResponse(body, content_type=ICS_CONTENT_TYPE)
    if filename:
        response["Content-Disposition"] = content_disposition_header(True, filename)
    return _private(response)


def _text_response(message: str, *, status: int):
    return _private(
        HttpResponse(message + "\n", content_type="text/plain; charset=utf-8", status=status)
    )


@require_safe
def event_ics_view(request, programme_slug, event_uuid):
    """One event as an .ics file, for any member who may see the event (404 for anyone else,
    the same as for an event that does not exist)."""
    event = get_object_or_404(
        visible_events(
            programme=request.programme, user=request.user, roles=request.roles
        ).select_related("programme"),
        uuid=event_uuid,
    )
    registration = Registration.objects.filter(event=event, user=request.user).first()
    body = calendar_ics.event_ics(
        event,
        registration=registration,
        # The joining link is for those holding a place, and staff, as on the event page.
        with_joining_link=Role.STAFF in request.roles
        or (registration is not None and registration.holds_place),
    )
    return _ics_response(body, filename=calendar_ics.ics_filename(event))


def _webcal(url: str) -> str:
    """The same address for calendar apps that subscribe when a webcal:// link is opened."""
    return "webcal://" + url.split("://", 1)[1]


@require_safe
def calendar_view(request, programme_slug):
    """The person's calendar feed: what it carries, its private address and how to add it to
    Outlook, Google Calendar or Apple Calendar; switch it on, get a new address, or turn it off."""
    feed = live_calendar_feed(programme=request.programme, user=request.user)
    context = {
        "feed": feed,
        "has_meetings": bool(request.roles & {Role.FELLOW, Role.MENTOR}),
    }
    if feed is not None:
        url = feed.get_feed_url()
        context.update(feed_url=url, webcal_url=_webcal(url))
    return _private(TemplateResponse(request, "events/calendar.html", context))


def _back_to_calendar(programme_slug):
    return redirect("events:calendar", programme_slug=programme_slug)


@require_POST
def calendar_create_view(request, programme_slug):
    calendar_feed_create(programme=request.programme, user=request.user)
    messages.success(request, "Your calendar feed is on. Add its address to your calendar app.")
    return _back_to_calendar(programme_slug)


@require_POST
def calendar_reset_view(request, programme_slug):
    calendar_feed_reset(programme=request.programme, user=request.user)
    messages.success(
        request,
        "Your calendar feed has a new address and the old one no longer works. Replace the "
        "subscription in your calendar app with the new address.",
    )
    return _back_to_calendar(programme_slug)


@require_POST
def calendar_revoke_view(request, programme_slug):
    if calendar_feed_revoke(programme=request.programme, user=request.user):
        messages.success(
            request,
            "Your calendar feed is off and its address no longer works. Remove the "
            "subscription from your calendar app.",
        )
    else:
        messages.info(request, "Your calendar feed was already off.")
    return _back_to_calendar(programme_slug)


@require_safe
def calendar_feed_view(request, token):
    """A person's calendar feed, fetched by their calendar app with no session: the secret
    token in the address is the credential. It names the programme, and everything after the
    lookup runs inside that programme's scope. A fixed number of queries whatever it holds."""
    feed = calendar_feed_by_token(token)
    if feed is None:
        return _text_response("There is no calendar at this address.", status=404)
    programme, user = feed.programme, feed.user
    if not feed.is_live:
        return _text_response(
            "This calendar address has been turned off, or replaced by a new one. To "
            f"subscribe again, sign in at {settings.SITE_URL}/ and open 'Your calendar' in "
            f"{programme.name} for a new address.",
            status=410,
        )
    with scope(programme=programme):
        # Someone who has left the programme (or whose account was closed) loses the feed too.
        if not user.is_active or not member_roles(programme=programme, user=user):
            return _text_response("There is no calendar at this address.", status=404)
        calendar_feed_mark_read(feed=feed)
        registrations = feed_registrations(programme=programme, user=user)
        mentorships = feed_mentorships(programme=programme, user=user)
        rows = mentorship_rows(mentorships) if mentorships else []
        year_urls = {
            m.pk: settings.SITE_URL
            + reverse(
                "mentoring:mentorship_year",
                kwargs={"programme_slug": programme.slug, "mentorship_uuid": m.uuid},
            )
            for m in mentorships
        }
        body = calendar_ics.feed_ics(
            programme=programme,
            user=user,
            registrations=registrations,
            mentorship_rows=rows,
            year_urls=year_urls,
        )
    return _ics_response(body)


# --- resources and opportunities -----------------------------------------------------------------

LIBRARY_PAGE_SIZE = 20


def _library_querystring(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _library_next(request, default: str) -> str:
    """Where a small action returns: the page it was taken on (the list, the plan, the home
    page) when that is a page of this programme, else the record's own page."""
    target = request.POST.get("next", "")
    # Printable only: a line break smuggled into the address would split the redirect header.
    safe = target.isprintable() and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe and target.startswith(f"/p/{request.programme.slug}/") else default


def _library_error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _resource_url(request, resource) -> str:
    return reverse(
        "events:resource",
        kwargs={"programme_slug": request.programme.slug, "resource_uuid": resource.uuid},
    )


def _opportunity_url(request, opportunity) -> str:
    return reverse(
        "events:opportunity",
        kwargs={"programme_slug": request.programme.slug, "opportunity_uuid": opportunity.uuid},
    )


# --- the resource library ---


def resource_list_view(request, programme_slug):
    programme = request.programme
    domains = list(CompetencyDomain.objects.filter(programme=programme))
    form = ResourceFilterForm(request.GET or None, domains=domains)
    filters = form.filters()
    resources = library.resource_library(programme=programme, roles=request.roles, **filters)
    page = Paginator(resources, LIBRARY_PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(
        request,
        "events/resource_list.html",
        {
            "form": form,
            "page": page,
            "querystring": _library_querystring(request),
            "filtered": any(filters.values()),
            "is_staff": Role.STAFF in request.roles,
        },
    )


def _resource_or_404(request, resource_uuid) -> Resource:
    return get_object_or_404(
        library.visible_resources(programme=request.programme, roles=request.roles)
        .select_related("provider")
        .prefetch_related("domains"),
        uuid=resource_uuid,
    )


def resource_detail_view(request, programme_slug, resource_uuid):
    programme = request.programme
    resource = _resource_or_404(request, resource_uuid)
    events = library.visible_events(
        programme=programme, user=request.user, roles=request.roles
    ).filter(resources=resource)
    objectives = []
    if Role.FELLOW in request.roles:
        objectives = library.live_objectives_of(programme=programme, user=request.user)
        linked = set(
            ResourceObjective.objects.filter(
                programme=programme, resource=resource, objective__in=[o.pk for o in objectives]
            ).values_list("objective_id", flat=True)
        )
        for objective in objectives:
            objective.is_linked = objective.pk in linked
    return TemplateResponse(
        request,
        "events/resource_detail.html",
        {
            "resource": resource,
            "events": list(events.select_related("programme").order_by("starts_at", "id")),
            "objectives": objectives,
            "is_fellow": Role.FELLOW in request.roles,
            "is_staff": Role.STAFF in request.roles,
        },
    )


@role_required(Role.STAFF)
def resource_edit_view(request, programme_slug, resource_uuid=None):
    programme = request.programme
    resource = None
    if resource_uuid is not None:
        resource = get_object_or_404(Resource, programme=programme, uuid=resource_uuid)
    form = ResourceForm(
        request.POST or None,
        instance=resource,
        organisations=Organisation.objects.filter(programme=programme),
        domains=CompetencyDomain.objects.filter(programme=programme),
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = resource_save(
                programme=programme,
                actor=request.user,
                data=form.cleaned_data,
                # The form changed its instance while validating; the service starts afresh.
                resource=Resource.objects.get(pk=resource.pk) if resource else None,
            )
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(
                request,
                f"“{saved.title}” has been {'saved' if resource else 'added to the library'}.",
            )
            return redirect(
                "events:resource", programme_slug=programme_slug, resource_uuid=saved.uuid
            )
    return TemplateResponse(
        request,
        "events/resource_form.html",
        {"resource": resource, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _resource_publishing(request, programme_slug, resource_uuid, *, published: bool):
    resource = get_object_or_404(Resource, programme=request.programme, uuid=resource_uuid)
    changed = resource_set_published(resource=resource, actor=request.user, published=published)
    if not changed:
        messages.info(
            request,
            f"“{resource.title}” was already {'in' if published else 'out of'} the library.",
        )
    elif published:
        messages.success(request, f"“{resource.title}” is back in the library.")
    else:
        messages.success(
            request,
            f"“{resource.title}” has been taken out of the library. Fellows no longer see it; "
            "publish it again to bring it back.",
        )
    return redirect("events:resource", programme_slug=programme_slug, resource_uuid=resource.uuid)


@require_POST
@role_required(Role.STAFF)
def resource_unpublish_view(request, programme_slug, resource_uuid):
    return _resource_publishing(request, programme_slug, resource_uuid, published=False)


@require_POST
@role_required(Role.STAFF)
def resource_publish_view(request, programme_slug, resource_uuid):
    return _resource_publishing(request, programme_slug, resource_uuid, published=True)


def _objective_of_own_plan(request, objective_uuid) -> Objective:
    """An objective of the signed-in fellow's own plan (or any, for staff). Another fellow's
    gets the same 404 as one that does not exist, their mentor's included: linking is the
    fellow's own choice."""
    objective = get_object_or_404(
        Objective.objects.select_related("pdp__fellow"),
        programme=request.programme,
        uuid=objective_uuid,
    )
    if not relations_to(request, objective.pdp.fellow) & {OWNER, PLAN_STAFF}:
        raise Http404("No objective here.")
    return objective


@require_POST
def resource_link_view(request, programme_slug, resource_uuid, objective_uuid):
    resource = _resource_or_404(request, resource_uuid)
    objective = _objective_of_own_plan(request, objective_uuid)
    try:
        created = resource_link_objective(
            resource=resource, objective=objective, actor=request.user
        )
    except ValidationError as error:
        messages.error(request, _library_error_text(error))
    else:
        messages.success(
            request,
            f"“{resource.title}” is linked to “{objective.title}” and shows on the plan."
            if created
            else f"“{resource.title}” was already linked to “{objective.title}”.",
        )
    return redirect(_library_next(request, _resource_url(request, resource)))


@require_POST
def resource_unlink_view(request, programme_slug, resource_uuid, objective_uuid):
    resource = get_object_or_404(Resource, programme=request.programme, uuid=resource_uuid)
    objective = _objective_of_own_plan(request, objective_uuid)
    removed = resource_unlink_objective(resource=resource, objective=objective, actor=request.user)
    messages.success(
        request,
        f"“{resource.title}” is no longer linked to “{objective.title}”."
        if removed
        else f"“{resource.title}” was not linked to “{objective.title}”.",
    )
    default = (
        _resource_url(request, resource)
        if resource.is_published or Role.STAFF in request.roles
        else reverse(
            "pdp:detail",
            kwargs={"programme_slug": programme_slug, "pdp_uuid": objective.pdp.uuid},
        )
    )
    return redirect(_library_next(request, default))


# --- signposted opportunities ---


def opportunity_list_view(request, programme_slug):
    programme = request.programme
    staff = Role.STAFF in request.roles
    form = OpportunityFilterForm(request.GET or None, staff=staff)
    filters = form.cleaned_data if form.is_valid() else {}
    opportunities, tags = library.opportunity_list(
        programme=programme,
        user=request.user,
        roles=request.roles,
        kind=filters.get("kind", ""),
        tag=filters.get("tag", ""),
        bookmarked=bool(filters.get("bookmarked")),
        applied=bool(filters.get("applied")),
        status=filters.get("status", ""),
    )
    form.set_tags(tags, current=filters.get("tag", ""))
    page = Paginator(opportunities, LIBRARY_PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for opportunity in page.object_list:
        opportunity.days_left = library.days_left(opportunity, today)
    return TemplateResponse(
        request,
        "events/opportunity_list.html",
        {
            "form": form,
            "page": page,
            "querystring": _library_querystring(request),
            "filters": filters,
            "is_staff": staff,
            "is_fellow": Role.FELLOW in request.roles,
            "today": today,
        },
    )


def _opportunity_or_404(request, opportunity_uuid) -> Opportunity:
    return get_object_or_404(
        library.with_interest(
            library.visible_opportunities(programme=request.programme, roles=request.roles),
            user=request.user,
        ).select_related("organisation"),
        uuid=opportunity_uuid,
    )


def _opportunity_page(request, opportunity, *, applied_form=None, close_form=None, status=200):
    programme = request.programme
    staff = Role.STAFF in request.roles
    is_fellow = Role.FELLOW in request.roles
    today = timezone.localdate()
    fellow = fellow_for_user(programme=programme, user=request.user) if is_fellow else None
    facts = library.fellow_facts(fellow) if fellow is not None else None
    recommendation = None
    if facts is not None and opportunity.is_open:
        recommendation = library.score_opportunity(opportunity, facts, today=today)
    closed = None
    if staff and opportunity.status == Opportunity.Status.CLOSED:
        closed = (
            AuditEvent.objects.filter(
                programme=programme, action="opportunity.closed", target_id=str(opportunity.uuid)
            )
            .order_by("-occurred_at", "-id")
            .first()
        )
    opportunity.profession_labels = _labels(Profession, opportunity.professions)
    opportunity.sector_labels = _labels(Sector, opportunity.sectors)
    opportunity.stage_labels = _labels(VentureStage, opportunity.stages)
    opportunity.region_labels = _labels(NHSRegion, opportunity.regions)
    return TemplateResponse(
        request,
        "events/opportunity_detail.html",
        {
            "opportunity": opportunity,
            "days_left": library.days_left(opportunity, today),
            "today": today,
            "is_staff": staff,
            "is_fellow": fellow is not None,
            "eligible": facts is None or library.is_eligible(opportunity, facts),
            "recommendation": recommendation,
            "closed_event": closed,
            "applied_form": applied_form or AppliedForm(initial={"note": opportunity.my_note}),
            "close_form": close_form or (CloseOpportunityForm() if staff else None),
            "failed_form": next((f for f in (applied_form, close_form) if f is not None), None),
        },
        status=status,
    )


def _labels(choices, values) -> list[str]:
    known = dict(choices.choices)
    return [known.get(v, v) for v in values or []]


def opportunity_detail_view(request, programme_slug, opportunity_uuid):
    return _opportunity_page(request, _opportunity_or_404(request, opportunity_uuid))


@role_required(Role.STAFF)
def opportunity_edit_view(request, programme_slug, opportunity_uuid=None):
    programme = request.programme
    opportunity = None
    if opportunity_uuid is not None:
        opportunity = get_object_or_404(Opportunity, programme=programme, uuid=opportunity_uuid)
    form = OpportunityForm(
        request.POST or None,
        instance=opportunity,
        organisations=Organisation.objects.filter(programme=programme),
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = opportunity_save(
                programme=programme,
                actor=request.user,
                data=form.cleaned_data,
                opportunity=Opportunity.objects.get(pk=opportunity.pk) if opportunity else None,
            )
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(
                request,
                f"“{saved.title}” has been saved."
                if opportunity
                else f"“{saved.title}” has been saved as a draft. Publish it when it is ready "
                "for fellows to see.",
            )
            return redirect(
                "events:opportunity", programme_slug=programme_slug, opportunity_uuid=saved.uuid
            )
    return TemplateResponse(
        request,
        "events/opportunity_form.html",
        {"opportunity": opportunity, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@role_required(Role.STAFF)
def opportunity_publish_view(request, programme_slug, opportunity_uuid):
    opportunity = get_object_or_404(Opportunity, programme=request.programme, uuid=opportunity_uuid)
    reopening = opportunity.status == Opportunity.Status.CLOSED
    try:
        opportunity_publish(opportunity=opportunity, actor=request.user)
    except ValidationError as error:
        messages.error(request, _library_error_text(error))
    else:
        messages.success(
            request,
            f"“{opportunity.title}” has been {'reopened' if reopening else 'published'}: "
            "fellows can see it.",
        )
    return redirect(
        "events:opportunity", programme_slug=programme_slug, opportunity_uuid=opportunity.uuid
    )


@require_POST
@role_required(Role.STAFF)
def opportunity_close_view(request, programme_slug, opportunity_uuid):
    opportunity = _opportunity_or_404(request, opportunity_uuid)
    form = CloseOpportunityForm(request.POST)
    if form.is_valid():
        try:
            opportunity_close(
                opportunity=opportunity, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                messages.error(request, _library_error_text(error))
                return redirect(_opportunity_url(request, opportunity))
            ensure_errors_shown(form, error)
        else:
            messages.success(
                request, f"“{opportunity.title}” has been closed. Fellows no longer see it."
            )
            return redirect(_opportunity_url(request, opportunity))
    return _opportunity_page(request, opportunity, close_form=form, status=400)


def _interest_action(request, opportunity_uuid, act, success: str, unchanged: str):
    opportunity = _opportunity_or_404(request, opportunity_uuid)
    try:
        changed = act(opportunity)
    except ValidationError as error:
        messages.error(request, _library_error_text(error))
    else:
        messages.success(request, (success if changed else unchanged).format(o=opportunity))
    return redirect(_library_next(request, _opportunity_url(request, opportunity)))


@require_POST
def opportunity_bookmark_view(request, programme_slug, opportunity_uuid):
    return _interest_action(
        request,
        opportunity_uuid,
        lambda o: opportunity_bookmark(opportunity=o, user=request.user, bookmarked=True),
        "You bookmarked “{o.title}”. Find it under Opportunities, “Only those I bookmarked”.",
        "“{o.title}” was already bookmarked.",
    )


@require_POST
def opportunity_unbookmark_view(request, programme_slug, opportunity_uuid):
    return _interest_action(
        request,
        opportunity_uuid,
        lambda o: opportunity_bookmark(opportunity=o, user=request.user, bookmarked=False),
        "You removed the bookmark from “{o.title}”.",
        "“{o.title}” was not bookmarked.",
    )


@require_POST
def opportunity_applied_view(request, programme_slug, opportunity_uuid):
    opportunity = _opportunity_or_404(request, opportunity_uuid)
    form = AppliedForm(request.POST)
    if form.is_valid():
        try:
            first = opportunity_record_applied(
                opportunity=opportunity, user=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                messages.error(request, _library_error_text(error))
                return redirect(_opportunity_url(request, opportunity))
            ensure_errors_shown(form, error)
        else:
            messages.success(
                request,
                f"You have recorded that you applied to “{opportunity.title}”. Good luck!"
                if first
                else f"Your note on “{opportunity.title}” has been saved.",
            )
            return redirect(_opportunity_url(request, opportunity))
    return _opportunity_page(request, opportunity, applied_form=form, status=400)


@require_POST
def opportunity_applied_undo_view(request, programme_slug, opportunity_uuid):
    return _interest_action(
        request,
        opportunity_uuid,
        lambda o: opportunity_withdraw_applied(opportunity=o, user=request.user),
        "“{o.title}” is no longer marked as applied.",
        "“{o.title}” was not marked as applied.",
    )
