"""Every operation of the partner API against every outsider (DESIGN §4, §5, §9).

The operations come from the router (tests/api/support.py), so a new endpoint is tried with no
key, a wrong, revoked or expired key, a key without its scope and a key of programme B the day
it is added — or the suite fails asking for a sample record or a request body for it. Inside
programme A, a second partner organisation must not reach the first one's mentors or change
its opportunities, and fellows who did not consent never appear.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import ApiScope, PartnerKey
from cohort.services import partner_key_revoke

from .conftest import ALL_SCOPES, assert_error_shape, client_with
from .support import call, operations, state_of

pytestmark = pytest.mark.django_db

OPERATIONS = operations()
BY_UUID = [op for op in OPERATIONS if op.takes_uuid]
LISTS = [op for op in OPERATIONS if op.is_list]
READS = [op for op in OPERATIONS if op.method == "get"]
SCOPED = [op for op in OPERATIONS if op.scopes]


# --- Registries: what the suite must be told about each endpoint ------------------------------

# Router basename -> the record of a programme (tests/api/conftest.py ProgrammeData) that a
# request by uuid aims at. A new endpoint by uuid fails test_every_route_by_uuid_has_a_sample
# until it has one here.
SAMPLES = {
    "cohort": lambda d: d.cohort,
    "mentor": lambda d: d.mentor,
    "fellow": lambda d: d.fellow,
    "venture": lambda d: d.venture,
    "event": lambda d: d.event,
    "opportunity": lambda d: d.opportunity,
    "webhook": lambda d: d.webhook,
}

# (basename, action) -> a valid body for a write, so that a refusal is the refusal under test
# and not a validation error.
BODIES = {
    ("opportunity", "create"): {
        "kind": "funding",
        "title": "Seed grants for outsiders",
        "summary": "Up to £50,000 for early-stage ventures.",
        "url": "https://example.org/grants",
    },
    ("opportunity", "partial_update"): {"title": "Changed by someone else"},
    ("opportunity", "close"): {"reason": "Closed by someone else"},
    ("webhook", "create"): {
        "url": "https://intruder.example/hook",
        "events": ["metrics.published"],
    },
    ("webhook", "destroy"): None,
}

# Endpoints any valid key may call whatever its scopes (the key's own programme and partner).
# A partner manages its own webhook endpoints with any key; each receives only the events its
# key's scopes allow (notifications.webhooks).
UNSCOPED = {"programme-list", "webhook-list", "webhook-detail", "webhook-deliveries"}


def _sample_uuid(operation, data):
    return SAMPLES[operation.basename](data).uuid if operation.takes_uuid else None


def _body(operation):
    return BODIES.get((operation.basename, operation.action))


def _call(client, operation, data, **extra):
    return call(client, operation, _sample_uuid(operation, data), _body(operation), **extra)


def test_the_router_has_endpoints():
    assert len(OPERATIONS) >= 19, [str(op) for op in OPERATIONS]


@pytest.mark.parametrize("operation", BY_UUID, ids=str)
def test_every_route_by_uuid_has_a_sample(operation):
    assert operation.basename in SAMPLES, (
        f"{operation} addresses a record by uuid: add a sample for basename "
        f"{operation.basename!r} to SAMPLES in tests/api/test_api_isolation.py."
    )


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if op.writes], ids=str)
def test_every_write_has_a_body(operation):
    assert (operation.basename, operation.action) in BODIES, (
        f"{operation} writes: add a valid body for ({operation.basename!r}, "
        f"{operation.action!r}) to BODIES in tests/api/test_api_isolation.py."
    )


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_every_endpoint_declares_its_scopes_or_is_known_to_need_none(operation):
    assert operation.scopes or operation.name in UNSCOPED, (
        f"{operation} needs no scope: declare required_scopes on {operation.viewset.__name__}, "
        "or add it to UNSCOPED in tests/api/test_api_isolation.py with the reason."
    )
    assert set(operation.scopes) <= set(ApiScope.values)


# --- Keys that are not keys ------------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_no_key_gets_401(operation, data_a):
    before = state_of(data_a.programme)

    response = _call(client_with(None), operation, data_a)

    assert_error_shape(response, 401)
    assert response["WWW-Authenticate"] == "Api-Key"
    assert state_of(data_a.programme) == before


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Api-Key not-a-key", id="garbage"),
        pytest.param("Api-Key {prefix}.wrongwrongwrongwrongwrongwrongwr", id="wrong-secret"),
        pytest.param("Api-Key abcdefgh.{rest}", id="unknown-prefix"),
        pytest.param("Bearer {secret}", id="other-scheme"),
        pytest.param("Api-Key ", id="empty"),
    ],
)
@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_a_wrong_key_gets_401(operation, header, data_a, key_a1):
    _, secret = key_a1
    prefix, _, rest = secret.partition(".")
    before = state_of(data_a.programme)
    client = client_with(None)
    client.credentials(HTTP_AUTHORIZATION=header.format(secret=secret, prefix=prefix, rest=rest))

    response = _call(client, operation, data_a)

    assert_error_shape(response, 401)
    assert state_of(data_a.programme) == before


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_a_revoked_key_gets_401_at_once(operation, data_a, make_key, partner_a1):
    key, secret = make_key(partner_a1)
    client = client_with(secret)
    assert client.get("/api/v1/programme/").status_code == 200
    with scope(programme=data_a.programme):
        partner_key_revoke(key=key, actor=None)
    before = state_of(data_a.programme)

    response = _call(client, operation, data_a)

    assert assert_error_shape(response, 401)["code"] == "revoked_key"
    assert state_of(data_a.programme) == before


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_an_expired_key_gets_401(operation, data_a, key_a1):
    key, secret = key_a1
    with scopes_disabled():
        PartnerKey.objects.filter(pk=key.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    before = state_of(data_a.programme)

    response = _call(client_with(secret), operation, data_a)

    assert assert_error_shape(response, 401)["code"] == "expired_key"
    assert state_of(data_a.programme) == before


# --- Scopes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", SCOPED, ids=str)
def test_a_key_without_the_scope_gets_403(operation, data_a, make_key, partner_a1):
    others = [s for s in ALL_SCOPES if s not in operation.scopes]
    _, secret = make_key(partner_a1, scopes=others)
    before = state_of(data_a.programme)

    response = _call(client_with(secret), operation, data_a)

    error = assert_error_shape(response, 403)
    assert all(needed in error["message"] for needed in operation.scopes)
    assert state_of(data_a.programme) == before


@pytest.mark.parametrize("operation", SCOPED, ids=str)
@pytest.mark.parametrize("which", [0, -1], ids=["first-scope", "last-scope"])
def test_any_one_of_the_scopes_it_needs_is_enough(operation, which, data_a, make_key, partner_a1):
    _, secret = make_key(partner_a1, scopes=[operation.scopes[which]])

    response = _call(client_with(secret), operation, data_a)

    assert response.status_code in (200, 201, 204), response.content[:300]


# --- Programme B's partner -------------------------------------------------------------------


@pytest.mark.parametrize("operation", BY_UUID, ids=str)
def test_programme_b_cannot_reach_a_record_of_a(operation, data_a, data_b, api_b):
    before = state_of(data_a.programme)

    response = _call(api_b, operation, data_a)

    assert_error_shape(response, 404)
    assert state_of(data_a.programme) == before
    # The same record of its own programme it can reach: the 404 is about the tenant.
    assert _call(api_b, operation, data_b).status_code in (200, 201, 204)


@pytest.mark.parametrize("operation", READS, ids=str)
def test_programme_b_never_sees_anything_of_a(operation, data_a, data_b, api_b):
    response = _call(api_b, operation, data_b)

    assert response.status_code == 200, response.content[:300]
    body = response.content.decode()
    leaked = [u for u in data_a.uuids() if u in body]
    assert not leaked, f"{operation} as programme B's partner shows A's records {leaked}"
    for name in (data_a.programme.name, data_a.partner.name, data_a.fellow.user.full_name):
        assert name not in body


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if op.writes], ids=str)
def test_programme_b_writes_change_nothing_of_a(operation, data_a, data_b, api_b):
    before = state_of(data_a.programme)

    _call(api_b, operation, data_b)

    assert state_of(data_a.programme) == before


# --- Another partner in the same programme ---------------------------------------------------


def test_another_partner_cannot_read_the_first_ones_mentors(data_a, api_a2):
    response = api_a2.get(f"/api/v1/mentors/{data_a.mentor.uuid}/")
    assert_error_shape(response, 404)

    listed = api_a2.get("/api/v1/mentors/?page_size=200").json()["results"]
    assert [m["uuid"] for m in listed] == [str(data_a.other_mentor.uuid)]


@pytest.mark.parametrize("operation", READS, ids=str)
def test_another_partner_never_sees_the_first_ones_mentors_or_drafts(operation, data_a, api_a2):
    response = _call(api_a2, operation, data_a)

    body = response.content.decode()
    private = {
        str(data_a.mentor.uuid): "the first partner's mentor",
        data_a.mentor.user.full_name: "the first partner's mentor's name",
        str(data_a.mentorship.uuid): "the first partner's mentorship",
        str(data_a.private_mentorship.uuid): "the first partner's mentorship",
        str(data_a.draft_opportunity.uuid): "the first partner's draft",
        data_a.draft_opportunity.title: "the first partner's draft",
    }
    shown = [what for needle, what in private.items() if needle in body]
    assert not shown, f"{operation} as another partner shows {shown}"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("", None, id="GET"),
        pytest.param("", {"title": "Hijacked"}, id="PATCH"),
        pytest.param("close/", {"reason": "Hijacked"}, id="close"),
    ],
)
@pytest.mark.parametrize("which", ["opportunity", "draft_opportunity"])
def test_another_partner_cannot_change_the_first_ones_opportunity(
    path, body, which, data_a, api_a2
):
    opportunity = getattr(data_a, which)
    url = f"/api/v1/opportunities/{opportunity.uuid}/{path}"
    before = state_of(data_a.programme)

    if body is None:
        response = api_a2.get(url)
        if which == "opportunity":  # published: everyone in the programme may read it
            assert response.status_code == 200
            assert response.json()["yours"] is False
            return
    elif path:
        response = api_a2.post(url, body, format="json")
    else:
        response = api_a2.patch(url, body, format="json")

    assert_error_shape(response, 404)
    assert state_of(data_a.programme) == before


def test_lists_never_show_another_partners_drafts(data_a, api_a1, api_a2):
    mine = {o["uuid"] for o in api_a1.get("/api/v1/opportunities/?page_size=200").json()["results"]}
    theirs = {
        o["uuid"] for o in api_a2.get("/api/v1/opportunities/?page_size=200").json()["results"]
    }

    assert str(data_a.draft_opportunity.uuid) in mine
    assert str(data_a.draft_opportunity.uuid) not in theirs
    assert str(data_a.other_draft_opportunity.uuid) in theirs
    assert str(data_a.other_draft_opportunity.uuid) not in mine
    # Published ones are for everyone in the programme.
    assert {str(data_a.opportunity.uuid), str(data_a.other_opportunity.uuid)} <= mine & theirs


def test_drafts_and_other_programmes_events_are_not_published(data_a, data_b, api_a1):
    listed = {e["uuid"] for e in api_a1.get("/api/v1/events/?page_size=200").json()["results"]}
    assert listed == {str(data_a.event.uuid)}
    assert_error_shape(api_a1.get(f"/api/v1/events/{data_a.draft_event.uuid}/"), 404)


# --- Consent ---------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", READS, ids=str)
def test_fellows_without_consent_never_appear(operation, data_a, api_a1):
    response = _call(api_a1, operation, data_a)

    assert response.status_code == 200, response.content[:300]
    body = response.content.decode()
    private = {
        str(data_a.private_fellow.uuid): "the fellow's uuid",
        data_a.private_fellow.user.full_name: "the fellow's name",
        data_a.private_fellow.user.email: "the fellow's email",
        str(data_a.private_venture.uuid): "the fellow's venture",
        data_a.private_venture.name: "the fellow's venture's name",
        str(data_a.forecast_runs[-1].uuid): "the forecast of the fellow's venture",
        "PRIVATE MEETING NOTES": "meeting notes",
    }
    shown = [what for needle, what in private.items() if needle in body]
    assert not shown, f"{operation} shows a fellow who did not consent: {shown}"


@pytest.mark.parametrize("path", ["fellows", "ventures"])
def test_a_fellow_without_consent_is_not_found_by_uuid(path, data_a, api_a1):
    record = data_a.private_fellow if path == "fellows" else data_a.private_venture
    assert_error_shape(api_a1.get(f"/api/v1/{path}/{record.uuid}/"), 404)


def test_a_mentee_without_consent_is_not_named_in_the_mentorship(data_a, api_a1):
    mentor = api_a1.get(f"/api/v1/mentors/{data_a.mentor.uuid}/").json()

    names = {m["uuid"]: m["fellow"] for m in mentor["mentorships"]}
    assert names == {
        str(data_a.mentorship.uuid): data_a.fellow.user.full_name,
        str(data_a.private_mentorship.uuid): None,
    }
    # The status is still there: the partner sees its mentor's work, not who it was with.
    private = next(m for m in mentor["mentorships"] if m["fellow"] is None)
    assert private["meetings_held"] == 1 and private["milestones_signed_off"] == 1
