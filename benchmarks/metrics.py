"""Benchmark: the metric snapshot job against hand-written SQL, and the dashboards (issue #7).

    uv run python -m benchmarks.metrics [--fellows N] [--repeat R]      # or: make bench

Issue #7: "for a programme of 13,000 fellows with five years of meetings, events and outcomes,
the full snapshot job finishes within 2x the time of the equivalent hand-written SQL aggregates
on the same database; dashboards read snapshots and run a fixed number of queries whatever the
data size."

Builds the synthetic programme of `benchmarks.synthetic` (and its small second programme)
inside a transaction that is rolled back at the end, so nothing is left behind. Then:

* times `metric_snapshots_compute` for the big programme (median of R runs) and its peak
  Python memory (tracemalloc, one more run);
* times hand-written SQL that computes the same figures (every period metric grouped by cohort
  and month, every cohort metric by cohort) and checks, figure by figure, that they equal the
  snapshots the job wrote: a ratio between two different computations would mean nothing;
* times the staff dashboard and one metric's page with the Django test client, for the big
  programme and the small one, with the number of queries of each.

The SQL is written for PostgreSQL (time zones, DATE_TRUNC, FILTER, DISTINCT ON). On SQLite the
job and the pages are still measured and the SQL comparison is left out.

Results go to benchmarks/results/metrics-<database>.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

from .synthetic import setup_django

TARGET_RATIO = 2.0

# --- the hand-written SQL -------------------------------------------------------------------
# Each query returns rows (cohort id or NULL, period start, part or NULL, numerator,
# denominator). %(p)s is the programme, %(today)s the day, %(tz)s the programme's time zone
# (settings.TIME_ZONE, as Django's TruncMonth and __date use).

# A person's cohort in the programme: their latest, if they came back for another year.
FELLOW_COHORT = """
    fc AS (
        SELECT DISTINCT ON (f.user_id) f.user_id, f.cohort_id
        FROM cohort_fellow f JOIN cohort_cohort c ON c.id = f.cohort_id
        WHERE f.programme_id = %(p)s
        ORDER BY f.user_id, c.starts_on DESC
    )"""


def _month(column: str) -> str:
    return f"DATE_TRUNC('month', {column})::date"


def _local(column: str) -> str:
    return f"({column} AT TIME ZONE %(tz)s)"


def _outcome_sql(table: str, date_column: str, amount: str | None, kind: bool) -> str:
    return f"""
        SELECT f.cohort_id, {_month("o." + date_column)}, {"o.kind" if kind else "NULL"},
               {f"SUM(o.{amount})" if amount else "COUNT(*)"}, 0
        FROM {table} o JOIN cohort_fellow f ON f.id = o.fellow_id
        WHERE o.programme_id = %(p)s AND o.status = 'verified'
        GROUP BY 1, 2, 3"""


def _half_even(x: str) -> str:
    """Python's round() (to even on a half), which Cohort.meeting_windows uses."""
    return f"(CASE WHEN {x} - FLOOR({x}) = 0.5 THEN 2 * ROUND({x} / 2) ELSE ROUND({x}) END)::int"


PERIOD_SQL = {
    "events_attended": f"""
        WITH {FELLOW_COHORT}
        SELECT fc.cohort_id, {_month(_local("e.starts_at"))}, e.kind,
               COUNT(*) FILTER (WHERE r.status = 'attended'), COUNT(*)
        FROM events_registration r
        JOIN events_event e ON e.id = r.event_id
        LEFT JOIN fc ON fc.user_id = r.user_id
        WHERE r.programme_id = %(p)s
          AND r.status IN ('registered', 'attended', 'no_show')
          AND {_local("e.starts_at")}::date <= %(today)s
          AND e.status <> 'cancelled'
        GROUP BY 1, 2, 3""",
    "new_connections": f"""
        WITH {FELLOW_COHORT}
        SELECT COALESCE(a.cohort_id, b.cohort_id), {_month(_local("c.responded_at"))}, NULL,
               COUNT(*), 0
        FROM mentoring_connection c
        LEFT JOIN fc a ON a.user_id = c.requester_id
        LEFT JOIN fc b ON b.user_id = c.addressee_id
        WHERE c.programme_id = %(p)s AND c.status = 'accepted' AND c.responded_at IS NOT NULL
        GROUP BY 1, 2""",
    "partnerships": _outcome_sql("metrics_partnershiprecord", "started_on", None, True),
    "funding_raised": _outcome_sql("metrics_fundingrecord", "received_on", "amount", True),
    "companies_formed": _outcome_sql("metrics_companyrecord", "incorporated_on", None, False),
    "jobs_created": _outcome_sql("metrics_jobsrecord", "counted_on", "jobs", False),
    "patients_reached": _outcome_sql("metrics_patientreachrecord", "period_end", "patients", False),
    "pdp_fulfilment": f"""
        SELECT f.cohort_id, {_month("o.target_date")}, COALESCE(d.name, 'No domain'),
               COUNT(*) FILTER (WHERE o.status = 'achieved'), COUNT(*)
        FROM pdp_objective o
        JOIN pdp_pdp p ON p.id = o.pdp_id
        JOIN cohort_fellow f ON f.id = p.fellow_id
        LEFT JOIN pdp_competencydomain d ON d.id = o.domain_id
        WHERE o.programme_id = %(p)s AND o.target_date <= %(today)s AND o.status <> 'dropped'
        GROUP BY 1, 2, 3""",
    # The windows are derived from the cohort's dates as Cohort.meeting_windows does, unless
    # staff set them (MeetingWindow); a meeting is due once its window has closed.
    "meetings_on_time": f"""
        WITH spans AS (
            SELECT c.id AS cohort_id, n, c.starts_on, c.ends_on,
                   (c.ends_on - c.starts_on + 1)::numeric * (n - 1) / pr.meetings_per_year AS a,
                   (c.ends_on - c.starts_on + 1)::numeric * n / pr.meetings_per_year AS b
            FROM cohort_cohort c
            JOIN cohort_programme pr ON pr.id = c.programme_id
            CROSS JOIN LATERAL generate_series(1, pr.meetings_per_year) AS n
            WHERE c.programme_id = %(p)s
        ),
        w AS (
            SELECT s.cohort_id, s.n,
                   COALESCE(mw.opens_on, s.starts_on + {_half_even("s.a")}) AS opens,
                   COALESCE(mw.closes_on, LEAST(
                       s.ends_on,
                       s.starts_on + {_half_even("s.b")} - 1,
                       CASE WHEN s.n = 1 THEN s.starts_on + 30 END
                   )) AS closes
            FROM spans s
            LEFT JOIN mentoring_meetingwindow mw
              ON mw.cohort_id = s.cohort_id AND mw.number = s.n
        )
        SELECT m.cohort_id, {_month("w.closes")}, NULL,
               COUNT(*) FILTER (WHERE mt.held_on BETWEEN w.opens AND w.closes), COUNT(*)
        FROM mentoring_mentorship m
        JOIN w ON w.cohort_id = m.cohort_id
        LEFT JOIN mentoring_meeting mt
          ON mt.mentorship_id = m.id AND mt.number = w.n AND mt.held_on IS NOT NULL
         AND mt.status IN ('submitted', 'returned', 'signed')
        WHERE m.programme_id = %(p)s AND w.closes < %(today)s AND m.started_on <= w.closes
          AND (m.ended_on IS NULL OR m.ended_on >= w.closes)
        GROUP BY 1, 2""",
    "signoff_lag": f"""
        SELECT ms.cohort_id, {_month(_local("mt.signed_at"))}, NULL,
               SUM({_local("mt.signed_at")}::date - mt.held_on), COUNT(*)
        FROM mentoring_meeting mt JOIN mentoring_mentorship ms ON ms.id = mt.mentorship_id
        WHERE mt.programme_id = %(p)s AND mt.status = 'signed'
          AND mt.signed_at IS NOT NULL AND mt.held_on IS NOT NULL
        GROUP BY 1, 2""",
    "milestone_achievement": f"""
        SELECT ms.cohort_id, {_month("COALESCE(mi.current_due_on, mi.due_on)")}, mi.status,
               COUNT(*) FILTER (WHERE mi.status = 'achieved'), COUNT(*)
        FROM mentoring_milestone mi JOIN mentoring_mentorship ms ON ms.id = mi.mentorship_id
        WHERE mi.programme_id = %(p)s AND mi.status IN ('achieved', 'partly', 'missed')
        GROUP BY 1, 2, 3""",
}

FELLOWS_BY_COHORT = """
    FROM cohort_fellow f JOIN cohort_cohort c ON c.id = f.cohort_id
    WHERE f.programme_id = %(p)s"""

COHORT_SQL = {
    "returners": f"""
        SELECT f.cohort_id, c.starts_on, NULL, COUNT(*) FILTER (WHERE f.is_returner), COUNT(*)
        {FELLOWS_BY_COHORT}
        GROUP BY 1, 2""",
    "oope_ltft": f"""
        SELECT f.cohort_id, c.starts_on, f.training_arrangement,
               COUNT(*) FILTER (WHERE f.training_arrangement IN ('oope', 'ltft')), COUNT(*)
        {FELLOWS_BY_COHORT}
        GROUP BY 1, 2, 3""",
    **{
        f"edi_{name}": f"""
        SELECT f.cohort_id, c.starts_on, COALESCE(NULLIF(e.{column}, ''), 'not_given'),
               COUNT(*), COUNT(*)
        FROM cohort_fellow f JOIN cohort_cohort c ON c.id = f.cohort_id
        LEFT JOIN cohort_equalitydata e ON e.fellow_id = f.id AND e.programme_id = %(p)s
        WHERE f.programme_id = %(p)s
        GROUP BY 1, 2, 3"""
        for name, column in [
            ("gender", "gender"),
            ("ethnicity", "ethnic_group"),
            ("disability", "disability"),
            ("age", "age_band"),
        ]
    },
}

STAGES = ["expressed", "applied", "shortlisted", "interviewed", "appointed"]
FUNNEL_SQL = """
    SELECT c.id, c.starts_on, COUNT(a.id), COUNT(a.submitted_at), COUNT(a.shortlisted_at),
           COUNT(a.interviewed_at), COUNT(a.id) FILTER (WHERE a.status = 'appointed')
    FROM cohort_cohort c
    JOIN cohort_recruitmentcall rc ON rc.cohort_id = c.id
    LEFT JOIN cohort_application a ON a.call_id = rc.id AND a.programme_id = %(p)s
    WHERE c.programme_id = %(p)s
    GROUP BY 1, 2"""


def _fold(cells: dict, family: str, cohort_id, start, part, numerator, denominator, parts=None):
    """Add one row to its cohort's figure and to the programme's (cohort None)."""
    for who in {cohort_id, None}:
        key = (who, start if who is not None or family == "period" else None)
        cell = cells.setdefault(key, [Decimal(0), Decimal(0), {}])
        cell[0] += Decimal(numerator or 0)
        cell[1] += Decimal(denominator or 0)
        for name, (n, d) in (parts or ({part: (numerator, denominator)} if part else {})).items():
            sums = cell[2].setdefault(name, [Decimal(0), Decimal(0)])
            sums[0] += Decimal(n or 0)
            sums[1] += Decimal(d or 0)


def sql_figures(programme, today: date, timings: dict | None = None) -> dict:
    """Every metric's figures by hand-written SQL: {key: {(cohort id, start): [n, d, parts]}}."""
    from django.conf import settings
    from django.db import connection

    params = {"p": programme.pk, "today": today, "tz": settings.TIME_ZONE}
    figures: dict[str, dict] = {}
    with connection.cursor() as cursor:
        for family, queries in (("period", PERIOD_SQL), ("cohort", COHORT_SQL)):
            for key, sql in queries.items():
                started = time.perf_counter()
                cursor.execute(sql, params)
                cells: dict = {}
                for row in cursor.fetchall():
                    _fold(cells, family, *row)
                figures[key] = cells
                if timings is not None:
                    timings[key] = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute(FUNNEL_SQL, params)
        cells = {}
        for cohort_id, start, *counts in cursor.fetchall():
            stages = {stage: (count, 0) for stage, count in zip(STAGES, counts, strict=True)}
            _fold(cells, "cohort", cohort_id, start, None, counts[-1], counts[0], stages)
        figures["recruitment"] = cells
        if timings is not None:
            timings["recruitment"] = time.perf_counter() - started
    return figures


def snapshot_figures(programme) -> dict:
    """The figures the job stored, in the shape of sql_figures."""
    from metrics.definitions import METRICS
    from metrics.models import MetricSnapshot

    figures: dict[str, dict] = defaultdict(dict)
    rows = MetricSnapshot.objects.filter(programme=programme).values_list(
        "key", "cohort_id", "period_start", "numerator", "denominator", "breakdown"
    )
    for key, cohort_id, start, numerator, denominator, breakdown in rows:
        if METRICS[key].family != "period" and cohort_id is None:
            start = None
        figures[key][(cohort_id, start)] = [numerator, denominator or Decimal(0), breakdown]
    return figures


def differences(sql: dict, stored: dict) -> list[str]:
    """Every figure where the SQL and the snapshots disagree (empty when they are the same)."""
    problems = []
    for key in sorted(set(sql) | set(stored)):
        ours, theirs = sql.get(key, {}), stored.get(key, {})
        for cell in sorted(set(ours) | set(theirs), key=str):
            if cell not in ours or cell not in theirs:
                where = "SQL only" if cell in ours else "snapshots only"
                problems.append(f"{key} {cell}: {where}")
                continue
            (n1, d1, p1), (n2, d2, p2) = ours[cell], theirs[cell]
            same_parts = {k: [float(n), float(d)] for k, (n, d) in p1.items()} == p2
            if n1 != n2 or d1 != d2 or not same_parts:
                problems.append(f"{key} {cell}: SQL {n1}/{d1} {p1} != job {n2}/{d2} {p2}")
    return problems


# --- measuring ----------------------------------------------------------------------------


def _analyze(connection) -> None:
    """Fresh bulk inserts have no planner statistics; a production database would have them
    (autovacuum), and the job and the SQL should both be planned with them. ANALYZE inside the
    transaction counts the rows it inserted."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def time_job(programme, today, repeat: int) -> tuple[list[float], object]:
    from django_scopes import scope

    from metrics.services import metric_snapshots_compute

    times, run = [], None
    with scope(programme=programme):
        for _ in range(repeat):
            started = time.perf_counter()
            run = metric_snapshots_compute(programme=programme, today=today)
            times.append(time.perf_counter() - started)
            assert run.status == "done", run.problem
    return times, run


def job_memory(programme, today) -> int:
    from django_scopes import scope

    from metrics.services import metric_snapshots_compute

    tracemalloc.start()
    with scope(programme=programme):
        metric_snapshots_compute(programme=programme, today=today)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def per_metric_job(programme, today) -> dict[str, float]:
    """Each metric's compute alone (the job's profile, without its writes)."""
    from django_scopes import scope

    from metrics.definitions import METRICS, compute_metric

    timings = {}
    with scope(programme=programme):
        for key, metric in METRICS.items():
            started = time.perf_counter()
            compute_metric(metric, programme, today)
            timings[key] = time.perf_counter() - started
    return timings


def timed_get(client, path: str) -> tuple[float, int, int]:
    """One GET of `path`, which must answer 200: (seconds, queries, bytes of the body)."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    # The capture keeps Django from clearing the query log at each request, and a full log
    # (9,000 queries) would count nothing: start each request with an empty one.
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(path)
        seconds = time.perf_counter() - started
    assert response.status_code == 200, (path, response.status_code)
    return seconds, len(captured), len(response.content)


def timing_summary(path: str, samples: list[tuple[float, int, int]]) -> dict:
    """p50 and p95 of timed_get samples, every query count seen, the last body's size."""
    times = sorted(seconds for seconds, _, _ in samples)
    return {
        "path": path,
        "p50": statistics.median(times),
        "p95": times[max(0, round(0.95 * len(times)) - 1)],
        "queries": sorted({queries for _, queries, _ in samples}),
        "bytes": samples[-1][2],
    }


def time_get(client, path: str, requests: int, warmup: int = 1) -> dict:
    """GET `path` `requests` times after `warmup` unmeasured requests: p50, p95, the query
    counts seen and the size of the response body (bytes, of the last response)."""
    for _ in range(warmup):  # warm: templates and caches
        timed_get(client, path)
    return timing_summary(path, [timed_get(client, path) for _ in range(requests)])


def time_pages(client, programme, requests: int) -> list[dict]:
    return [
        {"page": label, **time_get(client, path, requests)}
        for label, path in [
            ("dashboard", f"/p/{programme.slug}/metrics/"),
            ("metric page (events attended)", f"/p/{programme.slug}/metrics/events_attended/"),
        ]
    ]


def machine(connection) -> list[str]:
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break
    except OSError:
        pass
    database = connection.vendor
    if database == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
    else:
        import sqlite3

        database = f"SQLite {sqlite3.sqlite_version}"
    return [
        f"Machine: {cpu}, {os.cpu_count()} CPUs (shared){memory}; "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}; "
        f"{database} on the same host.",
    ]


class Rollback(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Metric snapshot job against hand-written SQL")
    parser.add_argument("--fellows", type=int, default=13_000)
    parser.add_argument("--small", type=int, default=200, help="fellows of the small programme")
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args(argv)

    setup_django()
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from metrics.definitions import METRICS
    from metrics.models import MetricSnapshot

    from .synthetic import build

    setup_test_environment()  # the test client's host, as in the tests
    postgresql = connection.vendor == "postgresql"
    today = timezone.localdate()
    out: dict = {}
    try:
        with transaction.atomic():
            built = build(fellows=args.fellows, years=args.years, second_fellows=args.small)
            out["built"] = built
            _analyze(connection)
            big, small = built.programme, built.second

            if postgresql:  # once to warm the cache, and to check the figures below
                sql_figures(big, today)
            out["job"], run = time_job(big, today, args.repeat)
            out["snapshots"] = run.snapshot_count
            out["memory"] = job_memory(big, today)
            out["job_by_metric"] = per_metric_job(big, today)
            if postgresql:
                sql_times, sql_by_metric = [], {}
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    figures = sql_figures(big, today, sql_by_metric)
                    sql_times.append(time.perf_counter() - started)
                out["sql"], out["sql_by_metric"] = sql_times, sql_by_metric
                with scopes_disabled():
                    problems = differences(figures, snapshot_figures(big))
                    out["compared"] = sum(len(cells) for cells in figures.values())
                assert not problems, "SQL and snapshots differ:\n" + "\n".join(problems[:20])
                # The small programme too: its figures hold only its own rows.
                time_job(small, today, 1)
                with scopes_disabled():
                    problems = differences(sql_figures(small, today), snapshot_figures(small))
                assert not problems, "small programme differs:\n" + "\n".join(problems[:20])
            else:
                time_job(small, today, 1)

            client = Client()
            out["pages"] = {}
            for name, programme, staff in [
                ("big", big, built.staff),
                ("small", small, built.second_staff),
            ]:
                client.force_login(staff)
                out["pages"][name] = time_pages(client, programme, args.requests)
            with scopes_disabled():
                out["small_snapshots"] = MetricSnapshot.objects.filter(programme=small).count()
            out["machine"] = machine(connection)
            raise Rollback
    except Rollback:
        pass

    report, met = render(out, args, postgresql, today, METRICS)
    engine = connection.vendor
    path = Path(__file__).resolve().parent / "results" / f"metrics-{engine}.md"
    path.write_text(report)
    print(report)
    print(f"Written to {path}")
    return 0 if met else 1


def render(out, args, postgresql, today, metrics) -> tuple[str, bool]:
    built = out["built"]
    job = statistics.median(out["job"])
    lines = [
        "# Metric snapshots benchmark",
        "",
        f"Run on {date.today():%-d %B %Y} (figures up to {today:%-d %B %Y}). "
        + " ".join(out["machine"]),
        "",
        f"Synthetic data (`benchmarks/synthetic.py`, seed 1): {args.fellows:,} fellows over "
        f"{args.years} yearly cohorts with five years of activity, and a second programme of "
        f"{args.small:,} fellows. Built with `bulk_create` in {built.seconds:.0f} s:",
        "",
        "| Rows | Big programme | Small programme |",
        "|---|---:|---:|",
        *[
            f"| {name} | {count:,} | {built.second_counts.get(name, 0):,} |"
            for name, count in built.counts.items()
            if name != "programmes"
        ],
        "",
        "The database was ANALYZEd after the build (a production database has statistics).",
        "",
        "## The job against hand-written SQL",
        "",
        "| What | Median (s) | Runs (s) |",
        "|---|---:|---|",
        f"| `metric_snapshots_compute` (every metric, and writing {out['snapshots']:,} "
        f"snapshots) | {job:.2f} | {', '.join(f'{t:.2f}' for t in out['job'])} |",
    ]
    met = True
    if postgresql:
        sql = statistics.median(out["sql"])
        ratio = job / sql
        met = ratio <= TARGET_RATIO
        lines += [
            f"| hand-written SQL, the same figures ({len(PERIOD_SQL) + len(COHORT_SQL) + 1} "
            f"queries) | {sql:.2f} | {', '.join(f'{t:.2f}' for t in out['sql'])} |",
            "",
            f"**Ratio job ÷ SQL: {ratio:.2f}** (target at most {TARGET_RATIO:.0f}: "
            f"{'met' if met else 'MISSED'}). The benchmark checked that the SQL gives the same "
            f"{out['compared']:,} figures (numerator, denominator and breakdown of every "
            "cohort-month and programme-month, and of every cohort metric) as the snapshots "
            "the job wrote, for the big programme and the small one.",
        ]
    lines += [
        "",
        f"Peak Python memory of one job run (tracemalloc): {out['memory'] / 1024 / 1024:.0f} MiB.",
        "",
        "### Where the time goes, metric by metric",
        "",
        "| Metric | Job: compute (s) | SQL (s) |" if postgresql else "| Metric | Job (s) |",
        "|---|---:|---:|" if postgresql else "|---|---:|",
    ]
    for key in metrics:
        row = f"| `{key}` | {out['job_by_metric'][key]:.3f} |"
        if postgresql:
            row += f" {out['sql_by_metric'][key]:.3f} |"
        lines.append(row)
    computing = sum(out["job_by_metric"].values())
    lines += [
        f"| all metrics | {computing:.2f} |"
        + (f" {sum(out['sql_by_metric'].values()):.2f} |" if postgresql else ""),
        "",
        "(Each metric's `compute_metric` timed alone in one more run, without the job's "
        "progress updates and snapshot writes; SQL times from the last SQL run, with fetching "
        "and folding the rows into figures.)",
        "",
        "## Dashboards read snapshots",
        "",
        f"Staff pages through the Django test client, {args.requests} requests each after one "
        "to warm up; server time includes rendering the SVG charts.",
        "",
        "| Page | Programme | p50 (ms) | p95 (ms) | Queries |",
        "|---|---|---:|---:|---:|",
    ]
    for name, size in [("big", args.fellows), ("small", args.small)]:
        for page in out["pages"][name]:
            lines.append(
                f"| {page['page']} | {size:,} fellows | {1000 * page['p50']:.0f} | "
                f"{1000 * page['p95']:.0f} | {', '.join(map(str, page['queries']))} |"
            )
    same = all(
        big["queries"] == small["queries"]
        for big, small in zip(out["pages"]["big"], out["pages"]["small"], strict=True)
    )
    lines += [
        "",
        "The query count is the same for both programmes: "
        + ("yes." if same else "NO, it grows with the data."),
        "",
    ]
    return "\n".join(lines), met and same


if __name__ == "__main__":
    sys.exit(main())
