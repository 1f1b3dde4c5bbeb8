"""Services of the Patient Impact forecast (DESIGN §8): every write of the forecast's inputs,
reviews, settings and runs, each in a transaction and audited, and the reads its pages share.

The computation is `metrics.forecast` (pure NumPy); this module feeds it the programme's
inputs and stores what it gives. Programme and cohort forecasts use REVIEWED inputs only and
sum the ventures' draws before taking percentiles. The seed is fixed per programme, and each
venture draws from its own stream (keyed by its UUID), so the same inputs give the same
forecast and a venture's numbers move only when its inputs do.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from cohort.models import Cohort, Programme, Venture
from cohort.services import audit_log
from notifications.models import Kind
from notifications.services import notify

from . import forecast as engine
from .models import (
    ESTIMATE_PARTS,
    FORECAST_ESTIMATES,
    ForecastInput,
    ForecastInputStatus,
    ForecastRun,
    ForecastSettings,
    OutcomeStatus,
    PatientReachRecord,
)

Trigger = ForecastRun.Trigger
Scope = ForecastRun.Scope

INPUT_FIELDS = (
    *(f"{prefix}_{part}" for prefix, *_ in FORECAST_ESTIMATES for part in ESTIMATE_PARTS),
    "assumptions",
)
SETTINGS_FIELDS = (
    *ForecastSettings.STAGE_FIELDS.values(),
    "bass_p",
    "bass_q",
    "draws",
    "horizon_years",
    "cost_discount_rate",
    "health_discount_rate",
    "qaly_value",
    "nice_threshold_low",
    "nice_threshold_high",
)


class StaleForecastEdit(Exception):
    """The inputs or settings changed since the form was opened; nothing was written."""

    def __init__(self, record):
        super().__init__("It was changed by someone else since you opened it.")
        self.record = record


def _json_value(value):
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if hasattr(value, "pk"):
        return str(getattr(value, "uuid", value.pk))
    if isinstance(value, Decimal):
        # 1, 1.0 and 1.00 are the same estimate: compare and audit them as "1".
        return format(value.normalize(), "f")
    return str(value)


def _values(record, fields) -> dict:
    return {name: _json_value(getattr(record, name)) for name in fields}


# --- settings ---------------------------------------------------------------------------------


def programme_seed(programme: Programme) -> int:
    """The programme's fixed seed: 53 bits of its UUID (JSON-safe in any client)."""
    return programme.uuid.int >> 75


def forecast_settings_for(*, programme: Programme) -> ForecastSettings:
    """The programme's settings, created with the design's defaults on first use."""
    found = ForecastSettings.objects.filter(programme=programme).first()
    if found is not None:
        return found
    with transaction.atomic():
        found, _ = ForecastSettings.objects.get_or_create(
            programme=programme, defaults={"seed": programme_seed(programme)}
        )
    return found


def forecast_settings_update(
    *, programme: Programme, data: dict, actor, version: int | None = None
) -> ForecastSettings:
    """Staff change the settings; every forecast is made again with them."""
    forecast_settings_for(programme=programme)
    with transaction.atomic():
        record = ForecastSettings.objects.select_for_update().get(programme=programme)
        if version is not None and record.version != version:
            raise StaleForecastEdit(record)
        before = _values(record, SETTINGS_FIELDS)
        for name in SETTINGS_FIELDS:
            if name in data:
                setattr(record, name, data[name])
        record.full_clean(exclude=["programme"])
        after = _values(record, SETTINGS_FIELDS)
        changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if not changed:
            return record
        try:
            record.to_engine()
        except engine.ForecastInputError as error:
            field = error.field if error.field in data else NON_FIELD_ERRORS
            raise ValidationError({field: error.message}) from None
        record.version = F("version") + 1
        record.updated_at = timezone.now()
        record.updated_by = actor
        record.save()
        record.refresh_from_db()
        audit_log(
            programme=programme,
            actor=actor,
            action="forecast.settings.changed",
            target=record,
            changes=changed,
        )
        forecast_recompute_enqueue(programme=programme, trigger=Trigger.SETTINGS_CHANGED)
    return record


# --- inputs -----------------------------------------------------------------------------------


def forecast_input_for(*, venture: Venture) -> ForecastInput | None:
    return ForecastInput.objects.filter(venture=venture).first()


def forecast_input_save(
    *, venture: Venture, data: dict, actor, submit: bool = False, version: int | None = None
) -> ForecastInput:
    """The fellow (or staff) saves a venture's inputs. A draft may be incomplete; sending
    them for review needs every required estimate. Changing inputs already sent or reviewed
    sends them back for review: what staff reviewed is never silently replaced."""
    with transaction.atomic():
        record = ForecastInput.objects.select_for_update().filter(venture=venture).first()
        created = record is None
        if created:
            record = ForecastInput(programme=venture.programme, venture=venture)
        elif version is not None and record.version != version:
            raise StaleForecastEdit(record)
        before = _values(record, INPUT_FIELDS)
        for name in INPUT_FIELDS:
            if name in data:
                setattr(record, name, data[name])
        record.full_clean(exclude=["programme", "venture"])
        after = _values(record, INPUT_FIELDS)
        changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        was = record.status
        goes_to_review = submit or (
            bool(changed) and was in (ForecastInputStatus.SUBMITTED, ForecastInputStatus.REVIEWED)
        )
        if goes_to_review:
            missing = record.missing()
            if missing:
                raise ValidationError(
                    {
                        f"{prefix}_low": f"{label}: give the three estimates before you send "
                        "the inputs for review."
                        for prefix, label, _, _, _, required in FORECAST_ESTIMATES
                        if required and record.estimate(prefix) is None
                    }
                )
        if not changed and not (submit and was != ForecastInputStatus.SUBMITTED):
            return record
        now = timezone.now()
        if goes_to_review and (changed or was != ForecastInputStatus.REVIEWED):
            record.status = ForecastInputStatus.SUBMITTED
            record.submitted_at = now
            record.reviewed_by = None
            record.reviewed_at = None
        record.updated_at = now
        record.updated_by = actor
        if not created:
            record.version = F("version") + 1
        record.save()
        record.refresh_from_db()
        action = "forecast.inputs." + ("submitted" if goes_to_review else "saved")
        audit_log(
            programme=venture.programme,
            actor=actor,
            action=action,
            target=record,
            changes={**changed, "status": [was, record.status]} if not created else after,
        )
        if record.status == ForecastInputStatus.SUBMITTED:
            forecast_recompute_enqueue(
                programme=venture.programme, venture=venture, trigger=Trigger.INPUTS_CHANGED
            )
        if was == ForecastInputStatus.REVIEWED and record.status != was:
            # Its reviewed numbers counted in the totals: they no longer do.
            forecast_recompute_enqueue(programme=venture.programme, trigger=Trigger.INPUTS_CHANGED)
    return record


def _venture_url(record: ForecastInput) -> str:
    return reverse(
        "metrics:forecast_venture",
        kwargs={"programme_slug": record.programme.slug, "venture_uuid": record.venture.uuid},
    )


def forecast_input_accept(*, record: ForecastInput, actor, version: int | None = None):
    """Staff accept the inputs as reasonable: from now on they count in the totals."""
    with transaction.atomic():
        record = (
            ForecastInput.objects.select_for_update()
            .select_related("venture__fellow__user", "programme")
            .get(pk=record.pk)
        )
        if version is not None and record.version != version:
            raise StaleForecastEdit(record)
        if record.status != ForecastInputStatus.SUBMITTED:
            raise ValidationError("Only inputs waiting for review can be accepted.")
        record.status = ForecastInputStatus.REVIEWED
        record.reviewed_by = actor
        record.reviewed_at = timezone.now()
        record.review_note = ""
        record.version = F("version") + 1
        record.save()
        record.refresh_from_db()
        audit_log(
            programme=record.programme,
            actor=actor,
            action="forecast.inputs.reviewed",
            target=record,
        )
        notify(
            programme=record.programme,
            recipients=[record.venture.fellow.user],
            kind=Kind.OUTCOME,
            title=f"Forecast inputs reviewed: {record.venture}",
            body="They now count in the programme's Patient Impact forecast.",
            link=_venture_url(record),
            actor=actor,
        )
        forecast_recompute_enqueue(
            programme=record.programme, venture=record.venture, trigger=Trigger.REVIEWED
        )
    return record


def forecast_input_return(
    *, record: ForecastInput, actor, reason: str, version: int | None = None
) -> ForecastInput:
    """Staff send the inputs back with a reason; the fellow is told and can change them."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why, so the fellow knows what to change."})
    with transaction.atomic():
        record = (
            ForecastInput.objects.select_for_update()
            .select_related("venture__fellow__user", "programme")
            .get(pk=record.pk)
        )
        if version is not None and record.version != version:
            raise StaleForecastEdit(record)
        if record.status not in (ForecastInputStatus.SUBMITTED, ForecastInputStatus.REVIEWED):
            raise ValidationError("Only inputs sent for review can be returned.")
        was = record.status
        record.status = ForecastInputStatus.RETURNED
        record.review_note = reason
        record.reviewed_by = actor
        record.reviewed_at = timezone.now()
        record.version = F("version") + 1
        record.save()
        record.refresh_from_db()
        audit_log(
            programme=record.programme,
            actor=actor,
            action="forecast.inputs.returned",
            target=record,
            changes={"reason": reason, "was": was},
        )
        notify(
            programme=record.programme,
            recipients=[record.venture.fellow.user],
            kind=Kind.OUTCOME,
            title=f"Forecast inputs returned: {record.venture}",
            body=reason,
            link=_venture_url(record),
            actor=actor,
        )
        if was == ForecastInputStatus.REVIEWED:
            forecast_recompute_enqueue(programme=record.programme, trigger=Trigger.REVIEWED)
    return record


# --- runs -------------------------------------------------------------------------------------


def _fingerprint(scope: str, target: str, inputs: dict, settings: dict, seed: int) -> str:
    canonical = json.dumps(
        {"scope": scope, "target": target, "inputs": inputs, "settings": settings, "seed": seed},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _store_run(
    *,
    programme,
    scope: str,
    venture=None,
    cohort=None,
    trigger: str,
    inputs: dict,
    settings: dict,
    seed: int,
    outputs: dict,
    ventures_count: int,
    missing: list,
    actor=None,
    input_status: str = "",
    force: bool = False,
) -> tuple[ForecastRun, bool]:
    """Store a run unless the latest of its scope was made from exactly the same inputs,
    settings and seed (so a task run twice stores one run). Returns (run, created)."""
    target = str(venture.uuid if venture else cohort.uuid if cohort else programme.uuid)
    fingerprint = _fingerprint(scope, target, inputs, settings, seed)
    latest = (
        ForecastRun.objects.filter(programme=programme, scope=scope, venture=venture, cohort=cohort)
        .order_by("-created_at", "-id")
        .first()
    )
    if (
        not force
        and latest is not None
        and latest.fingerprint == fingerprint
        and latest.missing == missing
    ):
        return latest, False
    run = ForecastRun.objects.create(
        programme=programme,
        scope=scope,
        venture=venture,
        cohort=cohort,
        trigger=trigger,
        input_status=input_status,
        inputs=inputs,
        settings=settings,
        seed=seed,
        outputs=outputs,
        ventures_count=ventures_count,
        missing=missing,
        fingerprint=fingerprint,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    return run, True


def forecast_venture_run(
    *, venture: Venture, trigger: str, actor=None, settings_row: ForecastSettings | None = None
) -> ForecastRun:
    """Forecast one venture from its current inputs (whatever their status: a fellow may
    preview a draft) and store the run. Raises engine.MissingInputsError naming what is
    missing rather than guessing."""
    settings_row = settings_row or forecast_settings_for(programme=venture.programme)
    record = forecast_input_for(venture=venture)
    if record is None:
        raise engine.MissingInputsError(
            f"'{venture.name}' cannot be forecast yet: it has no forecast inputs.",
            fields=[],
            missing=[m for _, _, m, _, _, required in FORECAST_ESTIMATES if required],
        )
    settings = settings_row.to_engine()
    inputs = record.to_engine(venture)
    inputs.check_complete(settings)
    summary = engine.forecast(inputs, settings, seed=settings_row.seed)
    run, _ = _store_run(
        programme=venture.programme,
        scope=Scope.VENTURE,
        venture=venture,
        trigger=trigger,
        inputs={str(venture.uuid): inputs.to_dict()},
        settings=settings.to_dict(),
        seed=settings_row.seed,
        outputs=summary.outputs_dict(),
        ventures_count=1,
        missing=[],
        actor=actor,
        input_status=record.status,
    )
    return run


_LEFT_OUT = {
    None: "has no forecast inputs yet",
    ForecastInputStatus.DRAFT: "its inputs are a draft",
    ForecastInputStatus.SUBMITTED: "its inputs wait for review",
    ForecastInputStatus.RETURNED: "its inputs were returned to the fellow",
}


def forecast_portfolio_runs(
    *, programme: Programme, trigger: str, actor=None, force: bool = False
) -> dict[str, Any]:
    """The programme's and each cohort's forecast from REVIEWED inputs: each cohort's draws
    are summed venture by venture, the programme's are the sum of its cohorts' draws, and
    percentiles are taken only then. Ventures left out are listed with why."""
    settings_row = forecast_settings_for(programme=programme)
    settings = settings_row.to_engine()
    seed = settings_row.seed
    ventures = list(
        Venture.objects.filter(programme=programme)
        .select_related("fellow__cohort", "fellow__user")
        .order_by("name", "pk")
    )
    records = {r.venture_id: r for r in ForecastInput.objects.filter(programme=programme)}
    by_cohort: dict[int, list] = {}
    left_out: dict[int, list] = {}
    cohorts: dict[int, Cohort] = {}
    for venture in ventures:
        cohort = venture.fellow.cohort
        cohorts[cohort.pk] = cohort
        by_cohort.setdefault(cohort.pk, [])
        left_out.setdefault(cohort.pk, [])
        record = records.get(venture.pk)
        status = record.status if record else None
        entry = {"venture": str(venture.uuid), "name": venture.name}
        if status != ForecastInputStatus.REVIEWED:
            left_out[cohort.pk].append({**entry, "reason": _LEFT_OUT[status], "missing": []})
            continue
        inputs = record.to_engine(venture)
        missing = inputs.missing_fields()
        if missing:
            left_out[cohort.pk].append(
                {**entry, "reason": "inputs are missing", "missing": missing}
            )
            continue
        by_cohort[cohort.pk].append(inputs)

    settings_dict = settings.to_dict()
    cohort_runs, total_draws, all_inputs, all_missing = [], None, {}, []
    for cohort_pk in sorted(cohorts, key=lambda pk: (cohorts[pk].starts_on, pk)):
        cohort = cohorts[cohort_pk]
        kept = by_cohort[cohort_pk]
        missing = left_out[cohort_pk]
        all_missing.extend({**m, "cohort": cohort.name} for m in missing)
        if not kept:
            continue
        portfolio = engine.forecast_portfolio(kept, settings, seed=seed, skip_incomplete=True)
        inputs = {str(v.key): v.to_dict() for v in kept}
        all_inputs.update(inputs)
        total_draws = portfolio.draws if total_draws is None else total_draws + portfolio.draws
        run, _ = _store_run(
            programme=programme,
            scope=Scope.COHORT,
            cohort=cohort,
            trigger=trigger,
            inputs=inputs,
            settings=settings_dict,
            seed=seed,
            outputs=portfolio.total.outputs_dict(),
            ventures_count=len(kept),
            missing=missing,
            actor=actor,
            force=force,
        )
        cohort_runs.append(run)
    programme_run = None
    if total_draws is not None:
        total = engine.summarise(total_draws)
        programme_run, _ = _store_run(
            programme=programme,
            scope=Scope.PROGRAMME,
            trigger=trigger,
            inputs=all_inputs,
            settings=settings_dict,
            seed=seed,
            outputs=total.outputs_dict(),
            ventures_count=len(all_inputs),
            missing=all_missing,
            actor=actor,
            force=force,
        )
    return {"programme": programme_run, "cohorts": cohort_runs, "left_out": all_missing}


def forecast_recompute(
    *, programme: Programme, venture: Venture | None = None, trigger: str, actor=None
) -> dict[str, Any]:
    """What the task does: the venture's run (when its inputs are sent or reviewed; with no
    venture, every venture's), then the cohorts' and the programme's. Safe to run twice: a
    run identical to the latest of its scope is not stored again. The settings row is locked
    so two recomputes of a programme take turns instead of storing runs in a muddled order."""
    forecast_settings_for(programme=programme)
    with transaction.atomic():
        settings_row = ForecastSettings.objects.select_for_update().get(programme=programme)
        venture_run = None
        if venture is None:
            # The settings changed, or a nightly or on-demand pass: every venture's own run.
            forecast_venture_runs_bulk(programme=programme, trigger=trigger, actor=actor)
        else:
            record = forecast_input_for(venture=venture)
            if record is not None and record.status in (
                ForecastInputStatus.SUBMITTED,
                ForecastInputStatus.REVIEWED,
            ):
                try:
                    venture_run = forecast_venture_run(
                        venture=venture, trigger=trigger, actor=actor, settings_row=settings_row
                    )
                except engine.MissingInputsError:
                    venture_run = None
        result = forecast_portfolio_runs(programme=programme, trigger=trigger, actor=actor)
    result["venture"] = venture_run
    return result


def forecast_recompute_enqueue(
    *, programme: Programme, trigger: str, venture: Venture | None = None
) -> None:
    """Queue the recompute once the transaction commits (eager locally: done at once)."""
    programme_id, venture_id = programme.pk, venture.pk if venture else None

    def enqueue():
        from .tasks import forecast_recompute as task

        task.apply_async(
            kwargs={"programme_id": programme_id, "venture_id": venture_id, "trigger": trigger},
            retry=False,
        )

    transaction.on_commit(enqueue, robust=True)


def forecast_preview(*, venture: Venture, actor) -> ForecastRun:
    """A fellow's (or staff's) forecast of the venture's inputs as they stand, draft or not,
    stored as a venture run. Raises engine.MissingInputsError when inputs are missing."""
    with transaction.atomic():
        run = forecast_venture_run(venture=venture, trigger=Trigger.ON_DEMAND, actor=actor)
    return run


def forecast_request_recompute(*, programme: Programme, actor) -> None:
    """Staff ask for every forecast to be made again now (audited; the task does the work)."""
    with transaction.atomic():
        audit_log(programme=programme, actor=actor, action="forecast.recompute_requested")
        forecast_recompute_enqueue(programme=programme, trigger=Trigger.ON_DEMAND)


# --- reads ------------------------------------------------------------------------------------


def latest_run(*, programme: Programme, scope: str, venture=None, cohort=None):
    return (
        ForecastRun.objects.filter(programme=programme, scope=scope, venture=venture, cohort=cohort)
        .select_related("created_by")
        .order_by("-created_at", "-id")
        .first()
    )


def latest_cohort_runs(*, programme: Programme) -> list[ForecastRun]:
    """The latest run of each cohort (one query)."""
    runs = (
        ForecastRun.objects.filter(programme=programme, scope=Scope.COHORT)
        .select_related("cohort")
        .order_by("cohort_id", "-created_at", "-id")
    )
    latest: dict[int, ForecastRun] = {}
    for run in runs.only("id", "cohort", "created_at"):
        latest.setdefault(run.cohort_id, run)
    full = ForecastRun.objects.filter(pk__in=[r.pk for r in latest.values()]).select_related(
        "cohort"
    )
    return sorted(full, key=lambda r: (r.cohort.starts_on, r.cohort_id))


def programme_pending(*, programme: Programme, run: ForecastRun | None) -> bool:
    """A recompute is pending when the latest programme run was not made from the reviewed
    inputs and settings as they are now. Compared by content, not by time: a recompute that
    found nothing new stores no run, so the latest run's time says nothing."""
    settings = forecast_settings_for(programme=programme).to_engine().to_dict()
    reviewed = ForecastInput.objects.filter(
        programme=programme, status=ForecastInputStatus.REVIEWED
    ).select_related("venture")
    current = {}
    for record in reviewed:
        inputs = record.to_engine(record.venture)
        if not inputs.missing_fields():
            current[inputs.key] = inputs.to_dict()
    if run is None:
        return bool(current)
    return run.settings != settings or run.inputs != current


def venture_pending(
    *, record: ForecastInput | None, run: ForecastRun | None, settings_row: ForecastSettings
) -> bool:
    """The venture's inputs were sent or reviewed (so a recompute was queued) but its latest
    run was made from other inputs or settings."""
    if record is None or record.status not in (
        ForecastInputStatus.SUBMITTED,
        ForecastInputStatus.REVIEWED,
    ):
        return False
    if record.missing():
        return False
    if run is None:
        return True
    current = record.to_engine(record.venture).to_dict()
    return (
        run.inputs.get(str(record.venture.uuid)) != current
        or run.settings != settings_row.to_engine().to_dict()
    )


@dataclass(frozen=True)
class YearRow:
    year: int
    label: str
    mean: float
    p10: float
    p50: float
    p90: float


def band_rows(run: ForecastRun, band: str = "patients") -> list[YearRow]:
    """A stored band as table rows, year by year, labelled by the twelve months each covers."""
    data = run.outputs.get(band)
    if not data:
        return []
    start = timezone.localtime(run.created_at).date()
    rows = []
    for i, year in enumerate(run.outputs.get("years", [])):
        begins = _add_years(start, i)
        ends = _add_years(start, i + 1) - timedelta(days=1)
        rows.append(
            YearRow(
                year=year,
                label=f"Year {year} ({begins:%b %Y} to {ends:%b %Y})",
                mean=data["mean"][i],
                p10=data["p10"][i],
                p50=data["p50"][i],
                p90=data["p90"][i],
            )
        )
    return rows


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# --- prospective check ------------------------------------------------------------------------


@dataclass(frozen=True)
class Prospective:
    run: ForecastRun | None
    check: engine.ProspectiveCheck | None
    message: str


def _forecast_year(run_day: date, record) -> int | None:
    """The forecast year (1 = the first twelve months after the run) a period falls in, by
    its midpoint; None when the period started before the run."""
    if record.period_start < run_day:
        return None
    midpoint = record.period_start + (record.period_end - record.period_start) / 2
    return int((midpoint - run_day).days // 365.25) + 1


def prospective_check_for(
    *, programme: Programme, venture: Venture | None = None, scope: str = Scope.VENTURE
) -> Prospective:
    """Verified patients reached, set against the earliest stored forecast made before them
    (of the venture, or of the programme). Says plainly when there is nothing to compare."""
    records = PatientReachRecord.objects.filter(programme=programme, status=OutcomeStatus.VERIFIED)
    runs = ForecastRun.objects.filter(programme=programme, scope=scope)
    if venture is not None:
        records = records.filter(venture=venture)
        runs = runs.filter(venture=venture)
    records = list(records.only("patients", "period_start", "period_end", "venture_id"))
    if not records:
        return Prospective(None, None, "No verified patients reached to compare yet.")
    first_period = min(r.period_start for r in records)
    run = (
        runs.filter(created_at__date__lte=first_period).order_by("created_at", "id").first()
        or runs.order_by("created_at", "id").first()
    )
    if run is None:
        return Prospective(None, None, "There is no stored forecast to compare with yet.")
    run_day = timezone.localtime(run.created_at).date()
    horizon = len(run.outputs.get("years", []))
    counted = None
    if venture is None:
        # Only the ventures the programme's forecast included count against it.
        counted = set(
            Venture.objects.filter(programme=programme, uuid__in=list(run.inputs)).values_list(
                "pk", flat=True
            )
        )
    actuals: dict[int, float] = {}
    for record in records:
        if counted is not None and record.venture_id not in counted:
            continue
        year = _forecast_year(run_day, record)
        if year is None or year > horizon:
            continue
        actuals[year] = actuals.get(year, 0.0) + record.patients
    if not actuals:
        return Prospective(
            run,
            None,
            "No verified patients reached fall in a year after a stored forecast yet: the "
            f"earliest forecast was made on {run_day:%-d %B %Y}.",
        )
    check = engine.prospective_check(run.summary_dict(), actuals)
    return Prospective(run, check, "")


def share_label(share: float | None) -> str:
    if share is None or math.isnan(share):
        return "—"
    return f"{share:.0%}"


def forecast_input_status_by_venture(*, programme: Programme, fellow) -> list[dict]:
    """Each of the fellow's ventures with its inputs (or None), in two queries (one when the
    fellow's ventures were prefetched)."""
    ventures = sorted(fellow.ventures.all(), key=lambda v: (v.name, v.pk))
    records = {
        r.venture_id: r
        for r in ForecastInput.objects.filter(programme=programme, venture__in=ventures)
    }
    return [{"venture": v, "record": records.get(v.pk)} for v in ventures]


def forecast_venture_runs_bulk(*, programme: Programme, trigger: str, actor=None) -> int:
    """Every venture with inputs sent or reviewed gets its own run, in one pass of the engine
    (each venture's summary is what forecast() of it alone gives). Skips a venture whose
    latest run is the same; returns how many runs were stored."""
    settings_row = forecast_settings_for(programme=programme)
    settings = settings_row.to_engine()
    seed = settings_row.seed
    records = list(
        ForecastInput.objects.filter(
            programme=programme,
            status__in=[ForecastInputStatus.SUBMITTED, ForecastInputStatus.REVIEWED],
        )
        .select_related("venture")
        .order_by("pk")
    )
    inputs = [r.to_engine(r.venture) for r in records]
    if not inputs:
        return 0
    portfolio = engine.forecast_portfolio(
        inputs, settings, seed=seed, per_venture=True, skip_incomplete=True
    )
    latest = {}
    for run in ForecastRun.objects.filter(programme=programme, scope=Scope.VENTURE).order_by(
        "created_at", "id"
    ):
        latest[run.venture_id] = run.fingerprint
    settings_dict = settings.to_dict()
    new = []
    for record, venture_inputs in zip(records, inputs, strict=True):
        summary = portfolio.ventures.get(venture_inputs.key)
        if summary is None:
            continue
        stored = {venture_inputs.key: venture_inputs.to_dict()}
        fingerprint = _fingerprint(Scope.VENTURE, venture_inputs.key, stored, settings_dict, seed)
        if latest.get(record.venture_id) == fingerprint:
            continue
        new.append(
            ForecastRun(
                programme=programme,
                scope=Scope.VENTURE,
                venture=record.venture,
                trigger=trigger,
                input_status=record.status,
                inputs=stored,
                settings=settings_dict,
                seed=seed,
                outputs=summary.outputs_dict(),
                ventures_count=1,
                missing=[],
                fingerprint=fingerprint,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
        )
    ForecastRun.objects.bulk_create(new)
    return len(new)
