"""Demo outcomes (seed_demo step): what the first cohort's ventures achieved in the years
after 2016/17 — grants, investment, prizes and contracts; NHS pilots and partnerships;
patients reached; companies formed and jobs created — mostly verified, some waiting for the
programme team, one returned with a reason. The demo fellow's own are at every stage, and her
quarterly update is due. Idempotent: nothing is added when the first cohort has outcomes.
Then the Patient Impact forecast: the ventures' inputs and the stored runs (seed_forecast)."""

import random
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone
from django_scopes import scope

from cohort.demo import FELLOW_EMAIL, STAFF_EMAIL, register_seeder
from cohort.models import Fellow, Membership, Organisation, Venture

from . import services
from .models import (
    CompanyRecord,
    FundingRecord,
    JobsRecord,
    OutcomeStatus,
    PartnershipRecord,
    PatientReachRecord,
)

COHORT = "Cohort 1 — 2016/17"
FUNDERS = {
    "grant": ["SBRI Healthcare", "Innovate UK", "NIHR i4i", "The Health Foundation", "AHSN"],
    "equity": ["Angel round", "Seed round", "Series A", "Crowdfunding"],
    "prize": ["NHS Innovation Accelerator prize", "Pitch@Palace", "Digital Health Awards"],
    "contract": ["NHS trust contract", "Clinical commissioning group contract"],
    "debt": ["Start Up Loans"],
}
TRUSTS = [
    "Manchester University NHS Foundation Trust",
    "Guy's and St Thomas' NHS Foundation Trust",
    "Leeds Teaching Hospitals NHS Trust",
    "University Hospitals Birmingham NHS Foundation Trust",
    "North Bristol NHS Trust",
    "Cambridge University Hospitals NHS Foundation Trust",
]
UNIVERSITIES = ["Imperial College London", "University of Oxford", "King's College London"]


def _amount(rng, kind) -> Decimal:
    low, high = {
        "grant": (15_000, 250_000),
        "equity": (50_000, 2_500_000),
        "prize": (1_000, 25_000),
        "contract": (10_000, 400_000),
        "debt": (5_000, 25_000),
    }[kind]
    return Decimal(round(rng.uniform(low, high), -3))


def _day(rng, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange(max((end - start).days, 1)))


@register_seeder(order=70)
def seed_outcomes(seeder) -> None:
    cep = seeder.programmes["cep"]
    rng = random.Random(2018)
    today = timezone.localdate()
    with scope(programme=cep):
        fellows = list(
            Fellow.objects.filter(programme=cep, cohort__name=COHORT)
            .select_related("user")
            .order_by("pk")
        )
        if not fellows or FundingRecord.objects.filter(fellow__in=fellows).exists():
            return
        staff = Membership.objects.get(programme=cep, user__email=STAFF_EMAIL).user
        ventures = {v.fellow_id: v for v in Venture.objects.filter(fellow__in=fellows)}
        partners = list(Organisation.objects.filter(programme=cep, is_partner=True))
        demo = next(f for f in fellows if f.user.email == FELLOW_EMAIL)
        _demo_fellow(demo, ventures.get(demo.pk), staff, today)
        rows = {model: [] for model in (FundingRecord, PartnershipRecord, PatientReachRecord)}
        rows[CompanyRecord], rows[JobsRecord] = [], []
        for i, fellow in enumerate(f for f in fellows if f.pk != demo.pk):
            venture = ventures.get(fellow.pk)
            common = {"programme": cep, "fellow": fellow, "venture": venture}

            def status(fresh=False):
                # Most were verified long ago; what was reported lately waits for the team.
                if fresh and rng.random() < 0.6:
                    return {"status": OutcomeStatus.REPORTED}
                return {
                    "status": OutcomeStatus.VERIFIED,
                    "verified_by": staff,
                    "verified_at": timezone.now() - timedelta(days=rng.randrange(30, 2000)),
                }

            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                kind = rng.choice(["grant", "grant", "equity", "prize", "contract", "debt"])
                received = _day(rng, date(2017, 1, 1), today)
                rows[FundingRecord].append(
                    FundingRecord(
                        **common,
                        kind=kind,
                        amount=_amount(rng, kind),
                        source=rng.choice(FUNDERS[kind]),
                        received_on=received,
                        evidence="Award letter on file",
                        **status(fresh=received > today - timedelta(days=90)),
                    )
                )
            if i % 3 == 0:
                kind = rng.choice(["nhs_pilot", "nhs_pilot", "commercial", "academic", "investor"])
                partner = {
                    "nhs_pilot": rng.choice(TRUSTS),
                    "academic": rng.choice(UNIVERSITIES),
                }.get(kind) or rng.choice(partners).name
                rows[PartnershipRecord].append(
                    PartnershipRecord(
                        **common,
                        kind=kind,
                        partner_name=partner,
                        organisation=next((o for o in partners if o.name == partner), None),
                        started_on=_day(rng, date(2017, 3, 1), today),
                        **status(),
                    )
                )
            if venture is not None and venture.stage in ("pilot", "evidence", "scaling"):
                start = _day(rng, date(2018, 1, 1), today - timedelta(days=400))
                rows[PatientReachRecord].append(
                    PatientReachRecord(
                        **common,
                        patients=rng.choice([120, 450, 1_200, 3_500, 12_000, 40_000]),
                        period_start=start,
                        period_end=start + timedelta(days=364),
                        how_counted="Patients seen on the pathway",
                        **status(),
                    )
                )
            if venture is not None and venture.company_number:
                rows[CompanyRecord].append(
                    CompanyRecord(
                        **common,
                        company_name=f"{venture.name} Ltd",
                        company_number=venture.company_number,
                        incorporated_on=_day(rng, date(2016, 10, 1), date(2019, 12, 31)),
                        **status(),
                    )
                )
                rows[JobsRecord].append(
                    JobsRecord(
                        **common,
                        jobs=Decimal(rng.choice([1, 2, 2.5, 4, 6, 12])),
                        counted_on=_day(rng, date(2019, 1, 1), today),
                        **status(),
                    )
                )
        # Written in bulk: a hundred fellows' histories, each one of them the service's
        # result (reported, then verified) rather than a step anyone needs to watch.
        for model, objects in rows.items():
            model.objects.bulk_create(objects)


def _demo_fellow(fellow, venture, staff, today) -> None:
    """Priya's outcomes: a verified grant and NHS pilot, investment and patients waiting for
    verification, and a prize returned because its evidence was missing."""
    user = fellow.user
    report = services.outcome_report
    grant = report(
        fellow=fellow,
        kind="funding",
        actor=user,
        data={
            "venture": venture,
            "kind": "grant",
            "amount": Decimal("50000"),
            "source": "SBRI Healthcare",
            "received_on": date(2017, 3, 14),
            "evidence": "SBRI Healthcare award letter, competition 9, phase 1",
        },
    )
    services.outcome_verify(record=grant, actor=staff)
    pilot = report(
        fellow=fellow,
        kind="partnerships",
        actor=user,
        data={
            "venture": venture,
            "kind": "nhs_pilot",
            "partner_name": "Manchester University NHS Foundation Trust",
            "started_on": date(2017, 5, 2),
            "description": "A three-month pilot on two emergency department wards.",
            "evidence": "Pilot agreement signed by the trust's innovation lead",
        },
    )
    services.outcome_verify(record=pilot, actor=staff)
    report(
        fellow=fellow,
        kind="funding",
        actor=user,
        data={
            "venture": venture,
            "kind": "equity",
            "amount": Decimal("150000"),
            "source": "Seed round led by a health angel syndicate",
            "received_on": today - timedelta(days=40),
            "evidence": "Share allotment (form SH01) filed at Companies House",
        },
    )
    report(
        fellow=fellow,
        kind="patients",
        actor=user,
        data={
            "venture": venture,
            "patients": 4_200,
            "period_start": today - timedelta(days=400),
            "period_end": today - timedelta(days=35),
            "how_counted": "Patients triaged with the tool in the two pilot departments",
            "evidence": "Monthly usage report from the trust's information team",
        },
    )
    prize = report(
        fellow=fellow,
        kind="funding",
        actor=user,
        data={
            "venture": venture,
            "kind": "prize",
            "amount": Decimal("5000"),
            "source": "Regional innovation awards",
            "received_on": date(2018, 11, 20),
        },
    )
    services.outcome_reject(
        record=prize,
        actor=staff,
        reason="We could not find this award: add a link to the announcement or the letter.",
    )


# --- Patient Impact forecast ------------------------------------------------------------------

# Plausible (low, likely, high) estimates by stage: earlier ventures are further from launch
# and less sure of their market. Scaled per venture by its sector below.
_DELAY_BY_STAGE = {
    "idea": (1.5, 3, 5),
    "prototype": (1, 2, 4),
    "pilot": (0.5, 1, 2.5),
    "evidence": (0, 0.5, 1.5),
    "scaling": (0, 0, 0.5),
}
_SITES_BY_SECTOR = {
    "digital": (20, 80, 220),
    "ai_data": (10, 40, 150),
    "medtech": (10, 35, 120),
    "diagnostics": (15, 50, 140),
    "pharma": (5, 25, 90),
    "mental_health": (20, 70, 200),
    "service": (5, 20, 60),
    "education": (10, 60, 180),
    "social": (5, 15, 50),
    "other": (5, 20, 80),
}


def _triple(rng, low, likely, high, places=0):
    factor = rng.uniform(0.6, 1.6)
    values = sorted(round(x * factor, places) for x in (low, likely, high))
    return [Decimal(str(v)) for v in values]


def _estimates(rng, venture) -> dict:
    data = {}
    parts = ("low", "likely", "high")
    delay = [Decimal(str(v)) for v in _DELAY_BY_STAGE[venture.stage]]
    sites = _triple(rng, *_SITES_BY_SECTOR.get(venture.sector, (5, 20, 80)))
    per_site = _triple(rng, *rng.choice([(100, 400, 1200), (300, 1500, 5000), (50, 250, 600)]))
    for prefix, values in (
        ("launch_delay", delay),
        ("market_potential", sites),
        ("patients_per_site", per_site),
    ):
        data.update({f"{prefix}_{p}": v for p, v in zip(parts, values, strict=True)})
    if rng.random() < 0.2:
        qalys = _triple(rng, 0.005, 0.02, 0.06, places=3)
        data.update({f"qalys_per_patient_{p}": v for p, v in zip(parts, qalys, strict=True)})
    if rng.random() < 0.25:
        saved = _triple(rng, 10, 45, 150)
        data.update({f"savings_per_patient_{p}": v for p, v in zip(parts, saved, strict=True)})
    data["assumptions"] = rng.choice(
        [
            "Sites: trusts with the service in the NHS Digital directory. Patients: the pilot "
            "site's activity data for a year.",
            "From the pilot's numbers, halved for the low and doubled for the high.",
            "Market from the GIRFT report for the specialty; patients from HES activity.",
            "Our commissioner's estimate of eligible patients, checked against QOF registers.",
        ]
    )
    return data


@register_seeder(order=75)
def seed_forecast(seeder) -> None:
    """Forecast inputs for the first cohort's ventures — most reviewed, two waiting for
    review, one returned with a reason, a few not started — and the demo fellow's own a draft
    still missing a number; then the stored runs (each venture, the cohort, the programme),
    plus a forecast dated before the verified patients reached, so the prospective check has
    something to compare. Idempotent: nothing is added once the programme has inputs."""
    from .forecasting import (
        forecast_portfolio_runs,
        forecast_settings_for,
        forecast_venture_run,
        forecast_venture_runs_bulk,
    )
    from .models import ForecastInput, ForecastInputStatus, ForecastRun

    cep = seeder.programmes["cep"]
    rng = random.Random(2026)
    with scope(programme=cep):
        if ForecastInput.objects.filter(programme=cep).exists():
            return
        ventures = list(
            Venture.objects.filter(programme=cep, fellow__cohort__name=COHORT)
            .select_related("fellow__user")
            .order_by("pk")
        )
        if not ventures:
            return
        forecast_settings_for(programme=cep)
        staff = Membership.objects.get(programme=cep, user__email=STAFF_EMAIL).user
        now = timezone.now()
        rows = []
        others = [v for v in ventures if v.fellow.user.email != FELLOW_EMAIL]
        for i, venture in enumerate(others):
            if i % 13 == 12:
                continue  # a few have not started
            data = _estimates(rng, venture)
            status = {
                3: ForecastInputStatus.SUBMITTED,
                7: ForecastInputStatus.SUBMITTED,
                11: ForecastInputStatus.RETURNED,
            }.get(i, ForecastInputStatus.REVIEWED)
            submitted = now - timedelta(days=rng.randrange(5, 60))
            review = {}
            if status == ForecastInputStatus.REVIEWED:
                review = {"reviewed_by": staff, "reviewed_at": submitted + timedelta(days=3)}
            elif status == ForecastInputStatus.RETURNED:
                review = {
                    "reviewed_by": staff,
                    "reviewed_at": submitted + timedelta(days=2),
                    "review_note": "The high estimate of sites is above the number of trusts "
                    "that run this service: check it against the NHS directory.",
                }
            rows.append(
                ForecastInput(
                    programme=cep,
                    venture=venture,
                    status=status,
                    submitted_at=submitted,
                    updated_at=submitted,
                    updated_by=venture.fellow.user,
                    **review,
                    **data,
                )
            )
        demo = next((v for v in ventures if v.fellow.user.email == FELLOW_EMAIL), None)
        if demo is not None:
            draft = _estimates(random.Random(1), demo)
            for part in ("low", "likely", "high"):
                draft.pop(f"patients_per_site_{part}")
            draft["assumptions"] = (
                "Sites: the 160 type 1 emergency departments in England, most of which could "
                "use it. Still working out patients per department from the pilot's data."
            )
            rows.append(
                ForecastInput(
                    programme=cep,
                    venture=demo,
                    status=ForecastInputStatus.DRAFT,
                    updated_by=demo.fellow.user,
                    **draft,
                )
            )
        # Written in bulk: each row what the fellow's save and the staff's review would leave.
        ForecastInput.objects.bulk_create(rows)
        forecast_venture_runs_bulk(programme=cep, trigger=ForecastRun.Trigger.DEMO)
        # What the task made when the two waiting for review were sent (not in the totals).
        for record in rows:
            if record.status == ForecastInputStatus.SUBMITTED:
                forecast_venture_run(venture=record.venture, trigger=ForecastRun.Trigger.DEMO)
        result = forecast_portfolio_runs(programme=cep, trigger=ForecastRun.Trigger.DEMO)
        _earlier_forecasts(cep, result["programme"])


def _earlier_forecasts(programme, programme_run) -> None:
    """Copies of the venture and programme forecasts dated before the verified patients
    reached, as if made then, so the prospective check shows how the forecast fared."""
    from .models import ForecastRun

    verified = PatientReachRecord.objects.filter(
        programme=programme, status=OutcomeStatus.VERIFIED, venture__isnull=False
    )
    first = {}
    for record in verified.order_by("period_start"):
        first.setdefault(record.venture_id, record.period_start)
    if not first:
        return
    copies = []
    runs = ForecastRun.objects.filter(
        programme=programme, scope=ForecastRun.Scope.VENTURE, venture_id__in=list(first)
    )
    for run in runs:
        run.pk, run.uuid = None, uuid.uuid4()
        run.created_at = _at(first[run.venture_id] - timedelta(days=30))
        run.fingerprint = "demo-earlier"
        copies.append(run)
    if programme_run is not None:
        programme_run.pk, programme_run.uuid = None, uuid.uuid4()
        programme_run.created_at = _at(min(first.values()) - timedelta(days=30))
        programme_run.fingerprint = "demo-earlier"
        copies.append(programme_run)
    ForecastRun.objects.bulk_create(copies)


def _at(day: date):
    return timezone.make_aware(datetime.combine(day, time(9, 0)))


# Targets staff set for the first year (what the programme aimed at in 2016/17), so the
# dashboard shows figures against them; the accelerator's year is under way, so its targets
# show the projection to the year's end.
DEMO_TARGETS = {
    "cep": {
        "events_attended": Decimal("300"),
        "new_connections": Decimal("150"),
        "meetings_on_time": Decimal("90"),
        "signoff_lag": Decimal("7"),
        "pdp_fulfilment": Decimal("75"),
        "milestone_achievement": Decimal("70"),
    },
    "accel": {
        "events_attended": Decimal("40"),
        "new_connections": Decimal("20"),
        "meetings_on_time": Decimal("90"),
        "signoff_lag": Decimal("7"),
    },
}


@register_seeder(order=95)
def seed_metric_snapshots(seeder) -> None:
    """Targets for each programme's first year, then every metric computed, so the staff
    dashboard has figures at once. Idempotent: targets are set to the same values, and the
    figures are computed only if the programme has none yet (the nightly job keeps them)."""
    from cohort.models import Cohort, Programme

    from .models import MetricRun, MetricTarget

    staff = seeder.User.objects.filter(email=STAFF_EMAIL).first()
    for programme in Programme.objects.filter(slug__in=DEMO_TARGETS).order_by("pk"):
        with scope(programme=programme):
            cohort = (
                Cohort.objects.filter(programme=programme, starts_on__lte=timezone.localdate())
                .order_by("starts_on")
                .first()
            )
            if cohort is not None:
                for key, value in DEMO_TARGETS[programme.slug].items():
                    MetricTarget.objects.update_or_create(
                        programme=programme,
                        cohort=cohort,
                        key=key,
                        defaults={"value": value, "set_by": staff},
                    )
            if not MetricRun.objects.filter(
                programme=programme, status=MetricRun.Status.DONE
            ).exists():
                run = services.metric_snapshots_compute(
                    programme=programme, trigger=MetricRun.Trigger.DEMO
                )
                if seeder.stdout:
                    seeder.stdout.write(
                        f"  {programme.slug}: {run.snapshot_count} metric figures computed"
                    )
