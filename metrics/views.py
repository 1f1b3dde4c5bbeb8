"""Pages of the metrics app: a fellow's outcomes (report, change, withdraw, the quarterly
update) and the staff's verification queue."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import tablib
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cohort.importing import spreadsheet_safe
from cohort.models import Cohort, Fellow, Role
from cohort.selectors import fellow_for_user
from cohort.views import ensure_errors_shown, role_required

from . import charts
from . import forecasting as fc
from .definitions import METRICS
from .forecast_views import run_context
from .forms import QueueFilterForm, RejectForm, ReportForm, TargetsForm, outcome_form_class
from .models import (
    ForecastRun,
    MetricRun,
    MetricSnapshot,
    MetricTarget,
    OutcomeStatus,
    ProgrammeReport,
)
from .reports import (
    as_float,
    chart_unit,
    edi_table,
    metric_table,
    overview,
    quarter_chart,
    spreadsheet_number,
    trend_chart,
)
from .selectors import (
    cohort_figures,
    cumulative_by_month,
    current_year,
    figure_over,
    last_done_run,
    latest_run,
    outcome_queue,
    outcome_queue_records,
    period_series,
    programme_years,
    prospective,
    quarterly,
    waiting_counts,
)
from .services import (
    OUTCOME_KINDS,
    StaleOutcome,
    metric_run_request,
    metric_target_save,
    outcome_change,
    outcome_reject,
    outcome_report,
    outcome_update_complete,
    outcome_update_due,
    outcome_verify,
    outcome_withdraw,
    quarter_label,
    report_downloaded,
    report_request,
)

PAGE_SIZE = 25
QUEUE_PARAMETERS = {"kind", "status", "cohort", "page"}


def _kind_or_404(kind: str):
    if kind not in OUTCOME_KINDS:
        raise Http404("No such kind of outcome.")
    return OUTCOME_KINDS[kind]


def _own_fellow(request) -> Fellow | None:
    fellow = fellow_for_user(programme=request.programme, user=request.user)
    if fellow is None or Role.FELLOW not in request.roles:
        return None
    return fellow


def _not_a_fellow(request, programme_slug):
    """Only fellows report outcomes: staff are sent to verify them, anyone else is told."""
    if Role.STAFF in request.roles:
        messages.info(
            request, "Fellows report their own outcomes; correct or verify them from here."
        )
        return redirect("metrics:queue", programme_slug=programme_slug)
    messages.info(request, "Outcomes are reported by fellows.")
    return redirect("cohort:home", programme_slug=programme_slug)


def _record_or_404(request, kind, record_uuid):
    """A record the viewer may open: their own as a fellow, any as staff (404 otherwise)."""
    outcome_kind = _kind_or_404(kind)
    records = outcome_kind.model.objects.filter(programme=request.programme).select_related(
        "fellow__user", "fellow__cohort", "venture", "programme"
    )
    if Role.STAFF not in request.roles:
        records = records.filter(fellow__user=request.user)
    return get_object_or_404(records, uuid=record_uuid)


def outcome_totals(records_by_kind: dict[str, list]) -> dict[str, dict]:
    """Verified and waiting figures per kind, from records already read."""
    totals = {}
    for slug, records in records_by_kind.items():
        verified = [r for r in records if r.status == OutcomeStatus.VERIFIED]
        waiting = [r for r in records if r.status == OutcomeStatus.REPORTED]
        measure = {"funding": "amount", "patients": "patients", "jobs": "jobs"}.get(slug)
        totals[slug] = {
            "verified": sum(getattr(r, measure) for r in verified) if measure else len(verified),
            "waiting": sum(getattr(r, measure) for r in waiting) if measure else len(waiting),
            "count": len(records),
        }
    return totals


@require_GET
def outcomes_view(request, programme_slug):
    """A fellow's outcomes, kind by kind, with what is verified and what waits; staff go to
    the verification queue."""
    fellow = _own_fellow(request)
    if fellow is None:
        return _not_a_fellow(request, programme_slug)
    records_by_kind = {
        slug: list(
            kind.model.objects.filter(programme=request.programme, fellow=fellow)
            .select_related("venture")
            .order_by("-reported_at", "-pk")
        )
        for slug, kind in OUTCOME_KINDS.items()
    }
    due = outcome_update_due(fellow=fellow)
    totals = outcome_totals(records_by_kind)
    return TemplateResponse(
        request,
        "metrics/outcomes.html",
        {
            "fellow": fellow,
            "kinds": [
                {"kind": kind, "records": records_by_kind[slug], "total": totals[slug]}
                for slug, kind in OUTCOME_KINDS.items()
            ],
            "due": due,
            "due_label": quarter_label(due) if due else "",
        },
    )


@require_http_methods(["GET", "POST"])
def outcome_report_view(request, programme_slug, kind):
    outcome_kind = _kind_or_404(kind)
    fellow = _own_fellow(request)
    if fellow is None:
        return _not_a_fellow(request, programme_slug)
    form_class = outcome_form_class(kind)
    status = 200
    if request.method == "POST":
        form = form_class(request.POST, fellow=fellow)
        if form.is_valid():
            data = {name: form.cleaned_data.get(name) for name in outcome_kind.fields}
            try:
                record = outcome_report(fellow=fellow, kind=kind, data=data, actor=request.user)
            except ValidationError as error:
                ensure_errors_shown(form, error)
                status = 400
            else:
                messages.success(
                    request,
                    f"Reported: {record}. The programme team will verify it; until then it "
                    "does not count in the programme's figures.",
                )
                return redirect("metrics:outcomes", programme_slug=programme_slug)
        else:
            status = 400
    else:
        form = form_class(fellow=fellow)
    return TemplateResponse(
        request,
        "metrics/outcome_form.html",
        {"form": form, "kind": outcome_kind, "record": None},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def outcome_edit_view(request, programme_slug, kind, record_uuid):
    outcome_kind = _kind_or_404(kind)
    record = _record_or_404(request, kind, record_uuid)
    by_staff = Role.STAFF in request.roles
    if not by_staff and record.status == OutcomeStatus.VERIFIED:
        messages.info(request, "This record is verified, so it can no longer be changed.")
        return redirect("metrics:outcomes", programme_slug=programme_slug)
    form_class = outcome_form_class(kind)
    status = 200
    conflict = None
    if request.method == "POST":
        form = form_class(request.POST, instance=_fresh(record), fellow=record.fellow)
        if form.is_valid():
            data = {name: form.cleaned_data.get(name) for name in outcome_kind.fields}
            try:
                outcome_change(
                    record=record,
                    actor=request.user,
                    data=data,
                    version=form.cleaned_data.get("version"),
                    by_staff=by_staff,
                )
            except StaleOutcome as stale:
                conflict = stale.record
                status = 409
                posted = request.POST.copy()
                posted["version"] = conflict.version
                form = form_class(posted, instance=_fresh(record), fellow=record.fellow)
                form.is_valid()
                form.add_error(
                    None,
                    "Someone else changed this record since you opened it. It now reads as "
                    "shown below; your changes are still in the form. Check, then save again.",
                )
            except ValidationError as error:
                ensure_errors_shown(form, error)
                status = 400
            else:
                messages.success(request, "Your changes are saved.")
                if by_staff:
                    return redirect("metrics:queue", programme_slug=programme_slug)
                return redirect("metrics:outcomes", programme_slug=programme_slug)
        else:
            status = 400
    else:
        form = form_class(
            instance=record, initial={"version": record.version}, fellow=record.fellow
        )
    return TemplateResponse(
        request,
        "metrics/outcome_form.html",
        {"form": form, "kind": outcome_kind, "record": record, "conflict": conflict},
        status=status,
    )


def _fresh(record):
    """A copy for a bound form to validate against, so the record read for the page keeps
    its stored values (the service re-reads it under a lock anyway)."""
    return type(record).objects.get(pk=record.pk)


@require_POST
def outcome_withdraw_view(request, programme_slug, kind, record_uuid):
    record = _record_or_404(request, kind, record_uuid)
    if record.fellow.user_id != request.user.pk:
        raise PermissionDenied("Only the fellow who reported it can withdraw it.")
    label = str(record)
    try:
        outcome_withdraw(record=record, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Withdrawn: {label}.")
    return redirect("metrics:outcomes", programme_slug=programme_slug)


@require_POST
def outcome_quarter_view(request, programme_slug):
    """The fellow says their outcomes are up to date for this quarter."""
    fellow = _own_fellow(request)
    if fellow is None:
        return _not_a_fellow(request, programme_slug)
    nothing_new = request.POST.get("nothing_new") == "yes"
    update = outcome_update_complete(fellow=fellow, actor=request.user, nothing_new=nothing_new)
    messages.success(
        request,
        f"Thank you: your outcomes are up to date for {quarter_label(update.quarter_start)}.",
    )
    return redirect("metrics:outcomes", programme_slug=programme_slug)


@role_required(Role.STAFF)
@require_GET
def queue_view(request, programme_slug):
    """Staff: outcomes waiting for verification (or any status), every kind, newest first."""
    programme = request.programme
    form = QueueFilterForm(request.GET or None, programme=programme)
    filters = form.cleaned_data if form.is_valid() else {}
    kinds = [OUTCOME_KINDS[filters["kind"]]] if filters.get("kind") else OUTCOME_KINDS.values()
    status = filters.get("status") or OutcomeStatus.REPORTED
    entries = outcome_queue(
        programme=programme, kinds=kinds, status=status, cohort_uuid=filters.get("cohort")
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    waiting = waiting_counts(programme=programme)
    verified_funding = (
        OUTCOME_KINDS["funding"]
        .model.objects.filter(programme=programme, status=OutcomeStatus.VERIFIED)
        .aggregate(total=Sum("amount"))["total"]
    )
    return TemplateResponse(
        request,
        "metrics/queue.html",
        {
            "form": form,
            "page": page,
            "rows": outcome_queue_records(page.object_list, kinds),
            "waiting": [(OUTCOME_KINDS[slug], n) for slug, n in waiting.items()],
            "waiting_total": sum(waiting.values()),
            "verified_funding": verified_funding or 0,
            "querystring": urlencode({k: v for k, v in request.GET.items() if k != "page" and v}),
            "reject_form": RejectForm(),
        },
    )


def _back_to_queue(request, programme_slug):
    url = reverse("metrics:queue", kwargs={"programme_slug": programme_slug})
    # Back to the same filters: only the queue's own parameters go back into the address.
    shown = {k: v for k, v in request.POST.items() if k in QUEUE_PARAMETERS and v}
    return redirect(url + (f"?{urlencode(shown)}" if shown else ""))


@role_required(Role.STAFF)
@require_POST
def outcome_verify_view(request, programme_slug, kind, record_uuid):
    record = _record_or_404(request, kind, record_uuid)
    try:
        outcome_verify(record=record, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Verified: {record} ({record.fellow.user.display_name}).")
    return _back_to_queue(request, programme_slug)


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def outcome_reject_view(request, programme_slug, kind, record_uuid):
    outcome_kind = _kind_or_404(kind)
    record = _record_or_404(request, kind, record_uuid)
    status = 200
    if request.method == "POST":
        form = RejectForm(request.POST)
        if form.is_valid():
            try:
                outcome_reject(
                    record=record, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                ensure_errors_shown(form, error)
                status = 400
            else:
                messages.success(
                    request,
                    f"Not verified: {record}. {record.fellow.user.display_name} has been told why.",
                )
                return _back_to_queue(request, programme_slug)
        else:
            status = 400
    else:
        form = RejectForm()
    return TemplateResponse(
        request,
        "metrics/outcome_reject.html",
        {"form": form, "record": record, "kind": outcome_kind},
        status=status,
    )


# --- programme metrics: dashboard, one metric, drill-down, runs, targets -------------------------


def _metric_or_404(key: str):
    metric = METRICS.get(key)
    if metric is None:
        raise Http404("No such metric")
    return metric


def _chosen_year(request, years):
    wanted = request.GET.get("year")
    for year in years:
        if wanted and str(year.cohort.uuid) == wanted:
            return year
    return current_year(years, timezone.localdate())


@role_required(Role.STAFF)
@require_GET
def dashboard_view(request, programme_slug):
    """Staff: every metric of the programme, read from the latest snapshots."""
    programme = request.programme
    today = timezone.localdate()
    cohorts = list(Cohort.objects.filter(programme=programme).order_by("starts_on"))
    years = programme_years(cohorts)
    year = _chosen_year(request, years)
    context = overview(programme, cohorts, year, today)
    context.update(
        {
            "years": years,
            "run": latest_run(programme),
            "done_run": last_done_run(programme),
            "forecast": run_context(
                fc.latest_run(programme=programme, scope=ForecastRun.Scope.PROGRAMME)
            ),
        }
    )
    return TemplateResponse(request, "metrics/dashboard.html", context)


@role_required(Role.STAFF)
@require_GET
def metric_detail_view(request, programme_slug, key):
    """Staff: one metric — its definition, quarter by quarter, this year against its target,
    each cohort, and the breakdown; every figure links to the rows behind it."""
    programme = request.programme
    metric = _metric_or_404(key)
    today = timezone.localdate()
    cohorts = list(Cohort.objects.filter(programme=programme).order_by("starts_on"))
    years = programme_years(cohorts)
    year = _chosen_year(request, years)
    context = {"metric": metric, "years": years, "year": year, "cohorts": cohorts}
    by_cohort = cohort_figures(programme)
    if metric.family == "period":
        months = period_series(programme)[metric.key]
        first = min((c.starts_on for c in cohorts), default=None)
        context["quarters"] = quarterly(metric, months, first, today)
        context["cohort_rows"] = [(c, by_cohort.get(c.pk, {}).get(key)) for c in cohorts]
        context["total"] = figure_over(metric, months, date.min, date.max)
        if year:
            target = MetricTarget.objects.filter(
                programme=programme, cohort=year.cohort, key=key
            ).first()
            context["target"] = target
            context["prospect"] = prospective(
                metric, months, year, today, target.value if target else None
            )
            labels, values = cumulative_by_month(metric, months, year, today)
            trend = {"labels": labels, "values": values}
            context["trend_chart"] = trend_chart(metric, trend, context["prospect"], year)
            context["trend_rows"] = list(zip(labels, values, strict=True))
            context["year_figure"] = figure_over(metric, months, year.start, year.end)
        context["chart"] = quarter_chart(metric, context["quarters"])
        context["cohort_chart"] = charts.bar_chart(
            title=f"{metric.label} by cohort, all time",
            labels=[c.name for c, _ in context["cohort_rows"]],
            values=[as_float(f.value if f else None) for _, f in context["cohort_rows"]],
            unit=chart_unit(metric),
            chart_id=f"cohorts-{metric.key}",
        )
    elif metric.family == "cohort":
        context["cohort_rows"] = [
            (c, by_cohort.get(c.pk, {}).get(key))
            for c in cohorts
            if by_cohort.get(c.pk, {}).get(key)
        ]
        context["total"] = by_cohort.get(None, {}).get(key)
    else:
        context["edi"] = edi_table(metric, cohorts, by_cohort)
    context["done_run"] = last_done_run(programme)
    return TemplateResponse(request, "metrics/metric_detail.html", context)


class DrillDownForm(forms.Form):
    cohort = forms.UUIDField(required=False)
    start = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    end = forms.DateField(required=False, input_formats=["%Y-%m-%d"])

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError("The period must end on or after it starts.")
        return data


@role_required(Role.STAFF)
@require_GET
def metric_rows_view(request, programme_slug, key):
    """Staff: the rows behind a figure — a metric for a cohort (or the programme) and a
    period, listed as they stand now (the figure is from the last snapshot)."""
    programme = request.programme
    metric = _metric_or_404(key)
    if not metric.traceable:
        raise Http404("Equality figures are not traceable to people")
    form = DrillDownForm(request.GET)
    if not form.is_valid():
        return TemplateResponse(
            request, "metrics/metric_rows.html", {"metric": metric, "form": form}, status=400
        )
    data = form.cleaned_data
    cohort = None
    if data.get("cohort"):
        cohort = get_object_or_404(Cohort, programme=programme, uuid=data["cohort"])
    rows, columns = metric.rows(
        programme, cohort, data.get("start"), data.get("end"), timezone.localdate()
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    table = [[column.value(row) for column in columns] for row in page.object_list]
    return TemplateResponse(
        request,
        "metrics/metric_rows.html",
        {
            "metric": metric,
            "form": form,
            "cohort": cohort,
            "start": data.get("start"),
            "end": data.get("end"),
            "columns": columns,
            "table": table,
            "page": page,
            "querystring": urlencode({k: v for k, v in request.GET.items() if k != "page" and v}),
        },
    )


@role_required(Role.STAFF)
@require_POST
def metric_run_create_view(request, programme_slug):
    run = metric_run_request(programme=request.programme, actor=request.user)
    return redirect("metrics:run", programme_slug=programme_slug, run_uuid=run.uuid)


@role_required(Role.STAFF)
@require_GET
def metric_run_view(request, programme_slug, run_uuid):
    run = get_object_or_404(MetricRun, programme=request.programme, uuid=run_uuid)
    return TemplateResponse(request, "metrics/run.html", {"run": run})


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def metric_targets_view(request, programme_slug):
    """Staff: the targets for one programme year, one field per metric counted by month."""
    programme = request.programme
    cohorts = list(Cohort.objects.filter(programme=programme).order_by("starts_on"))
    years = programme_years(cohorts)
    wanted = request.POST.get("year") or request.GET.get("year")
    year = next((y for y in years if str(y.cohort.uuid) == wanted), None) or current_year(
        years, timezone.localdate()
    )
    if year is None:
        messages.info(request, "Add a cohort first: targets are set for a cohort's year.")
        return redirect("cohort:cohorts", programme_slug=programme_slug)
    existing = {
        t.key: t for t in MetricTarget.objects.filter(programme=programme, cohort=year.cohort)
    }
    form = TargetsForm(request.POST or None, existing=existing)
    if request.method == "POST" and form.is_valid():
        changed = 0
        for key, value in form.cleaned_data.items():
            old = existing.get(key)
            if (old.value if old else None) != value:
                metric_target_save(
                    programme=programme,
                    cohort=year.cohort,
                    key=key,
                    value=value,
                    note="",
                    actor=request.user,
                )
                changed += 1
        messages.success(
            request,
            f"Targets for {year.label} saved ({changed} changed)."
            if changed
            else "Nothing changed.",
        )
        return redirect(
            f"{reverse('metrics:dashboard', kwargs={'programme_slug': programme_slug})}"
            f"?{urlencode({'year': year.cohort.uuid})}"
        )
    return TemplateResponse(
        request,
        "metrics/targets.html",
        {"form": form, "year": year, "years": years},
        status=400 if request.method == "POST" else 200,
    )


# --- CSV exports -------------------------------------------------------------------------------


def _csv_response(filename: str, headers: list[str], rows: list[list]) -> HttpResponse:
    dataset = tablib.Dataset(headers=headers)
    for row in rows:
        dataset.append(row)
    response = HttpResponse(dataset.export("csv"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@role_required(Role.STAFF)
@require_GET
def metric_csv_view(request, programme_slug, key):
    """Staff: one metric's figures as CSV, every month (or cohort) with its sums."""
    metric = _metric_or_404(key)
    headers, rows = metric_table(request.programme, metric)
    filename = f"{programme_slug}-{metric.key}-{timezone.localdate().isoformat()}.csv"
    return _csv_response(filename, headers, rows)


@role_required(Role.STAFF)
@require_GET
def metrics_csv_view(request, programme_slug):
    """Staff: every metric's figures in one long CSV (EDI as its suppressed tables' totals)."""
    programme = request.programme
    cohorts = {c.pk: c.name for c in Cohort.objects.filter(programme=programme)}
    headers = ["Metric", "Key", "Cohort", "From", "To", "Value", "Numerator", "Denominator", "Unit"]
    rows = []
    snapshots = (
        MetricSnapshot.objects.filter(programme=programme)
        .exclude(key__startswith="edi_")
        .order_by("key", "cohort_id", "period_start")
        .values_list(
            "key", "cohort_id", "period_start", "period_end", "value", "numerator", "denominator"
        )
    )
    for key, cohort_id, start, end, value, n, d in snapshots:
        metric = METRICS.get(key)
        if metric is None:
            continue
        rows.append(
            [
                metric.label,
                key,
                spreadsheet_safe(cohorts.get(cohort_id, "")) if cohort_id else "All cohorts",
                start.isoformat(),
                end.isoformat(),
                spreadsheet_number(value),
                spreadsheet_number(n),
                spreadsheet_number(d),
                metric.unit,
            ]
        )
    filename = f"{programme_slug}-metrics-{timezone.localdate().isoformat()}.csv"
    return _csv_response(filename, headers, rows)


# --- the annual programme report ---------------------------------------------------------------


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def reports_view(request, programme_slug):
    """Staff: the annual reports asked for so far, and a new one for a programme year."""
    programme = request.programme
    cohorts = list(Cohort.objects.filter(programme=programme).order_by("-starts_on"))
    today = timezone.localdate()
    started = [c for c in cohorts if c.starts_on <= today]
    initial = {"year": str(started[0].uuid)} if started else {}
    form = ReportForm(request.POST or None, cohorts=cohorts, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                report = report_request(
                    programme=programme, cohort=form.cleaned_data["year"], actor=request.user
                )
            except ValidationError as error:
                ensure_errors_shown(form, error)
            else:
                return redirect(
                    "metrics:report", programme_slug=programme_slug, report_uuid=report.uuid
                )
        status = 400
    reports = (
        ProgrammeReport.objects.filter(programme=programme)
        .select_related("cohort", "requested_by")
        .defer("pdf")[:20]
    )
    return TemplateResponse(
        request, "metrics/reports.html", {"form": form, "reports": reports}, status=status
    )


def _report_or_404(request, report_uuid):
    return get_object_or_404(
        ProgrammeReport.objects.select_related("cohort", "requested_by").defer("pdf"),
        programme=request.programme,
        uuid=report_uuid,
    )


@role_required(Role.STAFF)
@require_GET
def report_view(request, programme_slug, report_uuid):
    report = _report_or_404(request, report_uuid)
    return TemplateResponse(request, "metrics/report.html", {"report": report})


@role_required(Role.STAFF)
@require_GET
def report_download_view(request, programme_slug, report_uuid):
    report = get_object_or_404(
        ProgrammeReport, programme=request.programme, uuid=report_uuid, status="done"
    )
    report_downloaded(report=report, actor=request.user)
    filename = f"{programme_slug}-report-{slugify(report.cohort.name)}.pdf"
    response = HttpResponse(bytes(report.pdf), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
