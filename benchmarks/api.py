"""Benchmark: the partner API's list endpoints on the large synthetic programme (issue #8).

    uv run python -m benchmarks.api [--fellows N] [--requests R]      # or: make bench

Issue #8: "List endpoints answer in a fixed number of queries whatever the data size (test),
and the benchmark reports their p50/p95 on the large synthetic programme of the metrics issue."

Builds `benchmarks.synthetic`'s programmes (13,000 fellows and a small one) inside a
transaction that is rolled back, computes their metric snapshots and gives each a partner key
with every scope (for the partner organisation with the most mentors). Then calls each list
endpoint R times with the Django test client (the server's own time, no network) and reports
p50/p95 and the number of queries, for the big programme and the small one: the query counts
must be the same. Results go to benchmarks/results/api-<database>.md.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from .metrics import Rollback, machine, time_get
from .synthetic import setup_django

ENDPOINTS = [
    "programme/",
    "cohorts/",
    "metrics/",
    "metrics/snapshots/?metric=funding_raised",
    "metrics/equality/",
    "forecast/",
    "mentors/",
    "fellows/",
    "ventures/",
    "events/",
    "opportunities/",
]


def _key(programme):
    from django.db.models import Count
    from django.utils import timezone
    from django_scopes import scope

    from cohort.models import ApiScope, Organisation
    from cohort.services import partner_key_create

    with scope(programme=programme):
        organisation = (
            Organisation.objects.filter(programme=programme, is_partner=True)
            .annotate(n=Count("mentors"))
            .order_by("-n", "pk")
            .first()
        )
        _key, secret = partner_key_create(
            programme=programme,
            organisation=organisation,
            name="Benchmark",
            scopes=list(ApiScope.values),
            expires_on=timezone.localdate() + timedelta(days=30),
            actor=None,
        )
    return secret


def time_endpoints(client, requests: int) -> list[dict]:
    return [time_get(client, f"/api/v1/{endpoint}", requests) for endpoint in ENDPOINTS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Partner API list endpoints, p50/p95")
    parser.add_argument("--fellows", type=int, default=13_000)
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args(argv)

    setup_django()
    from django.conf import settings
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django_scopes import scope

    from metrics.services import metric_snapshots_compute

    from .synthetic import build

    setup_test_environment()
    # The benchmark must not be throttled by the API's own rate limit.
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["partner_key"] = "1000000/minute"
    from rest_framework.throttling import SimpleRateThrottle

    SimpleRateThrottle.THROTTLE_RATES["partner_key"] = "1000000/minute"
    out = {}
    try:
        with transaction.atomic():
            built = build(fellows=args.fellows, second_fellows=args.small)
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("ANALYZE")
            for name, programme in (("big", built.programme), ("small", built.second)):
                with scope(programme=programme):
                    metric_snapshots_compute(programme=programme)
                client = Client(HTTP_AUTHORIZATION=f"Api-Key {_key(programme)}")
                out[name] = time_endpoints(client, args.requests)
            out["built"] = built
            raise Rollback
    except Rollback:
        pass

    database = "postgresql" if connection.vendor == "postgresql" else "sqlite"
    lines = [
        "# Partner API list endpoints",
        "",
        *machine(connection),
        "",
        out["built"].summary(),
        "",
        f"{args.requests} requests per endpoint after one warm-up, through the Django test "
        "client (server time, no network). Query counts must not grow with the data.",
        "",
        "| endpoint | p50 big (ms) | p95 big (ms) | queries big | p50 small (ms) | queries small |",
        "|---|---:|---:|---|---:|---|",
    ]
    fixed = True
    for big, small in zip(out["big"], out["small"], strict=True):
        fixed &= big["queries"] == small["queries"]
        lines.append(
            f"| `{big['path']}` | {big['p50'] * 1000:.1f} | {big['p95'] * 1000:.1f} | "
            f"{', '.join(map(str, big['queries']))} | {small['p50'] * 1000:.1f} | "
            f"{', '.join(map(str, small['queries']))} |"
        )
    lines += ["", f"Query counts the same for both sizes: {'yes' if fixed else 'NO'}.", ""]
    text = "\n".join(lines)
    print(text)
    path = Path(__file__).parent / "results" / f"api-{database}.md"
    path.write_text(text)
    print(f"Written to {path}")
    return 0 if fixed else 1


if __name__ == "__main__":
    sys.exit(main())
