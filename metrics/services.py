"""Every write of the metrics app, each in a transaction and audited: fellows report their
outcomes and bring them up to date each quarter; staff verify them or return them with a
reason. Nothing counts in programme totals until it is verified."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from cohort.models import Cohort, Fellow, Programme
from cohort.services import audit_log
from cohort.tasking import job_lock
from notifications.models import Kind
from notifications.services import notify
from notifications.webhooks import webhook_emit

from .definitions import METRICS, compute_metric, month_end
from .models import (
    CompanyRecord,
    FundingRecord,
    JobsRecord,
    MetricRun,
    MetricSnapshot,
    MetricTarget,
    OutcomeStatus,
    OutcomeUpdate,
    PartnershipRecord,
    PatientReachRecord,
    ProgrammeReport,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutcomeKind:
    """One kind of outcome: its model, the fields a fellow fills in, and how it is named."""

    slug: str
    model: type
    fields: tuple[str, ...]
    label: str  # "Funding raised"
    report_label: str  # "Report funding"


OUTCOME_KINDS: dict[str, OutcomeKind] = {
    kind.slug: kind
    for kind in [
        OutcomeKind(
            "funding",
            FundingRecord,
            ("venture", "kind", "amount", "source", "received_on", "evidence"),
            "Funding raised",
            "Report funding",
        ),
        OutcomeKind(
            "partnerships",
            PartnershipRecord,
            (
                "venture",
                "kind",
                "organisation",
                "partner_name",
                "started_on",
                "description",
                "evidence",
            ),
            "Partnerships",
            "Report a partnership",
        ),
        OutcomeKind(
            "patients",
            PatientReachRecord,
            ("venture", "patients", "period_start", "period_end", "how_counted", "evidence"),
            "Patients reached",
            "Report patients reached",
        ),
        OutcomeKind(
            "companies",
            CompanyRecord,
            ("venture", "company_name", "company_number", "incorporated_on", "evidence"),
            "Companies formed",
            "Report a company formed",
        ),
        OutcomeKind(
            "jobs",
            JobsRecord,
            ("venture", "jobs", "counted_on", "evidence"),
            "Jobs created",
            "Report jobs created",
        ),
    ]
}


def kind_of(record) -> OutcomeKind:
    return next(k for k in OUTCOME_KINDS.values() if isinstance(record, k.model))


class StaleOutcome(Exception):
    """The record changed since the form was opened; nothing was written."""

    def __init__(self, record):
        super().__init__("The record was changed by someone else since you opened it.")
        self.record = record


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_label(start: date) -> str:
    """ "October to December 2026" for the quarter beginning on 1 October 2026."""
    end_month = start.month + 2
    return f"{date(start.year, start.month, 1):%B} to {date(start.year, end_month, 1):%B %Y}"


def _values(record, fields) -> dict:
    values = {}
    for name in fields:
        value = getattr(record, name)
        if hasattr(value, "pk"):
            value = str(getattr(value, "uuid", value.pk))
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        elif value is not None and not isinstance(value, (str, int, bool)):
            value = str(value)
        values[name] = value
    return values


def outcome_report(*, fellow: Fellow, kind: str, data: dict, actor) -> object:
    """The fellow (or staff for them) reports an outcome; it waits for verification."""
    outcome_kind = OUTCOME_KINDS[kind]
    record = outcome_kind.model(programme=fellow.programme, fellow=fellow, reported_by=actor)
    for name in outcome_kind.fields:
        if name in data:
            setattr(record, name, data[name])
    with transaction.atomic():
        record.full_clean(exclude=["programme", "fellow"])
        record.save()
        audit_log(
            programme=fellow.programme,
            actor=actor,
            action=f"outcome.{kind}.reported",
            target=record,
            changes=_values(record, outcome_kind.fields),
        )
    return record


def outcome_change(*, record, actor, data: dict, version: int | None = None, by_staff: bool):
    """Change a record. The fellow may change theirs until it is verified (a record returned
    with a reason goes back to waiting); staff may change any, and a verified record they
    change stays verified, with the change audited."""
    outcome_kind = kind_of(record)
    model = outcome_kind.model
    with transaction.atomic():
        record = model.objects.select_for_update().get(pk=record.pk)
        if version is not None and record.version != version:
            raise StaleOutcome(record)
        if record.status == OutcomeStatus.VERIFIED and not by_staff:
            raise ValidationError(
                "This record is verified, so it can no longer be changed. Ask the programme "
                "team if something in it is wrong."
            )
        before = _values(record, outcome_kind.fields)
        for name in outcome_kind.fields:
            if name in data:
                setattr(record, name, data[name])
        record.full_clean(exclude=["programme", "fellow"])
        after = _values(record, outcome_kind.fields)
        changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if not changed:
            return record
        if record.status == OutcomeStatus.REJECTED and not by_staff:
            record.status = OutcomeStatus.REPORTED
            record.rejection_reason = ""
        record.version = F("version") + 1
        record.save()
        record.refresh_from_db()
        audit_log(
            programme=record.programme,
            actor=actor,
            action=f"outcome.{outcome_kind.slug}.changed",
            target=record,
            changes=changed,
        )
    return record


def outcome_withdraw(*, record, actor) -> None:
    """The fellow takes back a record reported by mistake (not once it is verified)."""
    outcome_kind = kind_of(record)
    with transaction.atomic():
        record = outcome_kind.model.objects.select_for_update().get(pk=record.pk)
        if record.status == OutcomeStatus.VERIFIED:
            raise ValidationError("A verified record cannot be withdrawn. Ask the programme team.")
        audit_log(
            programme=record.programme,
            actor=actor,
            action=f"outcome.{outcome_kind.slug}.withdrawn",
            target=record,
            changes=_values(record, outcome_kind.fields),
        )
        record.delete()


def _outcome_url(record) -> str:
    return reverse("metrics:outcomes", kwargs={"programme_slug": record.programme.slug})


def outcome_verify(*, record, actor, now=None):
    """Staff confirm the record: from now on it counts in the programme's figures."""
    outcome_kind = kind_of(record)
    now = now or timezone.now()
    with transaction.atomic():
        record = outcome_kind.model.objects.select_for_update().get(pk=record.pk)
        if record.status == OutcomeStatus.VERIFIED:
            raise ValidationError("This record is already verified.")
        record.status = OutcomeStatus.VERIFIED
        record.verified_by = actor
        record.verified_at = now
        record.rejection_reason = ""
        record.version = F("version") + 1
        record.save(
            update_fields=["status", "verified_by", "verified_at", "rejection_reason", "version"]
        )
        record.refresh_from_db()
        audit_log(
            programme=record.programme,
            actor=actor,
            action=f"outcome.{outcome_kind.slug}.verified",
            target=record,
        )
        notify(
            programme=record.programme,
            recipients=[record.fellow.user],
            kind=Kind.OUTCOME,
            title=f"Verified: {record}",
            body="It now counts in the programme's figures.",
            link=_outcome_url(record),
            actor=actor,
        )
    return record


def outcome_reject(*, record, actor, reason: str, now=None):
    """Staff cannot verify the record as it stands: the fellow is told why and can change it.
    A verified record can be taken out of the figures the same way, with the reason kept."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why, so the fellow knows what to change."})
    outcome_kind = kind_of(record)
    with transaction.atomic():
        record = outcome_kind.model.objects.select_for_update().get(pk=record.pk)
        was = record.status
        record.status = OutcomeStatus.REJECTED
        record.rejection_reason = reason
        record.verified_by = None
        record.verified_at = None
        record.version = F("version") + 1
        record.save(
            update_fields=["status", "rejection_reason", "verified_by", "verified_at", "version"]
        )
        record.refresh_from_db()
        audit_log(
            programme=record.programme,
            actor=actor,
            action=f"outcome.{outcome_kind.slug}.rejected",
            target=record,
            changes={"reason": reason, "was": was},
        )
        notify(
            programme=record.programme,
            recipients=[record.fellow.user],
            kind=Kind.OUTCOME,
            title=f"Not verified: {record}",
            body=reason,
            link=_outcome_url(record),
            actor=actor,
        )
    return record


def outcome_update_due(*, fellow: Fellow, today=None) -> date | None:
    """The quarter the fellow is asked to bring their outcomes up to date for, or None when
    they have done it this quarter."""
    start = quarter_start(today or timezone.localdate())
    done = OutcomeUpdate.objects.filter(fellow=fellow, quarter_start=start).exists()
    return None if done else start


def outcome_update_complete(*, fellow: Fellow, actor, nothing_new: bool, today=None):
    """The fellow says their outcomes are up to date for this quarter (idempotent)."""
    start = quarter_start(today or timezone.localdate())
    with transaction.atomic():
        update, created = OutcomeUpdate.objects.get_or_create(
            programme=fellow.programme,
            fellow=fellow,
            quarter_start=start,
            defaults={"nothing_new": nothing_new},
        )
        if created:
            audit_log(
                programme=fellow.programme,
                actor=actor,
                action="outcome.quarter_updated",
                target=update,
                changes={"quarter": quarter_label(start), "nothing_new": nothing_new},
            )
    return update


# --- metric snapshots --------------------------------------------------------------------------

# A run still marked running after this long died with its worker: it may be claimed again.
STALE_RUN = timedelta(minutes=30)


def metric_run_request(*, programme: Programme, actor) -> MetricRun:
    """Staff ask for the metrics to be computed now. A run already waiting or under way is
    returned instead of starting a second one (pressing the button twice computes once)."""
    with transaction.atomic():
        Programme.objects.select_for_update().get(pk=programme.pk)
        pending = (
            MetricRun.objects.filter(
                programme=programme,
                status__in=[MetricRun.Status.QUEUED, MetricRun.Status.RUNNING],
                created_at__gte=timezone.now() - STALE_RUN,
            )
            .order_by("-created_at")
            .first()
        )
        if pending is not None:
            return pending
        run = MetricRun.objects.create(
            programme=programme, trigger=MetricRun.Trigger.ON_DEMAND, requested_by=actor
        )
        audit_log(
            programme=programme,
            actor=actor,
            action="metrics.run_requested",
            target=run,
            changes={},
        )

        def enqueue():
            from .tasks import metric_snapshots_task

            try:
                metric_snapshots_task.apply_async(
                    kwargs={"programme_id": programme.pk, "run_id": run.pk}, retry=False
                )
            except Exception:  # the broker is down: compute here rather than leave it waiting
                metric_snapshots_compute(programme=programme, run=run)

        transaction.on_commit(enqueue, robust=True)
    return run


def _claimable(model, now, exclusive: bool | None) -> Q:
    """Which jobs of `model` (a MetricRun or a ProgrammeReport) may be claimed now. Holding the
    job's lock (`exclusive`), one still marked running was left by a worker that died, so it is
    taken again at once; without the lock (SQLite) only after STALE_RUN."""
    if exclusive:
        return Q(status__in=[model.Status.QUEUED, model.Status.RUNNING])
    return Q(status=model.Status.QUEUED) | Q(
        status=model.Status.RUNNING, started_at__lt=now - STALE_RUN
    )


def _claim_run(run: MetricRun, exclusive: bool | None) -> bool:
    if exclusive is False:
        return False  # a live worker is computing it
    now = timezone.now()
    claimable = _claimable(MetricRun, now, exclusive)
    claimed = MetricRun.objects.filter(claimable, pk=run.pk).update(
        status=MetricRun.Status.RUNNING, started_at=now, steps_done=0
    )
    return claimed == 1


def metric_snapshots_compute(
    *,
    programme: Programme,
    run: MetricRun | None = None,
    trigger: str = MetricRun.Trigger.NIGHTLY,
    today: date | None = None,
) -> MetricRun:
    """Compute every metric of the programme and replace its snapshots with the new figures.

    Idempotent: the snapshots of a programme are replaced as a whole, in one transaction that
    holds the programme's row lock, so running twice (even at the same time) leaves one set of
    figures, never duplicates. Progress is written as it goes for the page that shows it. A run
    whose worker was killed is taken again by the redelivered task (see cohort.tasking.job_lock)
    and, its figures never having been saved, computed once."""
    today = today or timezone.localdate()
    if run is None:
        run = MetricRun.objects.create(programme=programme, trigger=trigger)
    with job_lock("metrics.run", run.pk) as exclusive:
        if not _claim_run(run, exclusive):
            run.refresh_from_db()
            return run
        _compute_run(programme, run, today)
    run.refresh_from_db()
    return run


def _compute_run(programme: Programme, run: MetricRun, today: date) -> None:
    MetricRun.objects.filter(pk=run.pk).update(steps_total=len(METRICS) + 1)
    try:
        cohorts = {
            c.pk: c for c in Cohort.objects.filter(programme=programme).order_by("starts_on")
        }
        computed = {}
        for done, metric in enumerate(METRICS.values()):
            MetricRun.objects.filter(pk=run.pk).update(steps_done=done, current_step=metric.label)
            computed[metric.key] = compute_metric(metric, programme, today)
        MetricRun.objects.filter(pk=run.pk).update(
            steps_done=len(METRICS), current_step="Saving the figures"
        )
        snapshots = _snapshots(programme, run, cohorts, computed)
        with transaction.atomic():
            # Serialises two runs of one programme: the second replaces the first's figures.
            Programme.objects.select_for_update().get(pk=programme.pk)
            MetricSnapshot.objects.filter(programme=programme).delete()
            MetricSnapshot.objects.bulk_create(snapshots, batch_size=1000)
            finished_at = timezone.now()
            MetricRun.objects.filter(pk=run.pk).update(
                status=MetricRun.Status.DONE,
                finished_at=finished_at,
                steps_done=len(METRICS) + 1,
                current_step="",
                snapshot_count=len(snapshots),
            )
            # Partners reading metrics hear of new figures with the figures themselves.
            webhook_emit(
                programme=programme,
                event="metrics.published",
                payload={
                    "run": str(run.uuid),
                    "finished_at": finished_at,
                    "snapshot_count": len(snapshots),
                    "link": "/api/v1/metrics/",
                },
            )
    except Exception as error:
        logger.exception("Metric snapshots failed for programme %s", programme.pk)
        MetricRun.objects.filter(pk=run.pk).update(
            status=MetricRun.Status.FAILED,
            finished_at=timezone.now(),
            problem=f"{type(error).__name__}: {error}"[:2000],
        )


def _snapshots(programme, run, cohorts, computed) -> list[MetricSnapshot]:
    now = timezone.now()
    whole = (
        (min(c.starts_on for c in cohorts.values()), max(c.ends_on for c in cohorts.values()))
        if cohorts
        else None
    )
    snapshots = []
    for key, cells in computed.items():
        metric = METRICS[key]
        for (cohort_id, start), cell in cells.items():
            if cohort_id is not None and cohort_id not in cohorts:
                continue
            if metric.family == "period":
                period = (start, month_end(start))
            elif cohort_id is not None:
                period = (cohorts[cohort_id].starts_on, cohorts[cohort_id].ends_on)
            elif whole is not None:
                period = whole
            else:
                continue
            snapshots.append(
                MetricSnapshot(
                    programme=programme,
                    cohort_id=cohort_id,
                    run=run,
                    key=metric.key,
                    period_start=period[0],
                    period_end=period[1],
                    value=metric.value_of(cell.numerator, cell.denominator),
                    numerator=cell.numerator,
                    denominator=cell.denominator if cell.denominator else None,
                    breakdown={
                        part: [float(n), float(d)]
                        for part, (n, d) in sorted(cell.breakdown.items())
                    },
                    computed_at=now,
                )
            )
    return snapshots


def metric_target_save(*, programme: Programme, cohort: Cohort, key: str, value, note, actor):
    """Set (or clear, with value None) the target for one metric over one cohort's year."""
    if key not in METRICS or METRICS[key].family != "period":
        raise ValidationError({"key": "Targets can be set for the metrics counted by month."})
    with transaction.atomic():
        existing = MetricTarget.objects.filter(programme=programme, cohort=cohort, key=key).first()
        before = str(existing.value) if existing else None
        if value is None:
            if existing:
                existing.delete()
        else:
            target = existing or MetricTarget(programme=programme, cohort=cohort, key=key)
            target.value, target.note = value, note
            target.set_by, target.updated_at = actor, timezone.now()
            target.full_clean()
            target.save()
        audit_log(
            programme=programme,
            actor=actor,
            action="metrics.target_set",
            target=cohort,
            changes={"metric": key, "target": [before, None if value is None else str(value)]},
        )


# --- the annual programme report ---------------------------------------------------------------


def report_request(*, programme: Programme, cohort: Cohort, actor) -> ProgrammeReport:
    """Staff ask for the report of one programme year; it is written in the background. A
    year with no fellows has nothing to report, and says so at the field."""
    if not Fellow.objects.filter(programme=programme, cohort=cohort).exists():
        raise ValidationError(
            {"year": f"{cohort.name} has no fellows yet, so there is nothing to report."}
        )
    with transaction.atomic():
        report = ProgrammeReport.objects.create(
            programme=programme, cohort=cohort, requested_by=actor
        )
        audit_log(
            programme=programme,
            actor=actor,
            action="metrics.report_requested",
            target=report,
            changes={"year": cohort.name},
        )

        def enqueue():
            from .tasks import programme_report_task

            try:
                programme_report_task.apply_async(
                    kwargs={"programme_id": programme.pk, "report_id": report.pk}, retry=False
                )
            except Exception:  # the broker is down: write it here rather than leave it waiting
                report_build(report=report)

        transaction.on_commit(enqueue, robust=True)
    return report


def report_build(*, report: ProgrammeReport, today: date | None = None) -> ProgrammeReport:
    """Write the report's PDF, with progress for the page that waits for it. Safe to run
    twice: a report being written or finished is left alone, and one whose worker was killed
    is written again by the redelivered task (see cohort.tasking.job_lock)."""
    with job_lock("metrics.report", report.pk) as exclusive:
        now = timezone.now()
        claimed = exclusive is not False and ProgrammeReport.objects.filter(
            _claimable(ProgrammeReport, now, exclusive), pk=report.pk
        ).update(status=ProgrammeReport.Status.RUNNING, started_at=now, steps_done=0)
        if claimed:
            _write_report(report, today)
    report.refresh_from_db()
    return report


def _write_report(report: ProgrammeReport, today: date | None) -> None:
    from .reports import render_report_pdf, report_context

    step = ProgrammeReport.objects.filter(pk=report.pk)
    try:
        step.update(steps_done=0, current_step="Gathering the figures and charts")
        context = report_context(report.programme, report.cohort, today or timezone.localdate())
        step.update(steps_done=1, current_step="Laying out the pages")
        pdf = render_report_pdf(context)
        step.update(
            status=ProgrammeReport.Status.DONE,
            steps_done=3,
            current_step="",
            pdf=pdf,
            size=len(pdf),
            finished_at=timezone.now(),
        )
    except Exception as error:
        logger.exception("Programme report %s failed", report.pk)
        step.update(
            status=ProgrammeReport.Status.FAILED,
            finished_at=timezone.now(),
            problem=f"{type(error).__name__}: {error}"[:2000],
        )


def report_downloaded(*, report: ProgrammeReport, actor) -> None:
    """The report leaves the platform: each download is audited."""
    audit_log(
        programme=report.programme, actor=actor, action="metrics.report_downloaded", target=report
    )
