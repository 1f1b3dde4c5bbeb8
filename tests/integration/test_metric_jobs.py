"""The metrics jobs on a real Celery worker through Redis: staff ask for the figures and the
annual report, the worker computes and writes them, and two runs at once leave one set."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import Fellow
from metrics.models import (
    FundingRecord,
    MetricRun,
    MetricSnapshot,
    OutcomeStatus,
    ProgrammeReport,
)
from metrics.services import metric_run_request, metric_snapshots_compute, report_request

from .conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _funding(programme, user, amount):
    with scopes_disabled():
        fellow = Fellow.objects.get(programme=programme, user=user)
    with scope(programme=programme):
        FundingRecord.objects.create(
            programme=programme,
            fellow=fellow,
            status=OutcomeStatus.VERIFIED,
            kind="grant",
            amount=Decimal(amount),
            source="SBRI",
            received_on=timezone.localdate() - timedelta(days=3),
            evidence="letter",
        )
    return fellow


def test_figures_and_the_report_are_made_by_a_real_worker(
    celery_worker_process, programme_a, staff_a, fellow_a
):
    fellow = _funding(programme_a, fellow_a, "4321")
    with scope(programme=programme_a):
        run = metric_run_request(programme=programme_a, actor=staff_a)

    def finished(model, pk):
        def check():
            with scopes_disabled():
                return model.objects.get(pk=pk).is_finished

        return check

    wait_for(finished(MetricRun, run.pk), timeout=90, message="the worker to compute the figures")
    with scopes_disabled():
        run.refresh_from_db()
        assert run.status == MetricRun.Status.DONE, run.problem
        funding = MetricSnapshot.objects.get(
            programme=programme_a, key="funding_raised", cohort__isnull=True
        )
        assert funding.value == Decimal("4321") and funding.run_id == run.pk

    with scope(programme=programme_a):
        report = report_request(programme=programme_a, cohort=fellow.cohort, actor=staff_a)
    wait_for(finished(ProgrammeReport, report.pk), timeout=120, message="the report")
    with scopes_disabled():
        report.refresh_from_db()
        assert report.status == ProgrammeReport.Status.DONE, report.problem
        assert bytes(report.pdf).startswith(b"%PDF-")


@pytest.mark.postgresql
def test_two_runs_at_once_leave_one_set_of_figures(programme_a, fellow_a):
    _funding(programme_a, fellow_a, "1000")
    errors = []

    def compute():
        try:
            with scope(programme=programme_a):
                metric_snapshots_compute(programme=programme_a)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=compute) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with scopes_disabled():
        runs = MetricRun.objects.filter(programme=programme_a)
        assert [r.status for r in runs] == ["done", "done"]
        keys = list(
            MetricSnapshot.objects.filter(programme=programme_a).values_list(
                "key", "cohort_id", "period_start"
            )
        )
        assert len(keys) == len(set(keys))
        assert MetricSnapshot.objects.filter(
            programme=programme_a, key="funding_raised", cohort__isnull=True
        ).get().value == Decimal("1000")
