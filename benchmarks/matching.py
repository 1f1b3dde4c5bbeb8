"""Benchmark: matching 1,300 fellows against 400 mentors (issue #3 asks for under 5 seconds).

    uv run python -m benchmarks.matching            # or: make bench

Builds a synthetic programme in the configured database (SQLite by default, PostgreSQL when
DATABASE_URL is set) inside a transaction that is rolled back at the end, so nothing is left
behind. Times the whole service, `matching_run` (reading fellows, ventures, mentors and
places, the assignment, writing the proposals), and the assignment alone, then writes a
Markdown table to benchmarks/results/matching.md.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

FELLOWS = int(os.environ.get("BENCH_FELLOWS", 1300))
MENTORS = int(os.environ.get("BENCH_MENTORS", 400))
CAPACITY = 4  # 1,600 places for 1,300 fellows
RUNS = 3
TARGET_SECONDS = 5.0


def setup_django():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


class Rollback(Exception):
    pass


def build(rng):
    from django.contrib.auth import get_user_model

    from cohort.models import (
        Cohort,
        Fellow,
        Mentor,
        NHSRegion,
        Organisation,
        Programme,
        Sector,
        Venture,
    )
    from mentoring.matching import TOPICS

    user_model = get_user_model()
    programme = Programme.objects.create(slug="bench-matching", name="Matching benchmark")
    cohort = Cohort.objects.create(
        programme=programme, name="Bench", starts_on=date(2026, 9, 1), ends_on=date(2027, 8, 31)
    )
    organisation = Organisation.objects.create(programme=programme, name="Bench partner")
    regions, sectors = list(NHSRegion.values), list(Sector.values)
    needs = [words[0] for _, words in TOPICS.values()]
    users = user_model.objects.bulk_create(
        [user_model(email=f"bench{i}@bench.example") for i in range(FELLOWS + MENTORS)]
    )
    fellows = Fellow.objects.bulk_create(
        [
            Fellow(
                programme=programme,
                cohort=cohort,
                user=users[i],
                profession="doctor",
                region=rng.choice(regions),
                help_needed=" and ".join(rng.sample(needs, 2)),
            )
            for i in range(FELLOWS)
        ]
    )
    Venture.objects.bulk_create(
        [
            Venture(
                programme=programme,
                fellow=fellow,
                name=f"Venture {i}",
                summary="Bench",
                stage="idea",
                sector=rng.choice(sectors),
            )
            for i, fellow in enumerate(fellows)
        ]
    )
    Mentor.objects.bulk_create(
        [
            Mentor(
                programme=programme,
                user=users[FELLOWS + j],
                organisation=organisation,
                expertise=", ".join(rng.sample(needs, 3)),
                sectors=rng.sample(sectors, 2),
                region=rng.choice(regions),
                capacity=CAPACITY,
            )
            for j in range(MENTORS)
        ]
    )
    return programme, cohort


def main() -> int:
    setup_django()
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scope

    from cohort.models import Fellow
    from mentoring import services
    from mentoring.matching import propose
    from mentoring.models import MatchPair

    rng = random.Random(2016)
    service_times, assign_times, queries, proposals = [], [], [], 0
    try:
        with transaction.atomic():
            programme, cohort = build(rng)
            with scope(programme=programme):
                for _ in range(RUNS):
                    with CaptureQueriesContext(connection) as captured:
                        started = time.perf_counter()
                        result = services.matching_run(cohort=cohort, actor=None)
                        service_times.append(time.perf_counter() - started)
                    queries.append(len(captured))
                    proposals = MatchPair.objects.filter(cohort=cohort).count()
                    assert proposals == len(result.proposals)
                # The assignment alone, on the same profiles the service builds.
                fellows = services.fellow_profiles(
                    Fellow.objects.filter(cohort=cohort).prefetch_related("ventures")
                )
                places = services.mentor_places(programme=programme)
                mentors = [services.mentor_profile(p["mentor"], CAPACITY) for p in places.values()]
                for _ in range(RUNS):
                    started = time.perf_counter()
                    propose(fellows, mentors)
                    assign_times.append(time.perf_counter() - started)
            raise Rollback
    except Rollback:
        pass

    engine = connection.vendor
    best, median = min(service_times), statistics.median(service_times)
    lines = [
        "# Matching benchmark",
        "",
        f"{FELLOWS:,} fellows against {MENTORS:,} mentors with {CAPACITY} places each "
        f"({MENTORS * CAPACITY:,} places), {RUNS} runs, database: {engine}.",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        f", {platform.system()} {platform.release()}.",
        "",
        "| What | Best (s) | Median (s) | Queries | Target |",
        "|---|---:|---:|---:|---|",
        f"| `matching_run` (read, assign, write {proposals:,} proposals) | {best:.2f} | "
        f"{median:.2f} | {queries[-1]} | under {TARGET_SECONDS:.0f} s: "
        f"{'met' if median < TARGET_SECONDS else 'MISSED'} |",
        f"| assignment alone (NumPy fit + `linear_sum_assignment`) | {min(assign_times):.2f} | "
        f"{statistics.median(assign_times):.2f} | 0 | |",
        "",
    ]
    report = "\n".join(lines)
    out = Path(__file__).resolve().parent / "results" / f"matching-{engine}.md"
    out.write_text(report)
    print(report)
    print(f"Written to {out}")
    return 0 if median < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
