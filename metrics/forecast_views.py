"""Pages of the Patient Impact forecast: a venture's inputs and forecast, the staff's review
queue, the programme's and cohorts' totals, and the settings. Each page parses, checks who may
see it, calls one service from metrics.forecasting, and renders."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cohort.models import Role, Venture
from cohort.selectors import fellow_for_user
from cohort.views import ensure_errors_shown, role_required
from mentoring.selectors import mentees_of

from . import forecast as engine
from . import forecasting as fc
from .forms import ForecastInputForm, ForecastReturnForm, ForecastSettingsForm
from .models import ForecastInput, ForecastInputStatus, ForecastRun


def _venture_or_404(request, venture_uuid):
    """The venture and what the viewer may do with its forecast: staff everything; its fellow
    edit her own; her mentor read; anyone else the 404 of a venture that does not exist."""
    ventures = Venture.objects.filter(programme=request.programme).select_related(
        "fellow__user", "fellow__cohort", "programme"
    )
    roles = request.roles
    if Role.STAFF in roles:
        return get_object_or_404(ventures, uuid=venture_uuid), True, True
    visible = Q(pk__in=[])
    if Role.FELLOW in roles:
        visible |= Q(fellow__user=request.user)
    if Role.MENTOR in roles:
        visible |= Q(fellow_id__in=list(mentees_of(request.programme, request.user)))
    venture = get_object_or_404(ventures.filter(visible), uuid=venture_uuid)
    can_edit = Role.FELLOW in roles and venture.fellow.user_id == request.user.pk
    return venture, can_edit, False


def _venture_url(request, venture):
    return redirect(
        "metrics:forecast_venture",
        programme_slug=request.programme.slug,
        venture_uuid=venture.uuid,
    )


def benefit_rows(run: ForecastRun | None) -> dict:
    """The benefit tables of a run, when some venture in it gives a benefit."""
    if run is None:
        return {}
    out = {}
    qalys = fc.band_rows(run, "qalys_discounted_cumulative")
    if qalys:
        value = fc.band_rows(run, "qaly_value_cumulative")
        low = fc.band_rows(run, "qaly_value_nice_low_cumulative")
        high = fc.band_rows(run, "qaly_value_nice_high_cumulative")
        out["qalys"] = [
            {"row": q, "value": v.mean, "nice_low": lo.mean, "nice_high": hi.mean}
            for q, v, lo, hi in zip(qalys, value, low, high, strict=True)
        ]
    savings = fc.band_rows(run, "savings_discounted_cumulative")
    if savings:
        out["savings"] = savings
    return out


def run_context(run: ForecastRun | None) -> dict:
    """What the forecast include needs to show a run: the per-year table and the chart's series."""
    if run is None:
        return {"run": None}
    rows = fc.band_rows(run)
    return {
        "run": run,
        "rows": rows,
        "chart": {
            "years": [f"Year {r.year}" for r in rows],
            "p10": [r.p10 for r in rows],
            "p50": [r.p50 for r in rows],
            "p90": [r.p90 for r in rows],
            "mean": [r.mean for r in rows],
        },
        "benefits": benefit_rows(run),
        "settings_used": run.settings,
        "share_with_patients": run.outputs.get("share_with_patients"),
    }


@require_http_methods(["GET", "POST"])
def venture_forecast_view(request, programme_slug, venture_uuid):
    """A venture's forecast inputs (the fellow's form), their review, and its forecast."""
    venture, can_edit, can_review = _venture_or_404(request, venture_uuid)
    record = fc.forecast_input_for(venture=venture)
    status, conflict = 200, None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only the venture's fellow and programme staff change these.")
        form = ForecastInputForm(request.POST, instance=_fresh(record))
        if form.is_valid():
            data = {name: form.cleaned_data.get(name) for name in fc.INPUT_FIELDS}
            submit = request.POST.get("action") == "submit"
            try:
                fc.forecast_input_save(
                    venture=venture,
                    data=data,
                    actor=request.user,
                    submit=submit,
                    version=form.cleaned_data.get("version"),
                )
            except fc.StaleForecastEdit as stale:
                conflict, status = stale.record, 409
                posted = request.POST.copy()
                posted["version"] = conflict.version
                form = ForecastInputForm(posted, instance=_fresh(record))
                form.is_valid()
                form.add_error(
                    None,
                    "Someone else changed these inputs since you opened them. Your numbers are "
                    "still in the form; check them against what is saved now, then save again.",
                )
            except ValidationError as error:
                ensure_errors_shown(form, error)
                status = 400
            else:
                saved = fc.forecast_input_for(venture=venture)
                if saved.status == ForecastInputStatus.SUBMITTED:
                    messages.success(
                        request,
                        "Sent for review. The programme team will check the inputs; until "
                        "then they do not count in the programme's forecast.",
                    )
                else:
                    messages.success(request, "Your inputs are saved as a draft.")
                return _venture_url(request, venture)
        else:
            status = 400
    else:
        form = ForecastInputForm(
            instance=record, initial={"version": record.version if record else None}
        )
    run = fc.latest_run(
        programme=request.programme, scope=ForecastRun.Scope.VENTURE, venture=venture
    )
    settings_row = fc.forecast_settings_for(programme=request.programme)
    pending = fc.venture_pending(record=record, run=run, settings_row=settings_row)
    return TemplateResponse(
        request,
        "metrics/forecast_venture.html",
        {
            "venture": venture,
            "record": record,
            "form": form,
            "can_edit": can_edit,
            "can_review": can_review,
            "conflict": conflict,
            "missing": record.missing() if record else _required_missing(),
            "pending": pending,
            "settings_row": settings_row,
            "stage_probability": settings_row.stage_probabilities().get(venture.stage),
            "prospective": fc.prospective_check_for(programme=request.programme, venture=venture),
            "return_form": ForecastReturnForm(
                initial={"version": record.version if record else None}
            ),
            **run_context(run),
        },
        status=status,
    )


def _required_missing():
    from .models import FORECAST_ESTIMATES

    return [missing for _, _, missing, _, _, required in FORECAST_ESTIMATES if required]


def _fresh(record):
    """A copy for a bound form to validate against (the service re-reads it under a lock)."""
    if record is None:
        return None
    return ForecastInput.objects.get(pk=record.pk)


@require_POST
def venture_forecast_preview_view(request, programme_slug, venture_uuid):
    """Forecast the venture's inputs as they stand, draft or not."""
    venture, can_edit, can_review = _venture_or_404(request, venture_uuid)
    if not (can_edit or can_review):
        raise PermissionDenied("Only the venture's fellow and programme staff run a preview.")
    try:
        fc.forecast_preview(venture=venture, actor=request.user)
    except engine.MissingInputsError as error:
        messages.error(request, f"The forecast needs: {', '.join(error.missing)}.")
    except engine.ForecastInputError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Forecast made from the inputs as they stand.")
    return _venture_url(request, venture)


def _input_or_404(request, venture_uuid) -> ForecastInput:
    return get_object_or_404(
        ForecastInput.objects.filter(programme=request.programme).select_related(
            "venture__fellow__user", "programme"
        ),
        venture__uuid=venture_uuid,
    )


def _version(request) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


@role_required(Role.STAFF)
@require_POST
def forecast_accept_view(request, programme_slug, venture_uuid):
    record = _input_or_404(request, venture_uuid)
    try:
        fc.forecast_input_accept(record=record, actor=request.user, version=_version(request))
    except fc.StaleForecastEdit:
        messages.error(
            request,
            f"The inputs of {record.venture} changed since you opened them: check them again.",
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"Reviewed: the inputs of {record.venture} now count in the programme's forecast. "
            f"{record.venture.fellow.user.display_name} has been told.",
        )
    if request.POST.get("next") == "venture":
        return _venture_url(request, record.venture)
    return redirect("metrics:forecast_review", programme_slug=programme_slug)


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def forecast_return_view(request, programme_slug, venture_uuid):
    record = _input_or_404(request, venture_uuid)
    status = 200
    if request.method == "POST":
        form = ForecastReturnForm(request.POST)
        if form.is_valid():
            try:
                fc.forecast_input_return(
                    record=record,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    version=form.cleaned_data.get("version"),
                )
            except fc.StaleForecastEdit:
                form.add_error(
                    None, "The inputs changed since you opened them: check them, then return them."
                )
                status = 409
            except ValidationError as error:
                ensure_errors_shown(form, error)
                status = 400
            else:
                messages.success(
                    request,
                    f"Returned: the inputs of {record.venture}. "
                    f"{record.venture.fellow.user.display_name} has been told why.",
                )
                return redirect("metrics:forecast_review", programme_slug=programme_slug)
        else:
            status = 400
    else:
        form = ForecastReturnForm(initial={"version": record.version})
    return TemplateResponse(
        request,
        "metrics/forecast_return.html",
        {"form": form, "record": record},
        status=status,
    )


@role_required(Role.STAFF)
@require_GET
def forecast_review_view(request, programme_slug):
    """Staff: inputs waiting for review, oldest first, with what each estimate is."""
    records = list(
        ForecastInput.objects.filter(
            programme=request.programme, status=ForecastInputStatus.SUBMITTED
        )
        .select_related("venture__fellow__user", "venture__fellow__cohort")
        .order_by("submitted_at", "pk")[:200]
    )
    settings_row = fc.forecast_settings_for(programme=request.programme)
    return TemplateResponse(
        request,
        "metrics/forecast_review.html",
        {
            "records": records,
            "probabilities": settings_row.stage_probabilities(),
            "estimates": _estimate_specs(),
        },
    )


def _estimate_specs():
    from .forms import ESTIMATE_UNITS
    from .models import FORECAST_ESTIMATES

    return [
        {"prefix": prefix, "label": label, "unit": ESTIMATE_UNITS[prefix]}
        for prefix, label, *_ in FORECAST_ESTIMATES
    ]


@require_GET
def programme_forecast_view(request, programme_slug):
    """Staff: the programme's and every cohort's forecast, what is in and what is left out.
    A fellow: her cohort's totals only, and her own ventures. A mentor: the mentees' ventures."""
    programme = request.programme
    roles = request.roles
    if Role.STAFF in roles:
        run = fc.latest_run(programme=programme, scope=ForecastRun.Scope.PROGRAMME)
        cohort_runs = fc.latest_cohort_runs(programme=programme)
        settings_row = fc.forecast_settings_for(programme=programme)
        included = (
            sorted((v.get("name") or "" for v in run.inputs.values()), key=str.lower) if run else []
        )
        return TemplateResponse(
            request,
            "metrics/forecast_programme.html",
            {
                "is_staff_view": True,
                "settings_row": settings_row,
                "pending": fc.programme_pending(programme=programme, run=run),
                "included": included,
                "cohorts": [{"cohort": r.cohort, **run_context(r)} for r in cohort_runs],
                "waiting": ForecastInput.objects.filter(
                    programme=programme, status=ForecastInputStatus.SUBMITTED
                ).count(),
                "prospective": fc.prospective_check_for(
                    programme=programme, scope=ForecastRun.Scope.PROGRAMME
                ),
                **run_context(run),
            },
        )
    fellow = fellow_for_user(programme=programme, user=request.user)
    if Role.FELLOW in roles and fellow is not None:
        run = fc.latest_run(
            programme=programme, scope=ForecastRun.Scope.COHORT, cohort=fellow.cohort
        )
        ventures = list(Venture.objects.filter(programme=programme, fellow=fellow))
        return TemplateResponse(
            request,
            "metrics/forecast_programme.html",
            {
                "is_staff_view": False,
                "fellow": fellow,
                "own_ventures": ventures,
                **run_context(run),
            },
        )
    if Role.MENTOR in roles:
        ventures = list(
            Venture.objects.filter(
                programme=programme, fellow_id__in=list(mentees_of(programme, request.user))
            ).select_related("fellow__user")
        )
        return TemplateResponse(
            request,
            "metrics/forecast_programme.html",
            {"is_staff_view": False, "mentee_ventures": ventures, "run": None},
        )
    messages.info(request, "The Patient Impact forecast is for the programme team and fellows.")
    return redirect("cohort:home", programme_slug=programme_slug)


@role_required(Role.STAFF)
@require_POST
def forecast_recompute_view(request, programme_slug):
    fc.forecast_request_recompute(programme=request.programme, actor=request.user)
    messages.success(
        request,
        "Recompute requested. Where nothing changed since the last forecast, it stands as it is.",
    )
    return redirect("metrics:forecast", programme_slug=programme_slug)


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def forecast_settings_view(request, programme_slug):
    programme = request.programme
    settings_row = fc.forecast_settings_for(programme=programme)
    status = 200
    if request.method == "POST":
        form = ForecastSettingsForm(request.POST, instance=_fresh_settings(settings_row))
        if form.is_valid():
            data = {name: form.cleaned_data.get(name) for name in fc.SETTINGS_FIELDS}
            try:
                fc.forecast_settings_update(
                    programme=programme,
                    data=data,
                    actor=request.user,
                    version=form.cleaned_data.get("version"),
                )
            except fc.StaleForecastEdit as stale:
                status = 409
                posted = request.POST.copy()
                posted["version"] = stale.record.version
                form = ForecastSettingsForm(posted, instance=_fresh_settings(settings_row))
                form.is_valid()
                form.add_error(
                    None,
                    "Someone else changed the settings since you opened them. Your numbers are "
                    "still in the form; check them, then save again.",
                )
            except ValidationError as error:
                ensure_errors_shown(form, error)
                status = 400
            else:
                messages.success(request, "Settings saved. Every forecast is made again with them.")
                return redirect("metrics:forecast", programme_slug=programme_slug)
        else:
            status = 400
    else:
        form = ForecastSettingsForm(
            instance=settings_row, initial={"version": settings_row.version}
        )
    return TemplateResponse(
        request,
        "metrics/forecast_settings.html",
        {"form": form, "settings_row": settings_row},
        status=status,
    )


def _fresh_settings(settings_row):
    from .models import ForecastSettings

    return ForecastSettings.objects.get(pk=settings_row.pk)
