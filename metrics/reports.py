"""The programme's figures put together: the overview the staff dashboard shows and the annual
report prints (the same charts serve both: SVG drawn on the server), and the tables the CSV
exports write."""

from __future__ import annotations

from decimal import Decimal

from cohort.importing import spreadsheet_safe
from cohort.models import Cohort

from . import charts
from .definitions import METRICS
from .models import MetricSnapshot, MetricTarget
from .selectors import (
    cohort_figures,
    figure_over,
    period_series,
    prospective,
    quarterly,
)
from .suppression import TOTAL, suppress_table


def as_float(value):
    return float(value) if value is not None else None


def chart_unit(metric) -> str:
    return metric.unit if metric.unit in charts.UNITS else "count"


def quarter_chart(metric, quarters) -> str:
    """A metric quarter by quarter: the programme line (and its rate, for a count that has
    one, is in the table beside it)."""
    values = [float(q["figure"].value) if q["figure"].value is not None else None for q in quarters]
    return charts.line_chart(
        title=f"{metric.label} by quarter",
        labels=[q["label"] for q in quarters],
        series=[charts.Series(metric.label, values)],
        unit=chart_unit(metric),
        chart_id=f"chart-{metric.key}",
    )


def trend_chart(metric, trend, prospect, year) -> str:
    """This year so far, month by month, projected to the year's end, against the target."""
    values = trend["values"]
    projection = None
    if prospect and prospect.get("projected") is not None:
        last = max((i for i, v in enumerate(values) if v is not None), default=None)
        if last is not None and last < len(values) - 1:
            projected = [None] * len(values)
            projected[last] = values[last]
            projected[-1] = float(prospect["projected"])
            projection = charts.Series("Projected to the year's end", projected, style="dashed")
    target = prospect.get("target") if prospect else None
    return charts.line_chart(
        title=f"{metric.label} in {year.label}, so far and projected",
        labels=trend["labels"],
        series=[charts.Series(f"{year.label} so far", values)],
        unit=chart_unit(metric),
        target=float(target) if target is not None else None,
        projection=projection,
        chart_id=f"trend-{metric.key}",
    )


def overview(programme, cohorts, year, today) -> dict:
    """Every metric of the programme for the dashboard and the report, from the snapshots in
    a fixed number of queries: the year against its targets, each metric quarter by quarter
    with its chart, the cohorts compared, the intakes and the suppressed EDI tables."""
    series = period_series(programme)
    targets = {}
    if year:
        targets = {
            t.key: t.value
            for t in MetricTarget.objects.filter(programme=programme, cohort=year.cohort)
        }
    first = min((c.starts_on for c in cohorts), default=None)
    cards = []
    for metric in METRICS.values():
        if metric.family != "period":
            continue
        months = series[metric.key]
        card = {"metric": metric, "quarters": quarterly(metric, months, first, today)}
        card["chart"] = quarter_chart(metric, card["quarters"])
        if year:
            card["year"] = figure_over(metric, months, year.start, year.end)
            card["prospect"] = prospective(metric, months, year, today, targets.get(metric.key))
        cards.append(card)
    by_cohort = cohort_figures(programme)
    comparison = [
        {
            "cohort": c,
            "figures": [by_cohort.get(c.pk, {}).get(card["metric"].key) for card in cards],
        }
        for c in cohorts
    ]
    whole = by_cohort.get(None, {})
    cohort_metrics = []
    for metric in METRICS.values():
        if metric.family != "cohort":
            continue
        rows = [(c, by_cohort.get(c.pk, {}).get(metric.key)) for c in cohorts]
        cohort_metrics.append(
            {"metric": metric, "rows": [r for r in rows if r[1]], "total": whole.get(metric.key)}
        )
    edi = [
        edi_table(metric, cohorts, by_cohort)
        for metric in METRICS.values()
        if metric.family == "edi"
    ]
    return {
        "cards": cards,
        "year": year,
        "comparison": comparison,
        "comparison_metrics": [card["metric"] for card in cards],
        "cohort_metrics": cohort_metrics,
        "edi": edi,
        "today": today,
    }


def edi_table(metric, cohorts, by_cohort) -> dict:
    """One equality question: cohorts down, answers across, with small numbers suppressed
    along rows, columns and totals (metrics.suppression)."""
    columns = list(metric.breakdown_labels)
    table = {}
    for cohort in cohorts:
        figure = by_cohort.get(cohort.pk, {}).get(metric.key)
        if figure:
            table[str(cohort.pk)] = {part: int(n) for part, (n, _d) in figure.breakdown.items()}
    cells, row_totals, column_totals = suppress_table(table, columns)
    names = {str(c.pk): c for c in cohorts}
    return {
        "metric": metric,
        "columns": [metric.breakdown_labels[c] for c in columns],
        "rows": [
            {
                "cohort": names[key],
                "cells": [cells[key][c] for c in columns],
                "total": row_totals[key],
            }
            for key in table
        ],
        "totals": [column_totals[c] for c in columns],
        "grand_total": column_totals[TOTAL],
    }


def spreadsheet_number(value):
    """A figure for a spreadsheet: whole numbers without decimals, others to 2 places."""
    if value is None:
        return ""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else round(value, 2)


def metric_table(programme, metric) -> tuple[list[str], list[list]]:
    """One metric's figures as a table (the CSV export and the report read it): month by
    month for the programme and each cohort, or one row per cohort; EDI suppressed."""
    cohorts = {c.pk: c for c in Cohort.objects.filter(programme=programme)}
    if metric.family == "edi":
        table = edi_table(metric, list(cohorts.values()), cohort_figures(programme))
        headers = ["Cohort", *table["columns"], "Total"]
        shown = [suppressed_text(v) for v in [*table["totals"], table["grand_total"]]]
        rows = [
            [spreadsheet_safe(row["cohort"].name)]
            + [suppressed_text(v) for v in [*row["cells"], row["total"]]]
            for row in table["rows"]
        ]
        return headers, [*rows, ["All cohorts", *shown]]
    parts = list(metric.breakdown_labels)
    snapshots = (
        MetricSnapshot.objects.filter(programme=programme, key=metric.key)
        .order_by("cohort_id", "period_start")
        .values_list(
            "cohort_id",
            "period_start",
            "period_end",
            "value",
            "numerator",
            "denominator",
            "breakdown",
        )
    )
    headers = ["Cohort", "From", "To", metric.label, "Numerator", "Denominator"]
    if metric.rate_label:
        headers.append(f"Rate (% {metric.rate_label})")
    headers += [metric.breakdown_labels[p] for p in parts]
    rows = []
    for cohort_id, start, end, value, n, d, breakdown in snapshots:
        row = [
            spreadsheet_safe(cohorts[cohort_id].name) if cohort_id else "All cohorts",
            start.isoformat(),
            end.isoformat(),
            spreadsheet_number(value),
            spreadsheet_number(n),
            spreadsheet_number(d),
        ]
        if metric.rate_label:
            row.append(spreadsheet_number(metric.rate_of(n, d)))
        row += [spreadsheet_number(breakdown.get(p, [0, 0])[0]) for p in parts]
        rows.append(row)
    return headers, rows


def suppressed_text(value) -> str | int:
    return "fewer than 5" if value is None else value


# --- the annual programme report (PDF) ---------------------------------------------------------

REPORT_TEMPLATE = "metrics/report_pdf.html"


def report_context(programme, cohort, today) -> dict:
    """Everything the annual report says about one programme year, in the order it says it.
    Reads the snapshots and the stored forecast only, so it prints the dashboard's figures."""
    from . import forecasting as fc
    from .forecast_views import run_context
    from .models import ForecastRun
    from .selectors import Year, last_done_run, programme_years

    cohorts = list(Cohort.objects.filter(programme=programme).order_by("starts_on"))
    year = Year(cohort, cohort.starts_on, cohort.ends_on)
    context = overview(programme, cohorts, year, today)
    for card in context["cards"]:
        card["year_quarters"] = [
            q for q in card["quarters"] if year.start <= q["end"] and q["start"] <= year.end
        ]
        card["year_chart"] = quarter_chart(card["metric"], card["year_quarters"])
    intake = {}
    for block in context["cohort_metrics"]:
        intake[block["metric"].key] = next(
            (figure for c, figure in block["rows"] if c.pk == cohort.pk), None
        )
    funnel = intake.get("recruitment")
    funnel_labels = list(METRICS["recruitment"].breakdown_labels.items())
    funnel_values = [
        float(funnel.breakdown.get(key, [0, 0])[0]) if funnel else None for key, _ in funnel_labels
    ]
    forecast_run = fc.latest_run(programme=programme, scope=ForecastRun.Scope.PROGRAMME)
    forecast = run_context(forecast_run)
    if forecast_run is not None:
        forecast["svg"] = charts.fan_chart(
            title="Patients reached each year: the programme's forecast",
            years=forecast["chart"]["years"],
            p10=forecast["chart"]["p10"],
            p50=forecast["chart"]["p50"],
            p90=forecast["chart"]["p90"],
            mean=forecast["chart"]["mean"],
            chart_id="report-forecast",
        )
    context.update(
        {
            "programme": programme,
            "cohort": cohort,
            "years": programme_years(cohorts),
            "generated_on": today,
            "computed": last_done_run(programme),
            "fellows": cohort.fellows.count(),
            "funnel": funnel,
            "funnel_rows": list(
                zip([label for _, label in funnel_labels], funnel_values, strict=True)
            ),
            "funnel_chart": charts.bar_chart(
                title=f"Recruitment to {cohort.name}",
                labels=[label for _, label in funnel_labels],
                values=funnel_values,
                chart_id="report-funnel",
            )
            if funnel
            else "",
            "returners": intake.get("returners"),
            "arrangements": intake.get("oope_ltft"),
            "forecast": forecast,
        }
    )
    return context


def render_report_pdf(context: dict) -> bytes:
    """The report as an A4 PDF; it fetches nothing (the charts are inline SVG)."""
    from django.template.loader import render_to_string
    from weasyprint import HTML  # imported here: it loads Pango, which web pages never need
    from weasyprint.urls import URLFetcher

    html = render_to_string(REPORT_TEMPLATE, context)
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    return HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()
