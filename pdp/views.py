"""Pages of the PDP app: the plan (fellow writes, mentor agrees, staff see all), its history,
the list of plans and the competency framework."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cohort.models import Cohort, Fellow, Role
from cohort.selectors import fellow_for_user
from cohort.views import ensure_errors_shown, role_required

from .access import MENTOR, OWNER, STAFF, main_relation, mentee_fellow_ids, relations_to
from .forms import ActionForm, DomainForm, EvidenceForm, ObjectiveForm, ReviewForm, StatusForm
from .models import PDP, Action, CompetencyDomain, Evidence, Objective
from .pdf import pdf_filename, record_download, render_pdp_pdf
from .selectors import objectives_with_actions, plan_objectives
from .services import (
    action_add,
    action_toggle,
    changes_since_agreement,
    domain_remove,
    domain_save,
    evidence_add,
    fulfilment,
    objective_save,
    objective_set_status,
    pdp_for_fellow,
    pdp_review,
    pdp_submit,
)


def _pdp_or_404(request, pdp_uuid):
    pdp = get_object_or_404(
        PDP.objects.select_related("fellow__user", "fellow__cohort", "agreed_by"),
        programme=request.programme,
        uuid=pdp_uuid,
    )
    return pdp, relations_to(request, pdp.fellow)


def _detail_page(request, pdp, relations, *, bound=None, status=200):
    """The plan with the forms the viewer may use; a form that failed comes back bound, beside
    its objective, with what was typed."""
    bound = bound or {}
    objectives = plan_objectives(pdp)
    can_write = bool(relations & {OWNER, STAFF})
    for objective in objectives:
        key = str(objective.uuid)
        objective.action_form = bound.get((key, "action")) or ActionForm(prefix=f"a-{key}")
        objective.evidence_form = bound.get((key, "evidence")) or EvidenceForm(prefix=f"e-{key}")
        objective.status_form = bound.get((key, "status")) or StatusForm(
            prefix=f"s-{key}",
            initial={"status": objective.status, "reason": objective.dropped_reason},
        )
    return TemplateResponse(
        request,
        "pdp/pdp_detail.html",
        {
            "pdp": pdp,
            "fellow": pdp.fellow,
            "objectives": objectives,
            "fulfilment": fulfilment(objectives),
            "changes": changes_since_agreement(pdp, objectives),
            "relation": main_relation(relations),
            "can_write": can_write,
            "can_submit": OWNER in relations
            and pdp.status != PDP.Status.SUBMITTED
            and any(o.status != Objective.Status.DROPPED for o in objectives),
            "review_form": bound.get((None, "review"))
            or (
                ReviewForm() if MENTOR in relations and pdp.status == PDP.Status.SUBMITTED else None
            ),
            "recent_changes": pdp.changes.select_related("objective")[:5],
            # A form that failed, summarised at the top of the page (its fields show inline).
            "failed_form": next(iter(bound.values()), None),
        },
        status=status,
    )


def my_pdp_view(request, programme_slug):
    """/pdp/: a fellow's own plan; mentors and staff get the list of plans they may see."""
    fellow = fellow_for_user(programme=request.programme, user=request.user)
    if fellow is not None and Role.FELLOW in request.roles:
        pdp = pdp_for_fellow(fellow=fellow)
        return _detail_page(request, pdp, relations_to(request, fellow))
    if request.roles & {Role.STAFF, Role.MENTOR}:
        return _list_page(request)
    return TemplateResponse(request, "pdp/no_pdp.html", {})


@role_required(Role.STAFF, Role.MENTOR)
def pdp_list_view(request, programme_slug):
    return _list_page(request)


def _list_page(request):
    """Staff: every fellow's plan. Mentors: their mentees' plans."""
    programme = request.programme
    fellows = Fellow.objects.filter(programme=programme).select_related("user", "cohort")
    if Role.STAFF not in request.roles:
        fellows = fellows.filter(pk__in=mentee_fellow_ids(programme, request.user))
    cohort_uuid = request.GET.get("cohort", "")
    cohorts = list(Cohort.objects.filter(programme=programme))
    if cohort_uuid and any(str(c.uuid) == cohort_uuid for c in cohorts):
        fellows = fellows.filter(cohort__uuid=cohort_uuid)
    fellows = list(fellows.order_by("user__full_name", "pk"))
    plans = {
        p.fellow_id: p
        for p in PDP.objects.filter(fellow__in=fellows).prefetch_related(objectives_with_actions())
    }
    rows = []
    for fellow in fellows:
        pdp = plans.get(fellow.pk)
        objectives = list(pdp.objectives.all()) if pdp else []
        rows.append(
            {
                "fellow": fellow,
                "pdp": pdp,
                "objectives": len(objectives),
                "fulfilment": fulfilment(objectives),
            }
        )
    return TemplateResponse(
        request,
        "pdp/pdp_list.html",
        {
            "rows": rows,
            "cohorts": cohorts,
            "cohort_uuid": cohort_uuid,
            "is_staff": Role.STAFF in request.roles,
        },
    )


@role_required(Role.STAFF, Role.MENTOR)
def fellow_pdp_view(request, programme_slug, fellow_uuid):
    """Open a fellow's plan from the list, starting it if they have not yet."""
    fellow = get_object_or_404(Fellow, programme=request.programme, uuid=fellow_uuid)
    relations_to(request, fellow)
    pdp = pdp_for_fellow(fellow=fellow)
    return redirect("pdp:detail", programme_slug=programme_slug, pdp_uuid=pdp.uuid)


def pdp_detail_view(request, programme_slug, pdp_uuid):
    pdp, relations = _pdp_or_404(request, pdp_uuid)
    return _detail_page(request, pdp, relations)


def pdp_history_view(request, programme_slug, pdp_uuid):
    pdp, _relations = _pdp_or_404(request, pdp_uuid)
    return TemplateResponse(
        request,
        "pdp/pdp_history.html",
        {"pdp": pdp, "changes": pdp.changes.select_related("objective")},
    )


def _writable_pdp(request, pdp_uuid):
    pdp, relations = _pdp_or_404(request, pdp_uuid)
    if not relations & {OWNER, STAFF}:
        raise_not_yours()
    return pdp, relations


def raise_not_yours():
    raise PermissionDenied("Only the fellow and programme staff change a plan.")


def objective_edit_view(request, programme_slug, pdp_uuid, objective_uuid=None):
    pdp, _relation = _writable_pdp(request, pdp_uuid)
    objective = None
    if objective_uuid is not None:
        objective = get_object_or_404(Objective, pdp=pdp, uuid=objective_uuid)
    domains = CompetencyDomain.objects.filter(programme=request.programme)
    form = ObjectiveForm(request.POST or None, instance=objective, domains=domains)
    if request.method == "POST" and form.is_valid():
        try:
            saved = objective_save(
                pdp=pdp,
                actor=request.user,
                data=form.cleaned_data,
                objective=Objective.objects.get(pk=objective.pk) if objective else None,
            )
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(request, f"The objective “{saved.title}” has been saved.")
            return redirect("pdp:detail", programme_slug=programme_slug, pdp_uuid=pdp.uuid)
    return TemplateResponse(
        request,
        "pdp/objective_form.html",
        {"pdp": pdp, "objective": objective, "form": form, "has_domains": domains.exists()},
        status=400 if request.method == "POST" else 200,
    )


def _objective_action(request, objective_uuid, *, form_name, make_form, act, success):
    objective = get_object_or_404(
        Objective.objects.select_related("pdp__fellow__user", "pdp__fellow__cohort"),
        programme=request.programme,
        uuid=objective_uuid,
    )
    pdp = objective.pdp
    relations = relations_to(request, pdp.fellow)
    if not relations & {OWNER, STAFF}:
        raise_not_yours()
    form = make_form(request.POST, request.FILES, prefix=f"{form_name[0]}-{objective.uuid}")
    if form.is_valid():
        try:
            act(objective, form.cleaned_data)
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(request, success(objective))
            return redirect(
                f"{pdp_url(request, pdp)}#objective-{objective.uuid}",
            )
    return _detail_page(
        request, pdp, relations, bound={(str(objective.uuid), form_name): form}, status=400
    )


def pdp_url(request, pdp) -> str:
    return reverse(
        "pdp:detail", kwargs={"programme_slug": request.programme.slug, "pdp_uuid": pdp.uuid}
    )


@require_POST
def objective_status_view(request, programme_slug, objective_uuid):
    return _objective_action(
        request,
        objective_uuid,
        form_name="status",
        make_form=StatusForm,
        act=lambda o, d: objective_set_status(
            objective=o, actor=request.user, status=d["status"], reason=d["reason"]
        ),
        success=lambda o: f"“{o.title}” is now {o.get_status_display().lower()}.",
    )


@require_POST
def action_add_view(request, programme_slug, objective_uuid):
    return _objective_action(
        request,
        objective_uuid,
        form_name="action",
        make_form=ActionForm,
        act=lambda o, d: action_add(objective=o, actor=request.user, text=d["text"]),
        success=lambda o: f"The action has been added to “{o.title}”.",
    )


@require_POST
def evidence_add_view(request, programme_slug, objective_uuid):
    return _objective_action(
        request,
        objective_uuid,
        form_name="evidence",
        make_form=EvidenceForm,
        act=lambda o, d: evidence_add(objective=o, actor=request.user, data=d),
        success=lambda o: f"The evidence has been added to “{o.title}”.",
    )


@require_POST
def action_toggle_view(request, programme_slug, action_uuid):
    action = get_object_or_404(
        Action.objects.select_related("objective__pdp__fellow__user"),
        programme=request.programme,
        uuid=action_uuid,
    )
    pdp = action.objective.pdp
    if not relations_to(request, pdp.fellow) & {OWNER, STAFF}:
        raise_not_yours()
    action = action_toggle(action=action, actor=request.user)
    messages.success(request, f"“{action.text}” is marked {'done' if action.done else 'not done'}.")
    return redirect(f"{pdp_url(request, pdp)}#objective-{action.objective.uuid}")


@require_POST
def pdp_submit_view(request, programme_slug, pdp_uuid):
    pdp, relations = _pdp_or_404(request, pdp_uuid)
    if OWNER not in relations:
        raise PermissionDenied("Only the fellow sends their plan to their mentor.")
    try:
        pdp_submit(pdp=pdp, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Your plan has been sent to your mentor to agree.")
    return redirect("pdp:detail", programme_slug=programme_slug, pdp_uuid=pdp.uuid)


@require_POST
def pdp_review_view(request, programme_slug, pdp_uuid):
    pdp, relations = _pdp_or_404(request, pdp_uuid)
    if MENTOR not in relations:
        raise PermissionDenied("Only the fellow's mentor agrees the plan.")
    form = ReviewForm(request.POST)
    if form.is_valid():
        agree = form.cleaned_data["decision"] == "agree"
        try:
            pdp_review(
                pdp=pdp, actor=request.user, agree=agree, comments=form.cleaned_data["comments"]
            )
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(
                request,
                f"You have {'agreed' if agree else 'returned'} {pdp.fellow}'s plan.",
            )
            return redirect("pdp:detail", programme_slug=programme_slug, pdp_uuid=pdp.uuid)
    return _detail_page(request, pdp, relations, bound={(None, "review"): form}, status=400)


def evidence_file_view(request, programme_slug, evidence_uuid):
    """An evidence file, to the fellow, their mentor and staff only; never by a public URL."""
    evidence = get_object_or_404(
        Evidence.objects.select_related("objective__pdp__fellow"),
        programme=request.programme,
        uuid=evidence_uuid,
        kind=Evidence.Kind.FILE,
    )
    relations_to(request, evidence.objective.pdp.fellow)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404("The file is no longer stored.") from missing
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=evidence.original_name or "evidence",
        content_type=evidence.content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@role_required(Role.STAFF)
def framework_view(request, programme_slug):
    programme = request.programme
    form = DomainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            domain_save(programme=programme, actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(request, "The domain has been added to the framework.")
            return redirect("pdp:framework", programme_slug=programme_slug)
    return TemplateResponse(
        request,
        "pdp/framework.html",
        {"domains": CompetencyDomain.objects.filter(programme=programme), "form": form},
        status=400 if request.method == "POST" else 200,
    )


@role_required(Role.STAFF)
def domain_edit_view(request, programme_slug, domain_uuid):
    domain = get_object_or_404(CompetencyDomain, programme=request.programme, uuid=domain_uuid)
    form = DomainForm(request.POST or None, instance=domain)
    if request.method == "POST" and form.is_valid():
        try:
            domain_save(
                programme=request.programme,
                actor=request.user,
                data=form.cleaned_data,
                domain=CompetencyDomain.objects.get(pk=domain.pk),
            )
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(request, "The domain has been saved.")
            return redirect("pdp:framework", programme_slug=programme_slug)
    return TemplateResponse(
        request,
        "pdp/domain_form.html",
        {"domain": domain, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@role_required(Role.STAFF)
def domain_remove_view(request, programme_slug, domain_uuid):
    domain = get_object_or_404(CompetencyDomain, programme=request.programme, uuid=domain_uuid)
    try:
        domain_remove(domain=domain, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"“{domain.name}” has been removed from the framework.")
    return redirect("pdp:framework", programme_slug=programme_slug)


# --- the plan as a PDF ---


@require_GET
def pdp_pdf_view(request, programme_slug, pdp_uuid):
    """The plan as a PDF, for the fellow, their mentor and staff (the same people as the page).
    Downloading is audited (personal data leaves the platform) but is not a change to the plan."""
    pdp, _relations = _pdp_or_404(request, pdp_uuid)
    document = render_pdp_pdf(pdp=pdp, request=request)
    record_download(pdp=pdp, actor=request.user)
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(pdp)}"'
    response["Cache-Control"] = "private, no-store"
    return response
