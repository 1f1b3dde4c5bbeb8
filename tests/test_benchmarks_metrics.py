"""Guards the metrics benchmark from rotting: the synthetic programme still builds against the
models as they are, the job still computes it, and the hand-written SQL the benchmark compares
the job with still gives the same figures (a ratio between two different computations would
mean nothing). Small sizes, so it runs in a second or two."""

from datetime import date

import pytest
from django_scopes import scope, scopes_disabled

from benchmarks.metrics import differences, snapshot_figures, sql_figures
from benchmarks.synthetic import build
from metrics.definitions import METRICS
from metrics.models import MetricSnapshot
from metrics.services import metric_snapshots_compute

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 1)


@pytest.fixture
def built():
    return build(fellows=60, years=2, second_fellows=12, today=TODAY, verbose=False)


def _compute(programme):
    with scope(programme=programme):
        run = metric_snapshots_compute(programme=programme, today=TODAY)
    assert run.status == "done", run.problem
    return run


def test_the_synthetic_programme_builds_every_record_kind_and_the_job_computes_it(built):
    assert built.counts["fellows"] == 60 and built.second_counts["fellows"] == 12
    for kind in ["meetings", "milestones", "objectives", "registrations", "connections"]:
        assert built.counts[kind] > 0, kind
    assert built.counts["signed meetings"] > built.counts["meetings"] / 2
    run = _compute(built.programme)
    with scopes_disabled():
        keys = set(
            MetricSnapshot.objects.filter(programme=built.programme).values_list("key", flat=True)
        )
    assert run.snapshot_count > 0 and "meetings_on_time" in keys and "edi_gender" in keys


@pytest.mark.postgresql
def test_the_hand_written_sql_gives_the_figures_the_job_stored(built):
    for programme in (built.programme, built.second):
        _compute(programme)
        with scopes_disabled():
            assert differences(sql_figures(programme, TODAY), snapshot_figures(programme)) == []


def test_the_rows_behind_meetings_on_time_are_the_figure(built):
    """The drill-down lists exactly the slots the figure counts (meeting_slots feeds both)."""
    programme = built.programme
    _compute(programme)
    metric = METRICS["meetings_on_time"]
    with scopes_disabled():
        snapshot = (
            MetricSnapshot.objects.filter(programme=programme, key=metric.key, cohort__isnull=False)
            .select_related("cohort")
            .order_by("-denominator")
            .first()
        )
    with scope(programme=programme):
        rows, columns = metric.rows(
            programme, snapshot.cohort, snapshot.period_start, snapshot.period_end, TODAY
        )
        cells = [[column.value(row) for column in columns] for row in rows]
    assert len(rows) == snapshot.denominator > 0
    assert sum(row["on_time"] for row in rows) == snapshot.numerator
    assert {cell[5] for cell in cells} <= {"Yes", "No"}
