"""`make test` runs the suite on two pytest-xdist workers with `--dist loadgroup`, which keeps
each `xdist_group` on one worker: the demo modules seed their demo once, and the Celery-worker
and browser suites never share Redis queues or Chromium with themselves. pytest 9.2 silently
stopped that (pytest-xdist#1386: the group no longer reaches the node id), and the demo suites
seeded on both workers at once. This test fails if grouping is lost again."""

import pytest

pytestmark = pytest.mark.xdist_group("grouping-check")


def test_grouped_tests_carry_their_group_to_the_scheduler(request):
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("runs under `make test` (pytest-xdist with --dist loadgroup)")
    assert request.node.nodeid.endswith("@grouping-check"), (
        f"--dist loadgroup is not grouping tests on pytest {pytest.__version__}: "
        f"{request.node.nodeid} has no @group. Pin pytest to a version pytest-xdist supports "
        "(see pyproject.toml)."
    )
