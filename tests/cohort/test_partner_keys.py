"""Staff give partner organisations API keys (issue #8, item 1): scopes and an expiry of at
most 12 months, the key shown once and stored hashed, every use recorded, revocation at once."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from cohort.models import AuditEvent, PartnerKey, PartnerKeyUse

from ..factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def _url(programme, name="partner_keys", **kwargs):
    return reverse(f"cohort:{name}", kwargs={"programme_slug": programme.slug, **kwargs})


@pytest.fixture
def partner(programme_a):
    return OrganisationFactory(programme=programme_a, name="AstraZeneca", is_partner=True)


def _create(client, programme, partner, **extra):
    data = {
        "organisation": partner.pk,
        "name": "AZ dashboard",
        "scopes": ["metrics:read", "events:read"],
        "expires_on": (timezone.localdate() + timedelta(days=90)).isoformat(),
        **extra,
    }
    return client.post(_url(programme), data)


def test_staff_create_a_key_see_it_once_and_it_works(client, programme_a, staff_a, partner):
    client.force_login(staff_a)
    page = _create(client, programme_a, partner)
    body = page.content.decode()
    assert page.status_code == 200 and "Key created: copy it now" in body
    with scopes_disabled():
        key = PartnerKey.objects.get(programme=programme_a)
        assert AuditEvent.objects.filter(action="api_key.created").count() == 1
    secret = body.split('<code class="pitwall-secret">')[1].split("</code>")[0]
    assert secret.startswith(key.prefix + ".") and secret not in key.hashed_key
    assert key.scopes == ["events:read", "metrics:read"]
    # Shown once: the list afterwards has only the prefix.
    assert secret not in client.get(_url(programme_a)).content.decode()
    api = client.get("/api/v1/programme/", HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert api.status_code == 200 and api.json()["slug"] == programme_a.slug
    with scopes_disabled():
        use = PartnerKeyUse.objects.get(key=key)
        key.refresh_from_db()
    assert (use.method, use.path, use.status) == ("GET", "/api/v1/programme/", 200)
    assert key.last_used_at is not None
    detail = client.get(_url(programme_a, "partner_key", key_uuid=key.uuid)).content.decode()
    assert "/api/v1/programme/" in detail


def test_a_revoked_key_is_refused_at_once(client, programme_a, staff_a, partner):
    client.force_login(staff_a)
    body = _create(client, programme_a, partner).content.decode()
    secret = body.split('<code class="pitwall-secret">')[1].split("</code>")[0]
    with scopes_disabled():
        key = PartnerKey.objects.get(programme=programme_a)
    assert client.get("/api/v1/cohorts/", HTTP_AUTHORIZATION=f"Api-Key {secret}").status_code == 200
    client.post(_url(programme_a, "partner_key_revoke", key_uuid=key.uuid))
    refused = client.get("/api/v1/cohorts/", HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "revoked_key"
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1


@pytest.mark.parametrize(
    "extra, field, message",
    [
        ({"scopes": []}, "scopes", "Choose at least one thing the key may do."),
        ({"expires_on": "2099-01-01"}, "expires_on", "A key can last 12 months at most."),
        ({"expires_on": "2020-01-01"}, "expires_on", "The key must expire after today."),
        ({"expires_on": "not a date"}, "expires_on", "Enter a valid date."),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_bad_input_is_refused_at_the_field(
    client, programme_a, staff_a, partner, extra, field, message
):
    client.force_login(staff_a)
    page = _create(client, programme_a, partner, **extra)
    body = page.content.decode()
    assert page.status_code == 400 and message in body
    with scopes_disabled():
        assert not PartnerKey.objects.exists()


def test_only_partner_organisations_of_the_programme_get_keys(
    client, programme_a, programme_b, staff_a
):
    client.force_login(staff_a)
    not_partner = OrganisationFactory(programme=programme_a, is_partner=False)
    theirs = OrganisationFactory(programme=programme_b, is_partner=True)
    for organisation in (not_partner, theirs):
        page = _create(client, programme_a, organisation)
        assert page.status_code == 400
        assert "Choose one of the partner organisations." in page.content.decode()
    with scopes_disabled():
        assert not PartnerKey.objects.exists()


def test_an_expired_key_is_refused(client, programme_a, partner):
    from cohort.services import partner_key_create

    with scopes_disabled():
        key, secret = partner_key_create(
            programme=programme_a,
            organisation=partner,
            name="Soon gone",
            scopes=["metrics:read"],
            expires_on=timezone.localdate() + timedelta(days=1),
            actor=None,
        )
        PartnerKey.objects.filter(pk=key.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    refused = client.get("/api/v1/cohorts/", HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "expired_key"
