"""Pages of the events app: events and their registers, check-in, calendars, the resource
library and opportunities."""

# --- events and registration ---------------------------------------------------------------------


# --- calendars -----------------------------------------------------------------------------------


# --- resources and opportunities -----------------------------------------------------------------

# This section's imports follow its first line rather than sit at the top of the file, so
# that the file's sections (events, calendars, the library) merge apart.
LIBRARY_PAGE_SIZE = 20

from django.contrib import messages  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402
from django.core.paginator import Paginator  # noqa: E402
from django.http import Http404  # noqa: E402
from django.shortcuts import get_object_or_404, redirect  # noqa: E402
from django.template.response import TemplateResponse  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.http import url_has_allowed_host_and_scheme  # noqa: E402
from django.views.decorators.http import require_POST  # noqa: E402

from cohort.models import (  # noqa: E402
    AuditEvent,
    NHSRegion,
    Organisation,
    Profession,
    Role,
    Sector,
    VentureStage,
)
from cohort.selectors import fellow_for_user  # noqa: E402
from cohort.views import ensure_errors_shown, role_required  # noqa: E402
from pdp.access import OWNER, relations_to  # noqa: E402
from pdp.access import STAFF as PLAN_STAFF  # noqa: E402
from pdp.models import CompetencyDomain, Objective  # noqa: E402

from . import selectors as library  # noqa: E402
from .forms import (  # noqa: E402
    AppliedForm,
    CloseOpportunityForm,
    OpportunityFilterForm,
    OpportunityForm,
    ResourceFilterForm,
    ResourceForm,
)
from .models import Opportunity, Resource, ResourceObjective  # noqa: E402
from .services import (  # noqa: E402
    opportunity_bookmark,
    opportunity_close,
    opportunity_publish,
    opportunity_record_applied,
    opportunity_save,
    opportunity_withdraw_applied,
    resource_link_objective,
    resource_save,
    resource_set_published,
    resource_unlink_objective,
)


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


def _with_url(event):
    # The event pages are built alongside the library (events section of this app); until
    # their route exists an event is listed without a link rather than failing the page.
    try:
        event.url = event.get_absolute_url()
    except NoReverseMatch:
        event.url = ""
    return event


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
            "events": [_with_url(e) for e in events.order_by("starts_at", "id")],
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
