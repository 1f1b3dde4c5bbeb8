"""Fixtures shared by the whole suite: programmes A and B and the people in them.

Every permission test uses three actors, as healthchecks does: a member with the right, a member
without it, and an outsider from another programme.
"""

import os

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from cohort.models import Role

from .factories import (
    PASSWORD,
    CohortFactory,
    FellowFactory,
    InvitationFactory,
    MembershipFactory,
    MentorFactory,
    ProgrammeFactory,
    UserFactory,
)

# Suites that need Redis, a Celery worker or Chromium skip on a bare laptop, but CI sets this
# so that a missing service fails the run instead of silently skipping.
REQUIRE_ALL = os.environ.get("PITWALL_REQUIRE_ALL_SUITES") == "1"


def skip_or_fail(reason: str):
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (PITWALL_REQUIRE_ALL_SUITES=1 forbids skipping)")
    pytest.skip(reason)


def postgres_test_database_url() -> str:
    """The test database's URL, for processes and sessions of a test's own (a Celery worker, a
    second connection holding a lock): PostgreSQL only, SQLite's file is not shared."""
    if connection.vendor != "postgresql":
        skip_or_fail("this test needs DATABASE_URL on PostgreSQL")
    s = connection.settings_dict
    auth = s["USER"] or "postgres"
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def another_database_session():
    """A second PostgreSQL session beside the test's own, in autocommit: what another worker
    would hold. The caller closes it."""
    import psycopg

    return psycopg.connect(postgres_test_database_url(), autocommit=True)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _a_lighter_demo(settings):
    """seed_demo runs in many tests: there it writes meeting records only for the demo people's
    years and the ones that show a stage (reopened, missed milestones), which keeps it quick.
    tests/mentoring/test_demo_meetings.py seeds the full demo."""
    settings.PITWALL_DEMO_MEETING_YEARS = 0


@pytest.fixture(autouse=True)
def _private_uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _tasks_run_in_process():
    """Unit tests run tasks eagerly even when REDIS_URL is set; tests/integration uses a real
    worker instead (see its conftest)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _postgresql_when_asked(request):
    """Tests marked `postgresql` need the real thing (two connections racing); elsewhere they
    skip, or fail where every suite must run. CI runs them in its PostgreSQL pass and leaves
    them out of the SQLite one."""
    if request.node.get_closest_marker("postgresql"):
        from django.db import connection

        if connection.vendor != "postgresql":
            skip_or_fail("this test needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def unscoped():
    """For assertions that read tenant rows directly. Not autouse: code under test must
    activate its own scope, and a global escape hatch here would hide a missing one."""
    with scopes_disabled():
        yield


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def programme_a(db):
    return ProgrammeFactory(slug="alpha", name="Alpha Programme")


@pytest.fixture
def programme_b(db):
    return ProgrammeFactory(slug="bravo", name="Bravo Programme")


def _member(programme, role, email):
    user = UserFactory(email=email)
    MembershipFactory(programme=programme, user=user, role=role)
    return user


@pytest.fixture
def staff_a(programme_a):
    return _member(programme_a, Role.STAFF, "staff@alpha.example")


@pytest.fixture
def fellow_a(programme_a):
    user = _member(programme_a, Role.FELLOW, "fellow@alpha.example")
    FellowFactory(programme=programme_a, user=user)
    return user


@pytest.fixture
def mentor_a(programme_a):
    user = _member(programme_a, Role.MENTOR, "mentor@alpha.example")
    MentorFactory(programme=programme_a, user=user)
    return user


@pytest.fixture
def staff_b(programme_b):
    return _member(programme_b, Role.STAFF, "staff@bravo.example")


@pytest.fixture
def fellow_b(programme_b):
    user = _member(programme_b, Role.FELLOW, "fellow@bravo.example")
    FellowFactory(programme=programme_b, user=user)
    return user


@pytest.fixture
def cohort_a(programme_a):
    return CohortFactory(programme=programme_a)


@pytest.fixture
def invitation_factory():
    return InvitationFactory


@pytest.fixture
def client_for(client):
    """client_for(user) signs the test client in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`-n 2 --dist loadgroup`), the suites that start real processes run
    one after another on one worker each: the Celery-worker tests share Redis queues and the
    browser tests share one Chromium, while the rest spread over the other workers."""
    for item in items:
        for marker in ("integration", "browser"):
            if item.get_closest_marker(marker):
                item.add_marker(pytest.mark.xdist_group(marker))
