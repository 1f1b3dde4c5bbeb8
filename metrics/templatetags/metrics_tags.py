"""Template pieces the home pages include without importing this app in Python (nothing
outside metrics imports it: DESIGN §3)."""

from django import template
from django.utils import timezone

from cohort.models import Role
from cohort.selectors import fellow_for_user

from ..charts import fan_chart
from ..definitions import METRICS
from ..personal_figures import cached_outcome_counts, cached_people_figures
from ..selectors import PERSONAL_METRICS, cohort_summary, waiting_counts
from ..services import OUTCOME_KINDS, outcome_update_due, quarter_label

register = template.Library()


@register.inclusion_tag("metrics/includes/home_outcomes.html", takes_context=True)
def home_outcomes(context, fellow=None):
    """The fellow's outcomes at a glance, and the quarterly task until they have done it."""
    request = context["request"]
    programme = request.programme
    fellow = fellow or fellow_for_user(programme=programme, user=request.user)
    if fellow is None:
        return {"fellow": None}
    counts = cached_outcome_counts(programme, fellow)
    due = outcome_update_due(fellow=fellow)
    return {
        "fellow": fellow,
        "programme": programme,
        "rows": [(OUTCOME_KINDS[slug], c) for slug, c in counts.items()],
        "returned": sum(c["returned"] for c in counts.values()),
        "due_label": quarter_label(due) if due else "",
    }


@register.inclusion_tag("metrics/includes/staff_outcomes.html", takes_context=True)
def staff_outcomes_waiting(context):
    """Staff home: how many outcome records wait for verification."""
    request = context["request"]
    programme = request.programme
    if Role.STAFF not in request.roles:
        return {"waiting": 0}
    waiting = sum(waiting_counts(programme=programme).values())
    return {"waiting": waiting, "programme": programme}


# --- Patient Impact forecast ------------------------------------------------------------------


@register.filter
def percent(value, places=0):
    """0.35 -> "35%" (places: decimal places); "—" for nothing."""
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value) * 100:.{int(places)}f}%"
    except (TypeError, ValueError):
        return "—"


@register.simple_tag
def forecast_fan_chart(title, chart, unit="patients"):
    """The run's fan chart (an inline accessible SVG drawn on the server, metrics.charts);
    the page always shows the table of the same numbers beside it."""
    if not chart or not chart.get("years"):
        return ""
    return fan_chart(
        title=title,
        years=chart["years"],
        p10=chart["p10"],
        p50=chart["p50"],
        p90=chart["p90"],
        mean=chart.get("mean"),
        actual=chart.get("actual"),
        unit=unit,
    )


@register.inclusion_tag("metrics/includes/home_forecast.html", takes_context=True)
def home_forecast(context, fellow=None):
    """The fellow's ventures' forecast inputs at a glance: where each stands, what to do."""
    from ..forecasting import forecast_input_status_by_venture

    request = context["request"]
    programme = request.programme
    fellow = fellow or fellow_for_user(programme=programme, user=request.user)
    if fellow is None:
        return {"rows": []}
    return {
        "programme": programme,
        "rows": forecast_input_status_by_venture(programme=programme, fellow=fellow),
    }


@register.filter
def estimate(record, prefix):
    """A forecast input's (low, likely, high) for one estimate, or None."""
    return record.estimate(prefix) if record is not None else None


@register.filter
def metric_value(value, unit="count"):
    """A metric's figure as people read it: £1,234,567 · 84% · 6.5 days · 1,234."""
    if value is None or value == "":
        return "—"
    value = float(value)
    if unit == "gbp":
        return f"£{value:,.0f}"
    if unit == "percent":
        return f"{value:.0f}%"
    if unit == "days":
        return f"{value:.1f} days"
    if unit == "jobs":
        return f"{value:,.1f}".removesuffix(".0")
    return f"{value:,.0f}"


@register.filter
def suppressed(value):
    """An EDI count after suppression: None is a hidden small number."""
    return "fewer than 5" if value is None else f"{value:,}"


@register.inclusion_tag("metrics/includes/home_figures.html", takes_context=True)
def home_figures(context, fellow=None):
    """The fellow's own figures beside her cohort's (from the last snapshots)."""
    request = context["request"]
    programme = request.programme
    fellow = fellow or fellow_for_user(programme=programme, user=request.user)
    if fellow is None:
        return {"rows": []}
    mine = cached_people_figures(programme, [fellow], timezone.localdate())[fellow.pk]
    cohort = cohort_summary(programme, fellow.cohort)
    return {
        "rows": [(mine[key], cohort.get(key)) for key in PERSONAL_METRICS],
        "cohort": fellow.cohort,
    }


@register.inclusion_tag("metrics/includes/mentee_figures.html", takes_context=True)
def mentee_figures(context):
    """A mentor's mentees, each with their own figures (current mentorships)."""
    from mentoring.models import Mentorship

    request = context["request"]
    programme = request.programme
    fellows = [
        m.fellow
        for m in Mentorship.objects.filter(
            programme=programme, mentor__user=request.user, ended_on__isnull=True
        )
        .select_related("fellow__user")
        .order_by("fellow__user__full_name")
    ]
    figures = cached_people_figures(programme, fellows, timezone.localdate())
    return {
        "metrics": [METRICS[key] for key in PERSONAL_METRICS],
        "rows": [(f, [figures[f.pk][key] for key in PERSONAL_METRICS]) for f in fellows],
    }
