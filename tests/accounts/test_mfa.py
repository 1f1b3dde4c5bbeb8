"""Anyone can turn on two-factor authentication (TOTP, with recovery codes), and then signing
in asks for a code."""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value

from ..factories import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_in(client, user):
    return client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})


def test_turn_on_totp_then_sign_in_with_a_recovery_code(client, fellow_a):
    assert _sign_in(client, fellow_a).status_code == 302
    # Turning MFA on is a sensitive change: allauth asks for the password again first.
    assert client.get("/accounts/2fa/totp/activate/")["Location"].startswith(
        "/accounts/reauthenticate/"
    )
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    wrong = client.post("/accounts/2fa/totp/activate/", {"code": "000000"})
    assert wrong.status_code == 200
    assert b"Incorrect code" in wrong.content
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post("/accounts/2fa/totp/activate/", {"code": code})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=fellow_a, type=Authenticator.Type.TOTP).exists()
    recovery = Authenticator.objects.get(user=fellow_a, type=Authenticator.Type.RECOVERY_CODES)
    spare = RecoveryCodes(recovery).get_unused_codes()[0]

    client.post("/accounts/logout/")
    response = _sign_in(client, fellow_a)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    # Without the second factor the programme stays closed.
    assert client.get("/p/alpha/").status_code == 302
    response = client.post("/accounts/2fa/authenticate/", {"code": spare})
    assert response.status_code == 302
    assert client.get("/", follow=True).status_code == 200
