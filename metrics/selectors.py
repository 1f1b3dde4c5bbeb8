"""Reads of the metrics app that more than one page needs. Each takes the tenant explicitly."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils.http import urlencode

from cohort.models import Cohort, Programme

from .definitions import METRICS, ZERO, Metric
from .models import MetricRun, MetricSnapshot, OutcomeStatus
from .services import OUTCOME_KINDS


def waiting_counts(*, programme: Programme) -> dict[str, int]:
    """How many records of each kind wait for verification (one query per kind)."""
    return {
        slug: kind.model.objects.filter(programme=programme, status=OutcomeStatus.REPORTED).count()
        for slug, kind in OUTCOME_KINDS.items()
    }


def outcome_queue(*, programme: Programme, kinds, status: str, cohort_uuid=None):
    """The verification queue's entries, newest report first: one UNION ALL of every kind's
    (reported_at, id, kind slug) for the database to sort and the paginator to count and slice, so
    that each page reads its own records only, and every record can be paged to however many
    wait. `status` "all" takes every status."""
    from django.db.models import CharField, Value

    entries = None
    for kind in kinds:
        part = kind.model.objects.filter(programme=programme)
        if status != "all":
            part = part.filter(status=status)
        if cohort_uuid:
            part = part.filter(fellow__cohort__uuid=cohort_uuid)
        part = (
            part.annotate(outcome_kind=Value(kind.slug, output_field=CharField()))
            .order_by()  # each part unordered: the union is sorted as a whole
            .values_list("reported_at", "id", "outcome_kind")
        )
        entries = part if entries is None else entries.union(part, all=True)
    return entries.order_by("-reported_at", "-id", "outcome_kind")


def outcome_queue_records(entries, kinds) -> list:
    """The records of a page of outcome_queue() entries, in its order, each with its
    `outcome_kind`: one query per kind asked for, run even when none of its records is on the
    page, so that the page reads as many queries whatever it shows."""
    wanted: dict[str, list[int]] = {kind.slug: [] for kind in kinds}
    for _reported_at, pk, slug in entries:
        wanted[slug].append(pk)
    found = {}
    for slug, pks in wanted.items():
        kind = OUTCOME_KINDS[slug]
        # pk__in=[] would be answered without asking the database.
        chosen = Q(pk__in=pks) if pks else Q(pk__isnull=True)
        records = kind.model.objects.filter(chosen).select_related(
            "fellow__user", "fellow__cohort", "venture", "verified_by"
        )
        for record in records:
            record.outcome_kind = kind
            found[slug, record.pk] = record
    return [found[slug, pk] for _reported_at, pk, slug in entries if (slug, pk) in found]


# The outcome kinds among a fellow's own figures: the figure, and the field her verified
# records' sum is of (None: their count).
PERSONAL_OUTCOMES = {
    "funding": ("funding_raised", "amount"),
    "partnerships": ("partnerships", None),
    "patients": ("patients_reached", "patients"),
}


def outcome_counts(*, programme: Programme, fellows) -> dict[int, dict[str, dict]]:
    """{fellow id: {kind slug: {verified, waiting, returned, verified_total}}} of these fellows'
    outcome records, one small query per kind whatever the number of fellows. verified_total,
    for her own figures, is her verified records' sum of the field PERSONAL_OUTCOMES names
    (their count for the other kinds).

    One query per kind rather than one in all: a single query of fifteen subqueries took the
    ORM longer to build (25 ms) than the five round trips take (10 ms)."""
    ids = [f.pk for f in fellows]
    zero = {"verified": 0, "waiting": 0, "returned": 0, "verified_total": ZERO}
    counts = {pk: {slug: dict(zero) for slug in OUTCOME_KINDS} for pk in ids}
    for slug, kind in OUTCOME_KINDS.items():
        verified = Q(status=OutcomeStatus.VERIFIED)
        field_name = PERSONAL_OUTCOMES.get(slug, (None, None))[1]
        rows = (
            kind.model.objects.filter(programme=programme, fellow_id__in=ids)
            .values("fellow_id")
            .annotate(
                verified=Count("pk", filter=verified),
                waiting=Count("pk", filter=Q(status=OutcomeStatus.REPORTED)),
                returned=Count("pk", filter=Q(status=OutcomeStatus.REJECTED)),
                **({"verified_total": Sum(field_name, filter=verified)} if field_name else {}),
            )
        )
        for row in rows:
            row["verified_total"] = Decimal(row.get("verified_total", row["verified"]) or 0)
            counts[row.pop("fellow_id")][slug] = row
    return counts


# --- metric dashboards (read snapshots only: a fixed number of queries whatever the data) ---


@dataclass
class Figure:
    """A metric over a span: its value, and the sums it is made of."""

    metric: Metric
    numerator: Decimal = ZERO
    denominator: Decimal = ZERO
    breakdown: dict = field(default_factory=dict)

    def add(self, numerator, denominator, breakdown=None) -> None:
        self.numerator += Decimal(numerator or 0)
        self.denominator += Decimal(denominator or 0)
        for part, (n, d) in (breakdown or {}).items():
            sums = self.breakdown.setdefault(part, [0.0, 0.0])
            sums[0] += n
            sums[1] += d

    @property
    def value(self) -> Decimal | None:
        return self.metric.value_of(self.numerator, self.denominator)

    @property
    def rate(self) -> Decimal | None:
        return self.metric.rate_of(self.numerator, self.denominator)

    @property
    def parts(self) -> list[dict]:
        labels = self.metric.breakdown_labels
        rows = []
        for part, (n, d) in sorted(self.breakdown.items(), key=lambda item: -item[1][0]):
            share = self.metric.value_of(n, d) if self.metric.kind != "sum" else None
            rows.append({"key": part, "label": labels.get(part, part), "value": n, "share": share})
        return rows


@dataclass(frozen=True)
class Year:
    """A programme year: the span of one cohort's year (staff set targets for it)."""

    cohort: Cohort
    start: date
    end: date

    @property
    def label(self) -> str:
        if self.start.year == self.end.year:
            return str(self.start.year)
        return f"{self.start.year}/{str(self.end.year)[-2:]}"


def programme_years(cohorts) -> list[Year]:
    return [Year(c, c.starts_on, c.ends_on) for c in sorted(cohorts, key=lambda c: c.starts_on)]


def current_year(years: list[Year], today: date) -> Year | None:
    """The year under way (the latest to have started), else the first to come."""
    started = [y for y in years if y.start <= today]
    if started:
        return started[-1]
    return years[0] if years else None


def quarter_of(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_name(start: date) -> str:
    end = date(start.year, start.month + 2, 1)
    return f"{start:%b}\N{EN DASH}{end:%b} {start.year}"


def latest_run(programme: Programme) -> MetricRun | None:
    return MetricRun.objects.filter(programme=programme).order_by("-created_at", "-id").first()


def last_done_run(programme: Programme) -> MetricRun | None:
    return (
        MetricRun.objects.filter(programme=programme, status=MetricRun.Status.DONE)
        .order_by("-finished_at", "-id")
        .first()
    )


def period_series(programme: Programme, *, cohort: Cohort | None = None) -> dict:
    """Every period metric's monthly figures for the programme (or one cohort), in one query:
    {key: {month start: (numerator, denominator, breakdown)}}."""
    rows = MetricSnapshot.objects.filter(
        programme=programme,
        key__in=[m.key for m in METRICS.values() if m.family == "period"],
    )
    rows = rows.filter(cohort=cohort) if cohort else rows.filter(cohort__isnull=True)
    series: dict[str, dict] = {key: {} for key, m in METRICS.items() if m.family == "period"}
    for key, start, n, d, breakdown in rows.values_list(
        "key", "period_start", "numerator", "denominator", "breakdown"
    ):
        series[key][start] = (n, d, breakdown)
    return series


def figure_over(metric: Metric, months: dict, start: date, end: date) -> Figure:
    figure = Figure(metric)
    for month, (n, d, breakdown) in months.items():
        if start <= month <= end:
            figure.add(n, d, breakdown)
    return figure


def quarterly(metric: Metric, months: dict, first: date | None, last: date) -> list[dict]:
    """The monthly figures summed into calendar quarters, from the quarter of `first` to the
    quarter of `last`, with the quarters that had nothing shown as empty."""
    if not months and first is None:
        return []
    first = quarter_of(min([*months, *([first] if first else [])]))
    last = quarter_of(last)
    rows, start = [], first
    while start <= last:
        end = date(start.year + (start.month + 3 > 12), (start.month + 2) % 12 + 1, 1)
        last_day = end - timedelta(days=1)
        rows.append(
            {
                "start": start,
                "end": last_day,
                "label": quarter_name(start),
                "figure": figure_over(metric, months, start, last_day),
                # The drill-down link's query, made here: the dashboard has some 380 of them
                # and the template's date filter was a tenth of its time.
                "period": urlencode({"start": start, "end": last_day}),
            }
        )
        start = end
    return rows


def cohort_figures(programme: Programme, *, start: date | None = None, end: date | None = None):
    """Each cohort's figure for every metric (period metrics summed over [start, end], or all
    time), in two queries: {cohort id: {key: Figure}}."""
    period = [m.key for m in METRICS.values() if m.family == "period"]
    sums = MetricSnapshot.objects.filter(programme=programme, cohort__isnull=False, key__in=period)
    if start:
        sums = sums.filter(period_start__gte=start)
    if end:
        sums = sums.filter(period_start__lte=end)
    figures: dict[int, dict[str, Figure]] = {}
    for cohort_id, key, n, d in (
        sums.values("cohort_id", "key")
        .annotate(n=Sum("numerator"), d=Sum("denominator"))
        .values_list("cohort_id", "key", "n", "d")
    ):
        figures.setdefault(cohort_id, {})[key] = Figure(METRICS[key], n or ZERO, d or ZERO)
    others = MetricSnapshot.objects.filter(programme=programme).exclude(key__in=period)
    for cohort_id, key, n, d, breakdown in others.values_list(
        "cohort_id", "key", "numerator", "denominator", "breakdown"
    ):
        if key in METRICS:
            figure = Figure(METRICS[key])
            figure.add(n, d, breakdown)
            figures.setdefault(cohort_id, {})[key] = figure
    return figures


def prospective(metric: Metric, months: dict, year: Year, today: date, target=None) -> dict:
    """The year to date projected to the year's end at the rate so far, against the target.

    A count or an amount is projected in proportion to the time elapsed (so far ÷ share of
    the year gone); a rate or a mean is projected as it stands. Nothing is projected in the
    year's first month (too little to go on) or once the year is over (it is then actual)."""
    upto = min(today, year.end)
    so_far = figure_over(metric, months, year.start, upto)
    length = (year.end - year.start).days + 1
    elapsed = max(0, (upto - year.start).days + 1)
    share = Decimal(elapsed) / Decimal(length)
    over = today > year.end
    projected = None
    if not over and elapsed >= 28 and so_far.value is not None:
        projected = so_far.value / share if metric.kind == "sum" else so_far.value
        projected = projected.quantize(Decimal("0.01"))
    final = so_far.value if over else projected
    status = ""
    if target is not None and final is not None:
        good = final >= target if metric.higher_is_better else final <= target
        outcomes = ("met", "missed") if over else ("on_track", "behind")
        status = outcomes[0] if good else outcomes[1]
    return {
        "metric": metric,
        "so_far": so_far,
        "share": round(100 * share) if not over else 100,
        "projected": projected,
        "target": target,
        "status": status,
        "over": over,
    }


def cumulative_by_month(metric: Metric, months: dict, year: Year, upto: date) -> list:
    """This year's running figure month by month (None after `upto`), for the trend chart."""
    values, labels, start = [], [], year.start.replace(day=1)
    n = d = ZERO
    while start <= year.end:
        labels.append(f"{start:%b %Y}")
        if start <= upto:
            month = months.get(start)
            if month:
                n += Decimal(month[0] or 0)
                d += Decimal(month[1] or 0)
            value = metric.value_of(n, d)
            values.append(float(value) if value is not None else None)
        else:
            values.append(None)
        start = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return labels, values


# --- a person's own figures (the fellow's home; a mentor's mentees) -----------------------------

PERSONAL_METRICS = (
    "events_attended",
    "new_connections",
    "funding_raised",
    "partnerships",
    "patients_reached",
    "pdp_fulfilment",
    "meetings_on_time",
    "milestone_achievement",
)


def people_figures(
    programme: Programme, fellows, today: date, outcomes: dict | None = None
) -> dict[int, dict[str, Figure]]:
    """Each fellow's own figures, all time, by the same rules as the programme's metrics
    (metrics.definitions), in one query per metric whatever the number of fellows:
    {fellow id: {key: Figure}}. Her verified outcomes come from `outcomes` (outcome_counts()
    of these fellows) when the caller has them already."""
    from django.db.models import Count, F, Q

    from mentoring.models import Milestone
    from pdp.models import Objective

    from . import definitions as d

    fellows = list(fellows)
    ids = [f.pk for f in fellows]
    by_user = {f.user_id: f.pk for f in fellows}
    figures = {pk: {key: Figure(METRICS[key]) for key in PERSONAL_METRICS} for pk in ids}
    if not ids:
        return figures

    def add(fellow_id, key, n, d=0):
        if fellow_id in figures:
            figures[fellow_id][key].add(n, d)

    from events.models import Registration

    for user_id, n, total in (
        d._registrations(programme, today)
        .filter(user_id__in=by_user)
        .values("user_id")
        .annotate(n=Count("id", filter=Q(status=Registration.Status.ATTENDED)), t=Count("id"))
        .values_list("user_id", "n", "t")
    ):
        add(by_user[user_id], "events_attended", n, total)
    for requester, addressee in (
        d._connections(programme)
        .filter(Q(requester_id__in=by_user) | Q(addressee_id__in=by_user))
        .values_list("requester_id", "addressee_id")
    ):
        for user_id in {requester, addressee} & set(by_user):
            add(by_user[user_id], "new_connections", 1)
    if outcomes is None:
        outcomes = outcome_counts(programme=programme, fellows=fellows)
    for fellow_id, kinds in outcomes.items():
        for slug, (key, _field) in PERSONAL_OUTCOMES.items():
            add(fellow_id, key, kinds[slug]["verified_total"])
    for fellow_id, n, total in (
        d._objectives(programme, today)
        .filter(pdp__fellow_id__in=ids)
        .values(f=F("pdp__fellow_id"))
        .annotate(n=Count("id", filter=Q(status=Objective.Status.ACHIEVED)), t=Count("id"))
        .values_list("f", "n", "t")
    ):
        add(fellow_id, "pdp_fulfilment", n, total)
    for _mentorship, _cohort, _number, opens, closes, held_on, fellow_id in d.meeting_slots(
        programme, today, fellow_ids=ids
    ):
        on_time = held_on is not None and opens <= held_on <= closes
        add(fellow_id, "meetings_on_time", int(on_time), 1)
    for fellow_id, n, total in (
        d._decided_milestones(programme)
        .filter(mentorship__fellow_id__in=ids)
        .values(f=F("mentorship__fellow_id"))
        .annotate(n=Count("id", filter=Q(status=Milestone.Status.ACHIEVED)), t=Count("id"))
        .values_list("f", "n", "t")
    ):
        add(fellow_id, "milestone_achievement", n, total)
    return figures


def cohort_summary(programme: Programme, cohort: Cohort) -> dict[str, Figure]:
    """A cohort's figures from the last snapshots (all time), for its fellows' home pages."""
    sums = (
        MetricSnapshot.objects.filter(programme=programme, cohort=cohort, key__in=PERSONAL_METRICS)
        .values("key")
        .annotate(n=Sum("numerator"), d=Sum("denominator"))
        .values_list("key", "n", "d")
    )
    return {key: Figure(METRICS[key], n or ZERO, d or ZERO) for key, n, d in sums}
