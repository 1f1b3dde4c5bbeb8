"""allauth's pages render in our layout, and password reset works end to end."""

import re

import pytest
from django.core import mail

from ..factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/login/",
        "/accounts/password/reset/",
        "/accounts/signup/",
    ],
)
def test_public_account_pages_render(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert b"nhsuk-header" in response.content


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/password/change/",
        "/accounts/email/",
        "/accounts/2fa/",
        "/accounts/reauthenticate/",
        "/accounts/logout/",
    ],
)
def test_signed_in_account_pages_render(client_for, fellow_a, url):
    response = client_for(fellow_a).get(url)
    assert response.status_code == 200
    assert b"nhsuk-header" in response.content


def test_password_reset_by_email(client, fellow_a):
    response = client.post("/accounts/password/reset/", {"email": fellow_a.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(1),
        {"password1": "a-brand-new-Passphrase-7", "password2": "a-brand-new-Passphrase-7"},
    )
    assert response.status_code == 302
    fellow_a.refresh_from_db()
    assert fellow_a.check_password("a-brand-new-Passphrase-7")
    assert not fellow_a.check_password(PASSWORD)


def test_password_change_mismatch_keeps_the_page_and_says_why(client_for, fellow_a):
    response = client_for(fellow_a).post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "abcDEF123456!", "password2": "different-123"},
    )
    assert response.status_code == 200
    assert b"There is a problem" in response.content
    fellow_a.refresh_from_db()
    assert fellow_a.check_password(PASSWORD)
