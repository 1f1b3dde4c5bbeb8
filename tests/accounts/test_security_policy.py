"""Security policy of DESIGN §11 that no other suite pins: failed sign-ins are throttled per
account and per address, the content security policy never allows inline code, and staff MFA
is on by default in production."""

import re
import subprocess
import sys
import uuid

import pytest

from tests.factories import UserFactory
from tests.test_platform import ROOT, _production_env

LOGIN = "/accounts/login/"
TOO_MANY = "Too many failed login attempts"


def _unique_address() -> str:
    """An address of TEST-NET-3 of this test's own: the per-address counter is shared by every
    test in the run (the cache is one Redis), so each test keys its attempts apart."""
    n = uuid.uuid4().int
    return f"203.0.{n % 250}.{(n >> 8) % 250 + 1}"


def _sign_in(client, email, password, address):
    return client.post(LOGIN, {"login": email, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_five_failed_sign_ins_lock_the_account_for_a_while(client):
    user = UserFactory(email=f"throttled-{uuid.uuid4().hex[:8]}@nhs.example")
    user.set_password("the-right-password-1")
    user.save()
    for _ in range(5):
        response = _sign_in(client, user.email, "not-the-password", _unique_address())
        assert response.status_code == 200
        assert TOO_MANY not in response.content.decode()

    # The sixth try, from anywhere and even with the right password, is refused with a clear
    # message on the form, which keeps the address the person typed.
    response = _sign_in(client, user.email, "the-right-password-1", _unique_address())
    body = response.content.decode()
    assert response.status_code == 200
    assert TOO_MANY in body
    assert f'value="{user.email}"' in body
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_one_address_guessing_many_accounts_is_throttled(client):
    address = _unique_address()
    refused = 0
    for n in range(12):
        body = _sign_in(client, f"nobody-{n}-{uuid.uuid4().hex[:6]}@nhs.example", "x", address)
        refused += TOO_MANY in body.content.decode()
    # 10 failures a minute per address: the 11th and 12th are refused.
    assert refused == 2


@pytest.mark.django_db
def test_a_successful_sign_in_is_not_throttled_by_other_peoples_failures(client):
    user = UserFactory(email=f"fine-{uuid.uuid4().hex[:8]}@nhs.example")
    user.set_password("the-right-password-1")
    user.save()
    other = f"other-{uuid.uuid4().hex[:8]}@nhs.example"
    for _ in range(6):
        _sign_in(client, other, "wrong", _unique_address())
    response = _sign_in(client, user.email, "the-right-password-1", _unique_address())
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_the_content_security_policy_allows_no_inline_code(client):
    policy = client.get(LOGIN)["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    for name in ("default-src", "script-src", "style-src"):
        assert name in directives
    for name, sources in directives.items():
        for source in ("'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"):
            assert source not in sources, f"{name} allows {source}"
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]


def test_no_page_template_holds_inline_script_or_style():
    """The policy would block them in the browser, silently. Emails and PDFs are not served as
    pages, so they may style inline."""
    offenders = []
    not_pages = ("/email/", "_pdf.html", "pdf_page_style.html")
    pattern = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=\"|<style[\s>]|\son[a-z]+=\"")
    for template in (ROOT / "templates").rglob("*.html"):
        if any(marker in str(template) for marker in not_pages):
            continue
        for match in pattern.finditer(template.read_text()):
            offenders.append(f"{template.relative_to(ROOT)}: {match.group(0).strip()}")
    assert not offenders, "inline code in page templates:\n" + "\n".join(offenders)


def test_production_requires_staff_to_use_mfa_by_default():
    code = "from django.conf import settings; print(settings.PITWALL_REQUIRE_STAFF_MFA)"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**_production_env(), "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
