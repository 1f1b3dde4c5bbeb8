"""Health probes, error pages, production settings and the MFA policy for staff."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def test_healthz_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_the_database(client, settings):
    settings.REDIS_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": True}


def test_readyz_is_503_when_the_broker_does_not_answer(client, settings):
    # Port 1 on loopback: nothing listens there, so the broker check really fails.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "broker": False}


@pytest.mark.integration
def test_readyz_checks_redis_when_configured(client, settings):
    if not os.environ.get("REDIS_URL"):
        from tests.conftest import skip_or_fail

        skip_or_fail("REDIS_URL is not set")
    settings.REDIS_URL = os.environ["REDIS_URL"]
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": True, "broker": True}


def test_500_page_renders_without_a_request_context(client):
    from config.errors import server_error

    response = server_error(None)
    assert response.status_code == 500
    assert b"Sorry, there is a problem with the service" in response.content


def test_dates_read_the_uk_way():
    from datetime import date

    from django.template import Context, Template

    rendered = Template("{{ d|date }}").render(Context({"d": date(2026, 11, 22)}))
    assert rendered == "22 November 2026"


def _production_env(**extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_DEBUG", "DJANGO_SETTINGS_MODULE", "PITWALL_REQUIRE_STAFF_MFA"}
    }
    env.update(
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY="x" * 20 + "a-long-random-production-secret-key-for-checks",
        DJANGO_ALLOWED_HOSTS="pitwall.example",
        **extra,
    )
    return env


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = _production_env()
    env.pop("DJANGO_SECRET_KEY")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_security_headers_are_sent(client):
    response = client.get("/accounts/login/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@override_settings(PITWALL_REQUIRE_STAFF_MFA=True)
def test_staff_must_set_up_mfa_when_required(client_for, staff_a, programme_a):
    client = client_for(staff_a)
    response = client.get(f"/p/{programme_a.slug}/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    page = client.get(response["Location"], follow=True)
    assert page.status_code == 200
    assert b"must protect their account" in page.content


@override_settings(PITWALL_REQUIRE_STAFF_MFA=True)
def test_staff_with_totp_pass_the_mfa_policy(client_for, staff_a, programme_a):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(user=staff_a, type=Authenticator.Type.TOTP, data={"secret": "x"})
    response = client_for(staff_a).get(f"/p/{programme_a.slug}/")
    assert response.status_code == 200


@override_settings(PITWALL_REQUIRE_STAFF_MFA=True)
def test_fellows_are_not_forced_to_use_mfa(client_for, fellow_a, programme_a):
    assert client_for(fellow_a).get(f"/p/{programme_a.slug}/").status_code == 200


def test_wrong_password_gets_a_clear_message(client, fellow_a):
    response = client.post(
        "/accounts/login/", {"login": fellow_a.email, "password": "not-the-password"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    assert "email address and/or password you specified are not correct" in body
    assert f'value="{fellow_a.email}"' in body
