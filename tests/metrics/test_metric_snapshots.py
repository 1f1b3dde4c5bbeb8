"""Metric snapshots computed by Celery (issue #7, items 3 and 4): nightly and on demand,
idempotent, with progress; the staff dashboard, a metric's page, the rows behind a figure and
the targets, each reading snapshots in a fixed number of queries."""

from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import AuditEvent, Cohort, Fellow
from cohort.tasking import job_lock_name
from metrics.definitions import METRICS
from metrics.models import FundingRecord, MetricRun, MetricSnapshot, MetricTarget, OutcomeStatus
from metrics.selectors import Year, prospective
from metrics.services import metric_snapshots_compute

from ..conftest import another_database_session
from ..factories import CohortFactory, FellowFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fellow(programme_a, fellow_a):
    with scopes_disabled():
        return Fellow.objects.select_related("programme", "cohort").get(user=fellow_a)


def _funding(fellow, amount, day, status=OutcomeStatus.VERIFIED):
    with scope(programme=fellow.programme):
        return FundingRecord.objects.create(
            programme=fellow.programme,
            fellow=fellow,
            status=status,
            kind="grant",
            amount=Decimal(amount),
            source="SBRI",
            received_on=day,
            evidence="letter",
        )


def _compute(programme, **kwargs):
    with scope(programme=programme):
        return metric_snapshots_compute(programme=programme, **kwargs)


def _url(name, programme, **kwargs):
    return reverse(f"metrics:{name}", kwargs={"programme_slug": programme.slug, **kwargs})


def test_the_job_writes_snapshots_and_running_it_again_replaces_them(programme_a, fellow):
    day = timezone.localdate() - timedelta(days=40)
    _funding(fellow, "1000", day)
    _funding(fellow, "9999", day, status=OutcomeStatus.REPORTED)
    run = _compute(programme_a)
    assert run.status == MetricRun.Status.DONE and run.percent_done == 100
    with scopes_disabled():
        first = list(
            MetricSnapshot.objects.filter(programme=programme_a).values_list(
                "key", "cohort_id", "period_start", "value"
            )
        )
        funding = MetricSnapshot.objects.get(
            programme=programme_a, key="funding_raised", cohort__isnull=True
        )
    assert funding.value == Decimal("1000") and funding.period_start == day.replace(day=1)
    assert funding.run_id == run.pk and run.snapshot_count == len(first)

    second = _compute(programme_a)
    with scopes_disabled():
        again = list(
            MetricSnapshot.objects.filter(programme=programme_a).values_list(
                "key", "cohort_id", "period_start", "value"
            )
        )
        assert MetricSnapshot.objects.filter(run=second).count() == len(again)
    assert sorted(again, key=str) == sorted(first, key=str)


def test_a_failed_job_keeps_the_old_figures_and_says_why(programme_a, fellow, monkeypatch):
    _funding(fellow, "1000", timezone.localdate() - timedelta(days=3))
    _compute(programme_a)

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("metrics.services.compute_metric", broken)
    run = _compute(programme_a)
    assert run.status == MetricRun.Status.FAILED and "database went away" in run.problem
    with scopes_disabled():
        assert MetricSnapshot.objects.filter(programme=programme_a, key="funding_raised").exists()


@contextmanager
def _a_live_worker_has(run):
    """Another live worker is computing the run: on PostgreSQL its session holds the run's job
    lock (cohort.tasking.job_lock); elsewhere its claim is recent (the lease)."""
    if connection.vendor != "postgresql":
        yield
        return
    other = another_database_session()
    try:
        name = job_lock_name("metrics.run", run.pk)
        other.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [name])
        yield
    finally:
        other.close()


def _running_run(programme):
    with scope(programme=programme):
        return MetricRun.objects.create(
            programme=programme,
            trigger=MetricRun.Trigger.ON_DEMAND,
            status=MetricRun.Status.RUNNING,
            started_at=timezone.now(),
        )


def test_a_claimed_run_is_not_computed_twice(programme_a):
    run = _running_run(programme_a)
    with _a_live_worker_has(run):
        assert _compute(programme_a, run=run).status == MetricRun.Status.RUNNING


@pytest.mark.postgresql
def test_a_run_left_running_by_a_dead_worker_is_computed_at_once(programme_a):
    """Nobody holds its lock, so the worker that claimed it has died (the lock goes with the
    session): the redelivered task computes it without waiting for the lease to run out."""
    run = _running_run(programme_a)
    assert _compute(programme_a, run=run).status == MetricRun.Status.DONE


def test_staff_ask_for_figures_and_see_the_progress_page(
    client, programme_a, staff_a, fellow, django_capture_on_commit_callbacks
):
    _funding(fellow, "2500", timezone.localdate() - timedelta(days=3))
    client.force_login(staff_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("run_create", programme_a))
    with scopes_disabled():
        run = MetricRun.objects.get(programme=programme_a)
        assert AuditEvent.objects.filter(action="metrics.run_requested").count() == 1
    assert response.status_code == 302 and str(run.uuid) in response["Location"]
    # Tasks run in-process here: the run is done by the time the page is read.
    page = client.get(response["Location"])
    assert page.status_code == 200 and "Done" in page.content.decode()
    run.refresh_from_db()
    assert run.status == MetricRun.Status.DONE


def test_asking_twice_while_a_run_is_under_way_returns_the_same_run(client, programme_a, staff_a):
    with scope(programme=programme_a):
        pending = MetricRun.objects.create(
            programme=programme_a,
            trigger=MetricRun.Trigger.ON_DEMAND,
            status=MetricRun.Status.RUNNING,
            started_at=timezone.now(),
            steps_total=10,
            steps_done=4,
        )
    client.force_login(staff_a)
    response = client.post(_url("run_create", programme_a))
    assert str(pending.uuid) in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert 'value="40"' in page and 'http-equiv="refresh"' in page
    with scopes_disabled():
        assert MetricRun.objects.filter(programme=programme_a).count() == 1


def test_the_nightly_task_computes_every_programme(programme_a, programme_b, fellow):
    from metrics.tasks import metric_snapshots_nightly

    _funding(fellow, "700", timezone.localdate() - timedelta(days=2))
    assert metric_snapshots_nightly.delay().get() == 2
    with scopes_disabled():
        assert MetricRun.objects.filter(status="done").count() == 2
        assert MetricSnapshot.objects.filter(programme=programme_a).exists()
        assert not MetricSnapshot.objects.filter(programme=programme_b).exists()


def test_dashboard_shows_every_metric_with_its_definition_chart_and_table(
    client, programme_a, staff_a, fellow
):
    _funding(fellow, "123456", timezone.localdate() - timedelta(days=3))
    _compute(programme_a)
    client.force_login(staff_a)
    page = client.get(_url("dashboard", programme_a)).content.decode()
    for metric in METRICS.values():
        assert metric.label in page, metric.key
    assert "£123,456" in page
    assert page.count('role="img"') >= 11  # a chart per metric counted by month
    assert page.count("The figures as a table") >= 11


def _dashboard_queries(client, programme):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(_url("dashboard", programme)).status_code == 200
    return len(queries)


def test_the_dashboard_reads_a_fixed_number_of_queries_whatever_the_data(
    client, programme_a, staff_a, fellow
):
    client.force_login(staff_a)
    _funding(fellow, "1000", timezone.localdate() - timedelta(days=3))
    _compute(programme_a)
    small = _dashboard_queries(client, programme_a)
    for months_back in range(1, 30):
        other = FellowFactory(
            programme=programme_a,
            cohort=CohortFactory(
                programme=programme_a,
                starts_on=date(2020, 1, 1) + timedelta(days=months_back * 30),
                ends_on=date(2021, 1, 1) + timedelta(days=months_back * 30),
            ),
        )
        _funding(other, "500", timezone.localdate() - timedelta(days=30 * months_back))
    _compute(programme_a)
    assert _dashboard_queries(client, programme_a) == small


def test_only_staff_see_the_metrics_pages(client, programme_a, fellow_a, mentor_a, staff_b):
    for user in (fellow_a, mentor_a, staff_b):
        client.force_login(user)
        for name, kwargs in [
            ("dashboard", {}),
            ("targets", {}),
            ("metric", {"key": "funding_raised"}),
            ("metric_rows", {"key": "funding_raised"}),
        ]:
            assert client.get(_url(name, programme_a, **kwargs)).status_code in (403, 404)
        assert client.post(_url("run_create", programme_a)).status_code in (403, 404)
    with scopes_disabled():
        assert not MetricRun.objects.exists()


def test_a_figure_drills_down_to_the_rows_behind_it(client, programme_a, staff_a, fellow):
    day = timezone.localdate() - timedelta(days=3)
    _funding(fellow, "4200", day)
    _funding(fellow, "999", day, status=OutcomeStatus.REPORTED)
    _compute(programme_a)
    client.force_login(staff_a)
    detail = client.get(_url("metric", programme_a, key="funding_raised")).content.decode()
    rows_url = _url("metric_rows", programme_a, key="funding_raised")
    assert rows_url in detail
    # The quarter's figure links to exactly that quarter's rows.
    q_start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    q_end = (q_start + timedelta(days=100)).replace(day=1) - timedelta(days=1)
    assert f'href="{rows_url}?start={q_start}&amp;end={q_end}">£4,200' in detail
    start = day.replace(day=1)
    page = client.get(rows_url, {"start": start.isoformat(), "cohort": fellow.cohort.uuid})
    body = page.content.decode()
    assert page.status_code == 200 and "£4,200" in body and "999" not in body
    assert "1 row" in body


def test_bad_drill_down_input_is_a_clear_400_and_edi_is_not_traceable(
    client, programme_a, staff_a, programme_b
):
    client.force_login(staff_a)
    rows_url = _url("metric_rows", programme_a, key="funding_raised")
    bad = client.get(rows_url, {"start": "2026-13-40"})
    assert bad.status_code == 400 and "Enter a valid date" in bad.content.decode()
    backwards = client.get(rows_url, {"start": "2026-05-01", "end": "2026-04-01"})
    assert backwards.status_code == 400 and "end on or after" in backwards.content.decode()
    with scopes_disabled():
        other = CohortFactory(programme=programme_b)
    assert client.get(rows_url, {"cohort": other.uuid}).status_code == 404
    assert client.get(_url("metric_rows", programme_a, key="edi_gender")).status_code == 404
    assert client.get(_url("metric", programme_a, key="nonsense")).status_code == 404


def test_every_metric_page_renders_for_an_empty_programme(client, programme_a, staff_a):
    client.force_login(staff_a)
    assert client.get(_url("dashboard", programme_a)).status_code == 200
    for key in METRICS:
        assert client.get(_url("metric", programme_a, key=key)).status_code == 200, key


def test_targets_are_saved_audited_and_bad_ones_refused_at_the_field(
    client, programme_a, staff_a, fellow
):
    client.force_login(staff_a)
    cohort = fellow.cohort
    url = _url("targets", programme_a)
    bad = client.post(
        url,
        {
            "year": cohort.uuid,
            "events_attended": "-3",
            "meetings_on_time": "120",
            "funding_raised": "250000",
        },
    )
    body = bad.content.decode()
    # Refused (400), each error naming its field, as the error summary lists them together.
    assert bad.status_code == 400
    assert bad.context["form"].errors == {
        "events_attended": ["Events attended: a target cannot be below 0."],
        "meetings_on_time": ["Meetings held on time: a target cannot be above 100."],
    }
    assert 'href="#id_events_attended"' in body
    assert 'value="250000"' in body  # what was typed is kept
    with scopes_disabled():
        assert not MetricTarget.objects.filter(cohort=cohort).exists()
    good = client.post(
        url, {"year": cohort.uuid, "events_attended": "300", "meetings_on_time": "90"}
    )
    assert good.status_code == 302
    with scopes_disabled():
        targets = dict(MetricTarget.objects.filter(cohort=cohort).values_list("key", "value"))
        assert targets == {"events_attended": Decimal("300"), "meetings_on_time": Decimal("90")}
        assert AuditEvent.objects.filter(action="metrics.target_set").count() == 2
    client.post(url, {"year": cohort.uuid, "events_attended": "", "meetings_on_time": "90"})
    with scopes_disabled():
        assert list(MetricTarget.objects.values_list("key", flat=True)) == ["meetings_on_time"]


def test_the_year_so_far_is_projected_to_the_year_end_against_its_target(programme_a):
    with scopes_disabled():
        cohort = Cohort.objects.create(
            programme=programme_a,
            name="Y",
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
        )
    year = Year(cohort, cohort.starts_on, cohort.ends_on)
    funding = METRICS["funding_raised"]
    months = {date(2026, 1, 1): (Decimal(100), None, {}), date(2026, 3, 1): (Decimal(81), None, {})}
    # 1 April: 90 days of 365 gone, 181 raised → 181 ÷ (90/365) = 734.06 by the year's end.
    result = prospective(funding, months, year, date(2026, 3, 31), target=Decimal(700))
    assert result["projected"] == Decimal("734.06") and result["status"] == "on_track"
    behind = prospective(funding, months, year, date(2026, 3, 31), target=Decimal(800))
    assert behind["status"] == "behind"
    lag = METRICS["signoff_lag"]  # lower is better, and a mean is projected as it stands
    days = {date(2026, 2, 1): (Decimal(30), Decimal(3), {})}
    result = prospective(lag, days, year, date(2026, 3, 31), target=Decimal(7))
    assert result["projected"] == Decimal("10.00") and result["status"] == "behind"
    over = prospective(funding, months, year, date(2027, 2, 1), target=Decimal(100))
    assert over["over"] and over["status"] == "met" and over["projected"] is None


# --- a person's own figures -------------------------------------------------------------------


def test_the_fellow_home_shows_her_own_figures_beside_her_cohort(client, programme_a, fellow):
    other = FellowFactory(programme=programme_a, cohort=fellow.cohort)
    day = timezone.localdate() - timedelta(days=5)
    _funding(fellow, "1500", day)
    _funding(fellow, "800", day, status=OutcomeStatus.REPORTED)  # not verified: not counted
    _funding(other, "3000", day)
    _compute(programme_a)
    client.force_login(fellow.user)
    page = client.get(reverse("cohort:home", kwargs={"programme_slug": programme_a.slug}))
    body = page.content.decode()
    assert "Your figures" in body
    mine = body.index("Funding raised", body.index("Your figures"))
    assert "£1,500" in body[mine : mine + 400] and "£4,500" in body[mine : mine + 400]


def _mentor_home_queries(client, mentor_user, programme):
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("cohort:home", kwargs={"programme_slug": programme.slug}))
    assert page.status_code == 200

    return len(queries), page.content.decode()


def test_a_mentor_sees_each_mentee_figures_in_a_fixed_number_of_queries(
    client, programme_a, mentor_a
):
    from cohort.models import Mentor

    from ..factories import MentorshipFactory

    with scopes_disabled():
        mentor = Mentor.objects.get(programme=programme_a, user=mentor_a)
    first = MentorshipFactory(fellow=FellowFactory(programme=programme_a), mentor=mentor)
    _funding(first.fellow, "2000", timezone.localdate() - timedelta(days=2))
    client.force_login(mentor_a)
    one, body = _mentor_home_queries(client, mentor_a, programme_a)
    assert "Your mentees' figures" in body and "£2,000" in body
    for _ in range(4):
        MentorshipFactory(fellow=FellowFactory(programme=programme_a), mentor=mentor)
    five, body = _mentor_home_queries(client, mentor_a, programme_a)
    assert body.count('<th scope="row" class="nhsuk-table__cell">') >= 5
    assert five == one


# --- CSV exports ------------------------------------------------------------------------------


def _csv(response):
    import csv
    import io

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_each_metric_and_every_metric_export_as_csv(client, programme_a, staff_a, fellow):
    with scopes_disabled():
        Cohort.objects.filter(pk=fellow.cohort_id).update(name="=HYPERLINK(1)")
    day = timezone.localdate() - timedelta(days=3)
    _funding(fellow, "1234.50", day)
    _compute(programme_a)
    client.force_login(staff_a)
    rows = _csv(client.get(_url("metric_export", programme_a, key="funding_raised")))
    assert rows[0][:4] == ["Cohort", "From", "To", "Funding raised"]
    month = day.replace(day=1).isoformat()
    assert ["All cohorts", month, "1234.50"] in [[r[0], r[1], r[3]] for r in rows[1:]]
    assert any(r[0] == "'=HYPERLINK(1)" for r in rows[1:])  # never a formula
    assert "Grant" in rows[0]
    every = _csv(client.get(_url("export", programme_a)))
    assert every[0][0] == "Metric"
    assert {"funding_raised", "returners", "oope_ltft"} <= {r[1] for r in every[1:]}
    assert not any(r[1].startswith("edi_") for r in every[1:])


def test_the_edi_export_is_suppressed(client, programme_a, staff_a):
    from cohort.models import EqualityData

    with scopes_disabled():
        cohort = CohortFactory(programme=programme_a, name="Small")
        for i in range(12):
            fellow = FellowFactory(programme=programme_a, cohort=cohort)
            EqualityData.objects.create(
                programme=programme_a, fellow=fellow, gender="woman" if i < 9 else "man"
            )
    _compute(programme_a)
    client.force_login(staff_a)
    rows = _csv(client.get(_url("metric_export", programme_a, key="edi_gender")))
    small = next(r for r in rows if r[0] == "Small")
    header = rows[0]
    assert small[header.index("Man")] == "fewer than 5"
    assert small[header.index("Woman")] == "fewer than 5"  # else 12 - 9 gives the man away
    assert small[header.index("Total")] == "12"
