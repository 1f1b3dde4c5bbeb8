"""Guards the page benchmark (benchmarks/pages.py) from rotting, and enforces issue #9's "a
fixed number of queries per page": on two small synthetic programmes (80 and 40 fellows) every
busy page and endpoint of the benchmark answers 200 to the person who uses it, and runs the
same number of queries for both."""

import pytest
from django.db import connection
from django.utils import timezone

from benchmarks import pages
from benchmarks.synthetic import build

pytestmark = pytest.mark.django_db


def test_every_busy_page_answers_and_its_queries_do_not_grow_with_the_data(settings):
    today = timezone.localdate()
    built = build(fellows=80, years=2, second_fellows=40, today=today, verbose=False)
    people = pages.prepare(built, today)
    settings.ROOT_URLCONF = "benchmarks.urls"  # the site plus the trivial view
    # A full run fills Django's query log (9,000 entries), which must not make a page's
    # queries count as none: start from a full one.
    connection.queries_log.extend([{"sql": "", "time": "0"}] * connection.queries_limit)
    out = {name: pages.measure(people[name], requests=2, warmup=1) for name in ("big", "small")}
    labels = [row["label"] for row in out["big"]]
    assert labels == [pages.TRIVIAL] + [page.label for page in pages.PAGES]
    assert all(row["bytes"] > 0 for row in out["big"] + out["small"])
    assert pages.growing(out) == []
    assert all(0 not in row["queries"] for row in out["big"][1:] + out["small"][1:])
