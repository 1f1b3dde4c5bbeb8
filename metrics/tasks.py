"""Metrics jobs: thin wrappers around the services, safe to run twice."""

from celery import shared_task
from django_scopes import scope, scopes_disabled

from cohort.models import Programme, Venture
from cohort.tasking import ProgrammeTask


@shared_task(base=ProgrammeTask, bind=True, time_limit=3600, soft_time_limit=3500)
def metric_snapshots_task(self, *, programme_id: int, run_id: int | None = None) -> int | None:
    """Compute one programme's metric snapshots (a run staff asked for, or a new one)."""
    from .models import MetricRun
    from .services import metric_snapshots_compute

    programme = Programme.objects.get(pk=programme_id)
    run = MetricRun.objects.filter(programme=programme, pk=run_id).first() if run_id else None
    if run_id and run is None:
        return None  # the run was deleted after it was queued
    return metric_snapshots_compute(programme=programme, run=run).pk


@shared_task(time_limit=7200, soft_time_limit=7000, acks_late=True)
def metric_snapshots_nightly() -> int:
    """Every night: each programme's snapshots, one after another. Returns how many ran."""
    from .models import MetricRun
    from .services import metric_snapshots_compute

    with scopes_disabled():
        programmes = list(Programme.objects.order_by("pk"))
    for programme in programmes:
        with scope(programme=programme):
            metric_snapshots_compute(programme=programme, trigger=MetricRun.Trigger.NIGHTLY)
    return len(programmes)


@shared_task(base=ProgrammeTask, bind=True, time_limit=600, soft_time_limit=540)
def forecast_recompute(
    self, *, programme_id: int, venture_id: int | None = None, trigger: str = "inputs_changed"
) -> dict:
    """Make the venture's forecast (when given) and refresh its cohorts' and the programme's.
    Idempotent: a run identical to the latest of its scope is not stored twice."""
    from .forecasting import forecast_recompute as recompute

    programme = Programme.objects.get(pk=programme_id)
    venture = Venture.objects.filter(programme=programme, pk=venture_id).first()
    # A venture deleted since the task was queued: its totals are still refreshed.
    result = recompute(programme=programme, venture=venture, trigger=trigger)
    return {
        "venture_run": str(result["venture"].uuid) if result["venture"] else None,
        "programme_run": str(result["programme"].uuid) if result["programme"] else None,
        "cohort_runs": len(result["cohorts"]),
    }


@shared_task(time_limit=1800, soft_time_limit=1700, acks_late=True)
def forecast_recompute_nightly() -> int:
    """Every night: each programme's totals, in case anything was missed (a broker outage
    when inputs changed). Stores nothing where nothing changed."""
    from .forecasting import forecast_recompute as recompute

    with scopes_disabled():
        programmes = list(Programme.objects.order_by("pk"))
    for programme in programmes:
        with scope(programme=programme):
            recompute(programme=programme, trigger="nightly")
    return len(programmes)


@shared_task(base=ProgrammeTask, bind=True, time_limit=900, soft_time_limit=840)
def programme_report_task(self, *, programme_id: int, report_id: int) -> int | None:
    """Write one annual report's PDF (asked for by staff)."""
    from .models import ProgrammeReport
    from .services import report_build

    report = ProgrammeReport.objects.filter(programme_id=programme_id, pk=report_id).first()
    if report is None:
        return None  # deleted after it was queued
    return report_build(report=report).pk
