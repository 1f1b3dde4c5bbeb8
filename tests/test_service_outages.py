"""What the app does while a service it relies on is away, in-process and quick; the fault suite
(tests/integration/test_faults.py) shows the same with real servers stopped and workers killed.

- The cache on Redis carries on without Redis (config/cache.py).
- A page answers 503 with Retry-After while the database is away, not the 500 page.
- A background job's lock (cohort.tasking.job_lock) is held by one session at a time.
"""

import json
import logging

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from config.cache import ResilientRedisCache
from config.errors import server_error
from tests.conftest import another_database_session

pytestmark = pytest.mark.django_db


def test_the_cache_carries_on_without_redis(caplog):
    # Port 1 on loopback: nothing listens there.
    cache = ResilientRedisCache(
        "redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
    )
    caplog.set_level(logging.WARNING, logger="config.cache")
    assert cache.get("history", []) == []
    assert cache.get("history", default="none") == "none"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("a") is False
    assert cache.add("lock", True, timeout=10) is True  # a lock taken with it does not wait
    assert cache.set("history", [1]) is None
    assert cache.delete("history") is False
    assert cache.get_or_set("computed", 42) == 42
    with pytest.raises(ValueError):
        cache.incr("counter")
    # One warning, not one per call.
    assert caplog.text.count("The cache (Redis) is unavailable") == 1


def test_a_page_answers_503_while_the_database_is_away(
    client_for, fellow_a, programme_a, monkeypatch
):
    client = client_for(fellow_a)
    client.raise_request_exception = False

    def unavailable(self):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr("django.contrib.sessions.backends.db.SessionStore.load", unavailable)
    response = client.get(f"/p/{programme_a.slug}/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    text = response.content.decode()
    assert "Sorry, the service is unavailable" in text and "Connection refused" not in text


def test_other_errors_still_get_the_500_page_and_the_api_its_json():
    request = RequestFactory().get("/p/alpha/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)
    assert response.status_code == 500 and not response.has_header("Retry-After")
    api = RequestFactory().get("/api/v1/metrics/")
    try:
        raise OperationalError("the database is away")
    except OperationalError:
        response = server_error(api)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert json.loads(response.content)["error"]["code"] == "unavailable"


@pytest.mark.postgresql
def test_a_jobs_lock_is_held_by_one_session_and_let_go_after():
    from cohort.tasking import job_lock, job_lock_name

    other = another_database_session()
    key = "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))"
    name = [job_lock_name("metrics.run", 7)]
    try:
        with job_lock("metrics.run", 7) as held:
            assert held is True
            assert other.execute(key, name).fetchone()[0] is False  # busy for everyone else
        assert other.execute(key, name).fetchone()[0] is True  # let go
        with job_lock("metrics.run", 7) as held:
            assert held is False  # now the other session has it
    finally:
        other.close()
