"""Every programme metric of DESIGN §7, defined once: what it counts (the words staff and
partners read), how it is computed for the programme, each cohort and each month, and which
rows lie behind a figure (the drill-down).

Two families:

* period metrics are computed per calendar month, for the programme and for each cohort; any
  longer span is the sum of its months (a rate sums its numerator and denominator, a mean its
  total and count, so a quarter or a year is exact, never an average of averages);
* cohort metrics (the recruitment funnel, returners, training arrangements and EDI) describe a
  cohort as appointed: one figure per cohort over the cohort's year, and one for the programme.

Each period metric is one grouped query (by cohort and month), whatever the data size; events
and connections, whose cohort is a person's, are grouped by person (or pair) and month and
moved to cohorts here through one read of everyone's cohort, which is much cheaper than a
subquery per row. The programme figure is the sum over cohorts plus the rows that
belong to no cohort (a mentor's event attendance counts for the programme, not for a cohort).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import (
    Coalesce,
    ExtractMonth,
    ExtractYear,
    NullIf,
    TruncDate,
    TruncMonth,
)
from django.utils import timezone

from cohort.models import Cohort, EqualityData, Fellow, Programme, TrainingArrangement

from .models import (
    CompanyRecord,
    FundingRecord,
    JobsRecord,
    OutcomeStatus,
    PartnershipRecord,
    PatientReachRecord,
)

ZERO = Decimal(0)


@dataclass
class Cell:
    """One figure before it is stored: the sums a snapshot is made of."""

    numerator: Decimal = ZERO
    denominator: Decimal = ZERO
    # {part: [numerator, denominator]}: each part keeps both, so a rate splits exactly too.
    breakdown: dict[str, list[Decimal]] = field(default_factory=dict)

    def add(self, numerator, denominator=0, part: str | None = None) -> None:
        numerator, denominator = Decimal(numerator or 0), Decimal(denominator or 0)
        self.numerator += numerator
        self.denominator += denominator
        if part is not None:
            self.add_part(part, numerator, denominator)

    def add_part(self, part: str, numerator, denominator=0) -> None:
        sums = self.breakdown.setdefault(str(part), [ZERO, ZERO])
        sums[0] += Decimal(numerator or 0)
        sums[1] += Decimal(denominator or 0)


@dataclass(frozen=True)
class Column:
    label: str
    value: Callable[[object], object]


@dataclass(frozen=True)
class Metric:
    """One metric. `kind` says how a figure is made of its sums: "sum" (the numerator; a
    denominator, when there is one, gives the rate shown beside it), "rate" (numerator ÷
    denominator as a percentage) or "mean" (numerator ÷ denominator)."""

    key: str
    label: str
    definition: str
    unit: str  # count, gbp, percent, days, patients, jobs
    kind: str = "sum"
    family: str = "period"  # period, cohort or edi
    rate_label: str = ""  # for a sum with a denominator: what the rate is
    breakdown_label: str = ""
    higher_is_better: bool = True
    compute: Callable[[Programme, date], Iterable[tuple]] | None = None
    rows: Callable[..., tuple[list, list[Column]]] | None = None
    breakdown_labels: dict[str, str] = field(default_factory=dict)

    def value_of(self, numerator, denominator) -> Decimal | None:
        numerator = Decimal(numerator or 0)
        denominator = Decimal(denominator or 0)
        if self.kind == "sum":
            return numerator
        if not denominator:
            return None
        if self.kind == "rate":
            return (100 * numerator / denominator).quantize(Decimal("0.01"))
        return (numerator / denominator).quantize(Decimal("0.01"))

    def rate_of(self, numerator, denominator) -> Decimal | None:
        """For a sum that has a denominator (events attended of those registered)."""
        if self.kind != "sum" or not self.rate_label or not denominator:
            return None
        return (100 * Decimal(numerator or 0) / Decimal(denominator)).quantize(Decimal("0.01"))

    @property
    def traceable(self) -> bool:
        return self.rows is not None


def _month(value) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date().replace(day=1)
    return value.replace(day=1)


def month_end(start: date) -> date:
    following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _fellow_cohort(user_ref: str, programme: Programme) -> Subquery:
    """The cohort of the fellow a user is in this programme (their latest, if they returned);
    empty for mentors and staff."""
    return Subquery(
        Fellow.objects.filter(programme=programme, user=OuterRef(user_ref))
        .order_by("-cohort__starts_on")
        .values("cohort_id")[:1]
    )


def _period_window(start: date | None, end: date | None, date_field: str) -> Q:
    q = Q()
    if start:
        q &= Q(**{f"{date_field}__gte": start})
    if end:
        q &= Q(**{f"{date_field}__lte": end})
    return q


def _datetime_window(start: date | None, end: date | None, field_name: str) -> Q:
    q = Q()
    if start:
        q &= Q(**{f"{field_name}__date__gte": start})
    if end:
        q &= Q(**{f"{field_name}__date__lte": end})
    return q


# --- events attended ---------------------------------------------------------------------------


def _registrations(programme: Programme, today: date):
    from events.models import Registration

    counted = [
        Registration.Status.REGISTERED,
        Registration.Status.ATTENDED,
        Registration.Status.NO_SHOW,
    ]
    return Registration.objects.filter(
        programme=programme, status__in=counted, event__starts_at__date__lte=today
    ).exclude(event__status="cancelled")


def _cohort_of_users(programme: Programme) -> dict[int, int]:
    """Each person's cohort in this programme (their latest, if they returned), in one query:
    the answer of _fellow_cohort, read once for everyone instead of once per row counted."""
    return dict(
        Fellow.objects.filter(programme=programme)
        .order_by("cohort__starts_on", "cohort_id")
        .values_list("user_id", "cohort_id")
    )


def _by_cohort(rows):
    """Rows finer than a figure (cohort, a day or a (year, month) pair, part, numerator,
    denominator) summed to one row per cohort, month and part before compute_metric adds them
    up."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    months: dict = {}
    for cohort_id, month, part, numerator, denominator in rows:
        if month not in months:
            months[month] = date(*month, 1) if isinstance(month, tuple) else _month(month)
        cell = sums[(cohort_id, months[month], part)]
        cell[0] += numerator
        cell[1] += denominator
    for (cohort_id, month, part), (numerator, denominator) in sums.items():
        yield cohort_id, month, part, numerator, denominator


def _events_compute(programme, today):
    from events.models import Registration

    # Grouped by person in the database and moved to cohorts here, as for connections: a
    # subquery for each registration's cohort (_fellow_cohort) is no faster on PostgreSQL and
    # took 55 s on SQLite for 13,000 fellows (benchmarks.metrics). The month comes as two
    # integers in local time (as TruncMonth): converting a datetime for each of tens of
    # thousands of rows cost more than the query.
    rows = (
        _registrations(programme, today)
        .annotate(y=ExtractYear("event__starts_at"), mo=ExtractMonth("event__starts_at"))
        .values("user_id", "y", "mo", "event__kind")
        .annotate(
            n=Count("id", filter=Q(status=Registration.Status.ATTENDED)),
            d=Count("id"),
        )
        .values_list("user_id", "y", "mo", "event__kind", "n", "d")
        .order_by()
    )
    cohort_of = _cohort_of_users(programme)
    yield from _by_cohort(
        (cohort_of.get(user), (y, mo), kind, n, d) for user, y, mo, kind, n, d in rows
    )


def _events_rows(programme, cohort, start, end, today):
    qs = _registrations(programme, today).filter(_datetime_window(start, end, "event__starts_at"))
    if cohort is not None:
        qs = qs.annotate(c=_fellow_cohort("user", programme)).filter(c=cohort.pk)
    qs = qs.select_related("event", "user").order_by("event__starts_at", "user__email")
    return qs, [
        Column("Event", lambda r: r.event.title),
        Column("Date", lambda r: timezone.localtime(r.event.starts_at).date()),
        Column("Person", lambda r: r.user.display_name),
        Column("Status", lambda r: r.get_status_display()),
    ]


# --- connections -------------------------------------------------------------------------------


def _connections(programme):
    from mentoring.models import Connection

    return Connection.objects.filter(
        programme=programme, status=Connection.Status.ACCEPTED, responded_at__isnull=False
    )


def _connection_cohort(programme):
    return Coalesce(_fellow_cohort("requester", programme), _fellow_cohort("addressee", programme))


def _connections_compute(programme, today):
    # By pair of people in the database, to cohorts here: _connection_cohort in SQL is two
    # subqueries per connection (2.7x slower for 13,000 fellows). The month comes as two
    # integers in local time (as TruncMonth): converting a datetime for each of tens of
    # thousands of rows cost more than the query.
    rows = (
        _connections(programme)
        .annotate(y=ExtractYear("responded_at"), mo=ExtractMonth("responded_at"))
        .values("requester_id", "addressee_id", "y", "mo")
        .annotate(n=Count("id"))
        .values_list("requester_id", "addressee_id", "y", "mo", "n")
        .order_by()
    )
    cohort_of = _cohort_of_users(programme)

    def cohort(requester, addressee):
        asked_by = cohort_of.get(requester)
        return asked_by if asked_by is not None else cohort_of.get(addressee)

    yield from _by_cohort(
        (cohort(requester, addressee), (y, mo), None, n, 0)
        for requester, addressee, y, mo, n in rows
    )


def _connections_rows(programme, cohort, start, end, today):
    qs = _connections(programme).filter(_datetime_window(start, end, "responded_at"))
    if cohort is not None:
        qs = qs.annotate(c=_connection_cohort(programme)).filter(c=cohort.pk)
    qs = qs.select_related("requester", "addressee").order_by("responded_at")
    return qs, [
        Column("Asked by", lambda r: r.requester.display_name),
        Column("Accepted by", lambda r: r.addressee.display_name),
        Column("Connected on", lambda r: timezone.localtime(r.responded_at).date()),
    ]


# --- verified outcomes -------------------------------------------------------------------------


def _outcome_metric(model, date_field: str, amount: str | None, kind_field: str | None):
    """Compute and drill-down functions for one kind of verified outcome record."""

    def verified(programme):
        return model.objects.filter(programme=programme, status=OutcomeStatus.VERIFIED)

    def compute(programme, today):
        values = ["c", "m"] + ([kind_field] if kind_field else [])
        rows = (
            verified(programme)
            .annotate(c=F("fellow__cohort_id"), m=TruncMonth(date_field))
            .values(*values)
            .annotate(n=Sum(amount) if amount else Count("id"))
        )
        for row in rows:
            yield (
                row["c"],
                _month(row["m"]),
                row[kind_field] if kind_field else None,
                row["n"],
                0,
            )

    def rows(programme, cohort, start, end, today):
        qs = verified(programme).filter(_period_window(start, end, date_field))
        if cohort is not None:
            qs = qs.filter(fellow__cohort=cohort)
        qs = qs.select_related("fellow__user", "venture").order_by(date_field, "id")
        columns = [
            Column("Fellow", lambda r: r.fellow.user.display_name),
            Column("Venture", lambda r: r.venture.name if r.venture_id else ""),
            Column("Record", str),
            Column(
                model._meta.get_field(date_field).verbose_name.capitalize(),
                lambda r: getattr(r, date_field),
            ),
        ]
        return qs, columns

    return compute, rows


_funding = _outcome_metric(FundingRecord, "received_on", "amount", "kind")
_partnerships = _outcome_metric(PartnershipRecord, "started_on", None, "kind")
_companies = _outcome_metric(CompanyRecord, "incorporated_on", None, None)
_jobs = _outcome_metric(JobsRecord, "counted_on", "jobs", None)
_patients = _outcome_metric(PatientReachRecord, "period_end", "patients", None)


# --- PDP fulfilment ----------------------------------------------------------------------------


def _objectives(programme, today):
    from pdp.models import Objective

    return Objective.objects.filter(programme=programme, target_date__lte=today).exclude(
        status=Objective.Status.DROPPED
    )


def _pdp_compute(programme, today):
    from pdp.models import Objective

    rows = (
        _objectives(programme, today)
        .annotate(c=F("pdp__fellow__cohort_id"), m=TruncMonth("target_date"))
        .values("c", "m", "domain__name")
        .annotate(n=Count("id", filter=Q(status=Objective.Status.ACHIEVED)), d=Count("id"))
    )
    for row in rows:
        yield row["c"], _month(row["m"]), row["domain__name"] or "No domain", row["n"], row["d"]


def _pdp_rows(programme, cohort, start, end, today):
    qs = _objectives(programme, today).filter(_period_window(start, end, "target_date"))
    if cohort is not None:
        qs = qs.filter(pdp__fellow__cohort=cohort)
    qs = qs.select_related("pdp__fellow__user", "domain").order_by("target_date", "id")
    return qs, [
        Column("Fellow", lambda r: r.pdp.fellow.user.display_name),
        Column("Objective", lambda r: r.title),
        Column("Domain", lambda r: r.domain.name if r.domain_id else ""),
        Column("Target date", lambda r: r.target_date),
        Column("Status", lambda r: r.get_status_display()),
    ]


# --- meetings held on time ---------------------------------------------------------------------


def meeting_slots(programme: Programme, today: date, cohort: Cohort | None = None, fellow_ids=None):
    """Every meeting due so far (a mentorship's meeting whose window has closed), with the
    date of the meeting held for it, if any: (mentorship id, cohort id, number, opens, closes,
    held on or None, fellow id). Plain values, not model instances: a programme of 13,000
    fellows has some 50,000 of them, and building objects was most of the job's time. For one
    cohort, or only the mentorships of `fellow_ids`, when given."""
    from mentoring.models import Meeting, Mentorship
    from mentoring.selectors import windows_by_cohort

    mentorships = Mentorship.objects.filter(programme=programme)
    if cohort is not None:
        mentorships = mentorships.filter(cohort=cohort)
    if fellow_ids is not None:
        # A few fellows' (a home page): their mentorships and cohorts in one query.
        found = list(
            mentorships.filter(fellow_id__in=fellow_ids)
            .select_related("cohort__programme")
            .order_by()
        )
        cohorts = {m.cohort_id: m.cohort for m in found}
        mentorships = [m.pk for m in found]
        rows = [(m.pk, m.cohort_id, m.started_on, m.ended_on, m.fellow_id) for m in found]
    else:
        cohorts = Cohort.objects.filter(programme=programme)
        if cohort is not None:
            cohorts = cohorts.filter(pk=cohort.pk)
        cohorts = {c.pk: c for c in cohorts.select_related("programme")}
        mentorships = mentorships.filter(cohort__in=list(cohorts))
        rows = mentorships.order_by().values_list(
            "id", "cohort_id", "started_on", "ended_on", "fellow_id"
        )
    windows = {pk: sorted(w.items()) for pk, w in windows_by_cohort(cohorts.values()).items()}
    held = [Meeting.Status.SUBMITTED, Meeting.Status.RETURNED, Meeting.Status.SIGNED]
    held_on = {
        (mentorship_id, number): day
        for mentorship_id, number, day in Meeting.objects.filter(
            programme=programme, mentorship__in=mentorships, status__in=held, held_on__isnull=False
        ).values_list("mentorship_id", "number", "held_on")
    }
    for pk, cohort_id, started_on, ended_on, fellow_id in rows:
        for number, (opens, closes) in windows[cohort_id]:
            if closes >= today or started_on > closes:
                continue
            if ended_on and ended_on < closes:
                continue
            yield pk, cohort_id, number, opens, closes, held_on.get((pk, number)), fellow_id


def _on_time(opens, closes, held_on) -> bool:
    return held_on is not None and opens <= held_on <= closes


def _meetings_compute(programme, today):
    yield from _by_cohort(
        (cohort_id, closes, None, int(_on_time(opens, closes, held_on)), 1)
        for _pk, cohort_id, _number, opens, closes, held_on, _fellow in meeting_slots(
            programme, today
        )
    )


def _meetings_rows(programme, cohort, start, end, today):
    from mentoring.models import Mentorship

    slots = [
        s
        for s in meeting_slots(programme, today, cohort)
        if (not start or s[4] >= start) and (not end or s[4] <= end)
    ]
    people = {
        m.pk: m
        for m in Mentorship.objects.filter(pk__in={s[0] for s in slots}).select_related(
            "fellow__user", "mentor__user"
        )
    }
    rows = [
        {
            "mentorship": people[pk],
            "number": number,
            "window": f"{opens:%-d %b %Y} to {closes:%-d %b %Y}",
            "held_on": held_on,
            "on_time": _on_time(opens, closes, held_on),
        }
        for pk, _cohort, number, opens, closes, held_on, _fellow in sorted(
            slots, key=lambda s: (s[4], s[0], s[2])
        )
    ]
    return rows, [
        Column("Fellow", lambda r: r["mentorship"].fellow.user.display_name),
        Column("Mentor", lambda r: r["mentorship"].mentor.user.display_name),
        Column("Meeting", lambda r: r["number"]),
        Column("Window", lambda r: r["window"]),
        Column("Held on", lambda r: r["held_on"] or "Not held"),
        Column("On time", lambda r: "Yes" if r["on_time"] else "No"),
    ]


# --- sign-off lag ------------------------------------------------------------------------------


def _signed_meetings(programme):
    from mentoring.models import Meeting

    return Meeting.objects.filter(
        programme=programme,
        status=Meeting.Status.SIGNED,
        signed_at__isnull=False,
        held_on__isnull=False,
    )


def _lag_compute(programme, today):
    lag = ExpressionWrapper(TruncDate("signed_at") - F("held_on"), output_field=DurationField())
    rows = (
        _signed_meetings(programme)
        .annotate(c=F("mentorship__cohort_id"), m=TruncMonth("signed_at"))
        .values("c", "m")
        .annotate(n=Sum(lag), d=Count("id"))
    )
    for row in rows:
        days = row["n"].total_seconds() / 86400 if row["n"] is not None else 0
        yield row["c"], _month(row["m"]), None, Decimal(round(days)), row["d"]


def _lag_rows(programme, cohort, start, end, today):
    qs = _signed_meetings(programme).filter(_datetime_window(start, end, "signed_at"))
    if cohort is not None:
        qs = qs.filter(mentorship__cohort=cohort)
    qs = qs.select_related("mentorship__fellow__user", "mentorship__mentor__user").order_by(
        "signed_at"
    )
    return qs, [
        Column("Fellow", lambda r: r.mentorship.fellow.user.display_name),
        Column("Mentor", lambda r: r.mentorship.mentor.user.display_name),
        Column("Meeting", lambda r: r.number),
        Column("Held on", lambda r: r.held_on),
        Column("Signed off", lambda r: timezone.localtime(r.signed_at).date()),
        Column("Days", lambda r: (timezone.localtime(r.signed_at).date() - r.held_on).days),
    ]


# --- milestones --------------------------------------------------------------------------------


def _decided_milestones(programme):
    from mentoring.models import Milestone

    decided = [Milestone.Status.ACHIEVED, Milestone.Status.PARTLY, Milestone.Status.MISSED]
    return Milestone.objects.filter(programme=programme, status__in=decided).annotate(
        due=Coalesce("current_due_on", "due_on")
    )


def _milestones_compute(programme, today):
    from mentoring.models import Milestone

    rows = (
        _decided_milestones(programme)
        .annotate(c=F("mentorship__cohort_id"), m=TruncMonth("due"))
        .values("c", "m", "status")
        .annotate(n=Count("id", filter=Q(status=Milestone.Status.ACHIEVED)), d=Count("id"))
    )
    for row in rows:
        yield row["c"], _month(row["m"]), row["status"], row["n"], row["d"]


def _milestones_rows(programme, cohort, start, end, today):
    qs = _decided_milestones(programme).filter(_period_window(start, end, "due"))
    if cohort is not None:
        qs = qs.filter(mentorship__cohort=cohort)
    qs = qs.select_related("mentorship__fellow__user").order_by("due", "id")
    return qs, [
        Column("Fellow", lambda r: r.mentorship.fellow.user.display_name),
        Column("Milestone", lambda r: r.title),
        Column("Due", lambda r: r.due),
        Column("Outcome", lambda r: r.get_status_display()),
    ]


# --- cohort metrics ----------------------------------------------------------------------------


def _appointed(programme):
    return Fellow.objects.filter(programme=programme)


def _funnel_compute(programme, today):
    from cohort.selectors import recruitment_funnel

    for row in recruitment_funnel(programme=programme):
        stages = {stage["key"]: stage["count"] for stage in row["stages"]}
        cohort = row["cohort"]
        yield cohort.pk, cohort.starts_on, None, stages["appointed"], stages["expressed"], stages


def _funnel_rows(programme, cohort, start, end, today):
    from cohort.models import Application

    qs = Application.objects.filter(programme=programme)
    if cohort is not None:
        qs = qs.filter(call__cohort=cohort)
    qs = qs.select_related("call__cohort").order_by("call__cohort__starts_on", "expressed_at")
    return qs, [
        Column("Applicant", lambda r: r.full_name),
        Column("Cohort", lambda r: r.call.cohort.name),
        Column("Expressed interest", lambda r: timezone.localtime(r.expressed_at).date()),
        Column("Stage reached", lambda r: r.get_status_display()),
    ]


def _fellow_share(flag: Q, part: str | None):
    def compute(programme, today):
        values = ["cohort_id"] + ([part] if part else [])
        rows = (
            _appointed(programme)
            .values(*values)
            .annotate(n=Count("id", filter=flag), d=Count("id"))
        )
        starts = dict(Cohort.objects.filter(programme=programme).values_list("pk", "starts_on"))
        for row in rows:
            breakdown_key = row[part] if part else None
            yield row["cohort_id"], starts[row["cohort_id"]], breakdown_key, row["n"], row["d"]

    def rows(programme, cohort, start, end, today):
        qs = _appointed(programme).filter(flag)
        if cohort is not None:
            qs = qs.filter(cohort=cohort)
        qs = qs.select_related("user", "cohort").order_by("cohort__starts_on", "user__email")
        return qs, [
            Column("Fellow", lambda r: r.user.display_name),
            Column("Cohort", lambda r: r.cohort.name),
            Column("Profession", lambda r: r.get_profession_display()),
            Column("Arrangement", lambda r: r.get_training_arrangement_display()),
        ]

    return compute, rows


_returners = _fellow_share(Q(is_returner=True), None)
_arrangements = _fellow_share(
    Q(training_arrangement__in=[TrainingArrangement.OOPE, TrainingArrangement.LTFT]),
    "training_arrangement",
)


def _edi(field_name: str):
    """Fellows by one equality question; answers left blank count as "not given". These
    counts are never traceable to people and are suppressed wherever they are shown."""

    def compute(programme, today):
        answer = Coalesce(NullIf(F(f"answers__{field_name}"), Value("")), Value("not_given"))
        rows = (
            _appointed(programme)
            .annotate(
                answers=FilteredRelation("equality", condition=Q(equality__programme=programme))
            )
            .values("cohort_id", "cohort__starts_on", answer=answer)
            .annotate(n=Count("id"))
            .values_list("cohort_id", "cohort__starts_on", "answer", "n")
            .order_by()
        )
        for cohort_id, starts_on, answer, count in rows:
            yield cohort_id, starts_on, answer, count, count

    return compute


def _labels(choices) -> dict[str, str]:
    return {**dict(choices), "not_given": "Not given"}


# --- the registry ------------------------------------------------------------------------------

_outcome_words = "Counts verified records only: nothing reported counts until staff verify it."

METRICS: dict[str, Metric] = {
    m.key: m
    for m in [
        Metric(
            "events_attended",
            "Events attended",
            "Registrations marked attended, by the month the event started. The rate beside it "
            "is attended ÷ registered for events that have started (cancellations and the "
            "waiting list are not counted; cancelled events are left out).",
            "count",
            rate_label="of registrations attended",
            breakdown_label="Event kind",
            compute=_events_compute,
            rows=_events_rows,
            breakdown_labels={
                "pit_stop": "Pit Stop",
                "webinar": "Webinar",
                "networking": "Networking event",
                "course": "Course",
                "conference": "Conference",
            },
        ),
        Metric(
            "new_connections",
            "New connections",
            "Connection requests accepted, by the month they were accepted. A connection "
            "counts for the cohort of the fellow who asked (or, if a mentor asked, of the "
            "fellow who accepted).",
            "count",
            compute=_connections_compute,
            rows=_connections_rows,
        ),
        Metric(
            "partnerships",
            "Partnerships",
            "Partnerships formed by fellows' ventures, by the month they started. "
            + _outcome_words,
            "count",
            breakdown_label="Kind",
            compute=_partnerships[0],
            rows=_partnerships[1],
            breakdown_labels=dict(PartnershipRecord.Kind.choices),
        ),
        Metric(
            "funding_raised",
            "Funding raised",
            "Money raised by fellows' ventures in pounds, by the month it was received. "
            + _outcome_words,
            "gbp",
            breakdown_label="Kind",
            compute=_funding[0],
            rows=_funding[1],
            breakdown_labels=dict(FundingRecord.Kind.choices),
        ),
        Metric(
            "companies_formed",
            "Companies formed",
            "Companies incorporated by fellows for their ventures, by the month of "
            "incorporation. " + _outcome_words,
            "count",
            compute=_companies[0],
            rows=_companies[1],
        ),
        Metric(
            "jobs_created",
            "Jobs created",
            "Jobs (full-time equivalent) created by fellows' ventures, by the month they were "
            "counted. " + _outcome_words,
            "jobs",
            compute=_jobs[0],
            rows=_jobs[1],
        ),
        Metric(
            "patients_reached",
            "Patients reached",
            "Patients actually reached by fellows' ventures (not forecast), by the month the "
            "reported period ended. " + _outcome_words,
            "patients",
            compute=_patients[0],
            rows=_patients[1],
        ),
        Metric(
            "pdp_fulfilment",
            "PDP fulfilment",
            "Objectives achieved ÷ objectives due, by the month of their target date. An "
            "objective is due once its target date has passed; objectives the fellow dropped "
            "are not counted.",
            "percent",
            kind="rate",
            breakdown_label="Competency domain",
            compute=_pdp_compute,
            rows=_pdp_rows,
        ),
        Metric(
            "meetings_on_time",
            "Meetings held on time",
            "Mentor meetings held inside their window ÷ meetings due so far, by the month the "
            "window closed. A meeting is due once its window has closed, for mentorships that "
            "had started by then and had not ended; it is held when the record has been "
            "submitted, whether or not it is signed off yet.",
            "percent",
            kind="rate",
            compute=_meetings_compute,
            rows=_meetings_rows,
        ),
        Metric(
            "signoff_lag",
            "Sign-off lag",
            "The mean number of days from a meeting being held to the mentor signing off its "
            "record, by the month of the sign-off.",
            "days",
            kind="mean",
            higher_is_better=False,
            compute=_lag_compute,
            rows=_lag_rows,
        ),
        Metric(
            "milestone_achievement",
            "Milestone achievement",
            "Milestones achieved ÷ milestones reviewed as achieved, partly achieved or missed, "
            "by the month they were due (the latest agreed date). Open and deferred milestones "
            "are not counted yet.",
            "percent",
            kind="rate",
            breakdown_label="Outcome",
            compute=_milestones_compute,
            rows=_milestones_rows,
            breakdown_labels={
                "achieved": "Achieved",
                "partly": "Partly achieved",
                "missed": "Missed",
            },
        ),
        Metric(
            "recruitment",
            "Recruitment funnel",
            "For each intake: expressions of interest, formal applications, shortlisted, "
            "interviewed and appointed; the figure is the number appointed and the rate is "
            "appointed ÷ expressions of interest. Each stage counts everyone who reached it, "
            "even if they withdrew or were declined later.",
            "count",
            family="cohort",
            rate_label="of expressions of interest appointed",
            breakdown_label="Stage",
            compute=_funnel_compute,
            rows=_funnel_rows,
            breakdown_labels={
                "expressed": "Expressed interest",
                "applied": "Applied",
                "shortlisted": "Shortlisted",
                "interviewed": "Interviewed",
                "appointed": "Appointed",
            },
        ),
        Metric(
            "returners",
            "Returners to the NHS",
            'Fellows returning to the NHS from the commercial sector ("brain gain") ÷ fellows '
            "appointed.",
            "percent",
            kind="rate",
            family="cohort",
            compute=_returners[0],
            rows=_returners[1],
        ),
        Metric(
            "oope_ltft",
            "Out of programme or less than full time",
            "Fellows on Out Of Programme Experience (OOPE) or Less Than Full Time Training "
            "(LTFT) ÷ fellows appointed.",
            "percent",
            kind="rate",
            family="cohort",
            breakdown_label="Arrangement",
            compute=_arrangements[0],
            rows=_arrangements[1],
            breakdown_labels=dict(TrainingArrangement.choices),
        ),
        Metric(
            "edi_gender",
            "Gender",
            "Fellows appointed by gender, as they told us. Counts from 1 to 4 are shown as "
            '"fewer than 5", and a further figure is hidden where a total would reveal them.',
            "count",
            family="edi",
            compute=_edi("gender"),
            breakdown_labels=_labels(EqualityData.Gender.choices),
        ),
        Metric(
            "edi_ethnicity",
            "Ethnic group",
            "Fellows appointed by ethnic group, as they told us. Small numbers are suppressed "
            "as for gender.",
            "count",
            family="edi",
            compute=_edi("ethnic_group"),
            breakdown_labels=_labels(EqualityData.EthnicGroup.choices),
        ),
        Metric(
            "edi_disability",
            "Disability",
            "Fellows appointed by whether they consider themselves disabled, as they told us. "
            "Small numbers are suppressed as for gender.",
            "count",
            family="edi",
            compute=_edi("disability"),
            breakdown_labels=_labels(EqualityData.Disability.choices),
        ),
        Metric(
            "edi_age",
            "Age band",
            "Fellows appointed by age band, as they told us. Small numbers are suppressed as "
            "for gender.",
            "count",
            family="edi",
            compute=_edi("age_band"),
            breakdown_labels=_labels(EqualityData.AgeBand.choices),
        ),
    ]
}


def compute_metric(metric: Metric, programme: Programme, today: date):
    """Every figure of one metric: {(cohort id or None, period start): Cell}. Programme
    figures (cohort None) add up every row, including rows that belong to no cohort."""
    cells: dict[tuple, Cell] = defaultdict(Cell)
    for row in metric.compute(programme, today):
        cohort_id, start, part, numerator, denominator = row[:5]
        stages = row[5] if len(row) > 5 else None
        for who in {cohort_id, None}:
            cell = cells[(who, start if who is not None or metric.family == "period" else None)]
            if stages is not None:
                cell.add(numerator, denominator)
                for stage, count in stages.items():
                    cell.add_part(stage, count)
            else:
                cell.add(numerator, denominator, part)
    return cells
