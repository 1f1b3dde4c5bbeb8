"""How the partner API behaves for a partner's tools (issue #8): one error shape for every bad
input and nothing written when it is refused, Idempotency-Key, ETags, cursor pagination,
throttling per key, the record of every use, and the opportunity a partner posts, changes and
closes."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import AuditEvent, PartnerKey, PartnerKeyUse
from events.models import Opportunity

from ..factories import OpportunityFactory
from .conftest import assert_error_shape, client_with

pytestmark = pytest.mark.django_db

GOOD = {
    "kind": "funding",
    "title": "Seed grants",
    "summary": "Up to £50,000 for early-stage ventures.",
    "url": "https://example.org/grants",
}


def _count(programme) -> int:
    with scopes_disabled():
        return Opportunity.objects.filter(programme=programme).count()


# --- Bad input: 400, the error shape, the field named, nothing written -------------------------


def _raw_post(api, body: str, **extra):
    return api.generic(
        "POST", "/api/v1/opportunities/", body, content_type="application/json", **extra
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({**GOOD, "colour": "red"}, "colour", id="unknown-field"),
        pytest.param({**GOOD, "kind": 5}, "kind", id="wrong-type-choice"),
        pytest.param({**GOOD, "tags": "not-a-list"}, "tags", id="wrong-type-list"),
        pytest.param({**GOOD, "title": {"a": 1}}, "title", id="object-for-string"),
        pytest.param({**GOOD, "deadline": "31/12/2026"}, "deadline", id="malformed-date"),
        pytest.param({**GOOD, "deadline": "2150-01-01"}, "deadline", id="date-out-of-range"),
        pytest.param({**GOOD, "deadline": "2001-01-01"}, "deadline", id="deadline-passed"),
        pytest.param(
            {**GOOD, "opens_on": "2027-02-01", "deadline": "2027-01-01"},
            "deadline",
            id="dates-out-of-order",
        ),
        pytest.param({**GOOD, "url": "not a url"}, "url", id="bad-url"),
        pytest.param({k: v for k, v in GOOD.items() if k != "title"}, "title", id="missing"),
        pytest.param({**GOOD, "regions": ["atlantis"]}, "regions", id="bad-list-item"),
        pytest.param([GOOD], "non_field_errors", id="list-not-object"),
        pytest.param("a string", "non_field_errors", id="string-not-object"),
    ],
)
@pytest.mark.parametrize("idempotent", [False, True], ids=["plain", "idempotency-key"])
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    body, field, idempotent, data_a, api_a1
):
    before = _count(data_a.programme)
    extra = {"HTTP_IDEMPOTENCY_KEY": "bad-input-1"} if idempotent else {}

    response = _raw_post(api_a1, json.dumps(body), **extra)

    error = assert_error_shape(response, 400)
    assert any(name == field or name.startswith(field) for name in error["fields"]), error
    assert _count(data_a.programme) == before
    if idempotent:
        # A refused request is not kept: the same key may be used again once it is right.
        response = _raw_post(api_a1, json.dumps(GOOD), HTTP_IDEMPOTENCY_KEY="bad-input-1")
        assert response.status_code == 201


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('{"kind": "funding", ', id="truncated"),
        pytest.param("{'kind': 'funding'}", id="single-quotes"),
        pytest.param("NaN-garbage", id="garbage"),
        pytest.param(b'{"title": "\xed\xa0\x80"}', id="not-utf-8"),
    ],
)
def test_malformed_json_is_a_400(raw, data_a, api_a1):
    before = _count(data_a.programme)

    response = _raw_post(api_a1, raw)

    error = assert_error_shape(response, 400)
    assert error["code"] in ("parse_error", "invalid")
    if error["code"] == "parse_error":
        assert list(error["fields"]) == ["body"]  # the body is what could not be read
    assert _count(data_a.programme) == before


@pytest.mark.parametrize("method", ["post", "patch"])
def test_an_oversized_body_is_a_400(method, data_a, api_a1):
    before = _count(data_a.programme)
    body = {**GOOD, "summary": "x" * (65 * 1024)}
    url = "/api/v1/opportunities/"
    if method == "patch":
        url += f"{data_a.opportunity.uuid}/"

    response = getattr(api_a1, method)(url, body, format="json")

    assert assert_error_shape(response, 400)["code"] == "too_large"
    assert _count(data_a.programme) == before
    with scopes_disabled():
        assert Opportunity.objects.get(pk=data_a.opportunity.pk).summary != body["summary"]


def test_a_body_just_under_the_limit_is_read(data_a, api_a1):
    response = api_a1.post(
        "/api/v1/opportunities/", {**GOOD, "eligibility": "x" * 3000}, format="json"
    )
    assert response.status_code == 201


def _cursor(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not-base64!!", id="garbage"),
        pytest.param(_cursor("o=-5&r=1"), id="negative-offset"),
        pytest.param(_cursor("o=x"), id="offset-not-a-number"),
        # The position is the ordering field's value (a date, a uuid, a time): edited to SQL,
        # to another type or to nonsense, it must not reach the database as a 500.
        pytest.param(_cursor("r=0&p='; DROP TABLE--"), id="position-sql"),
        pytest.param(_cursor("r=0&p=2026-02-30"), id="position-bad-date"),
        pytest.param(_cursor("r=1&p=" + "9" * 40), id="position-huge-number"),
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/opportunities/",
        "/api/v1/fellows/",
        "/api/v1/mentors/",
        "/api/v1/events/",
        "/api/v1/metrics/snapshots/",
        "/api/v1/forecast/ventures/",
        "/api/v1/cohorts/",
    ],
)
def test_a_tampered_cursor_is_a_400_naming_cursor(path, cursor, data_a, api_a1):
    response = api_a1.get(path, {"cursor": cursor})

    assert_error_shape(response, 400, field_named="cursor")


def test_a_real_cursor_edited_is_a_400(data_a, api_a1):
    first = api_a1.get("/api/v1/fellows/", {"page_size": 1}).json()
    cursor = parse_qs(urlsplit(first["next"]).query)["cursor"][0]
    query = parse_qs(base64.b64decode(cursor).decode())
    query["p"] = ["not-a-uuid"]
    edited = base64.b64encode(urlencode(query, doseq=True).encode()).decode()

    assert_error_shape(
        api_a1.get("/api/v1/fellows/", {"cursor": edited}), 400, field_named="cursor"
    )


def test_a_cursor_offset_past_the_end_is_an_empty_page(data_a, api_a1):
    # DRF caps the offset (offset_cutoff): an absurd one reads nothing, it does not fail.
    response = api_a1.get("/api/v1/opportunities/", {"cursor": _cursor("o=" + "9" * 30)})
    assert response.status_code == 200 and response.json()["results"] == []


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/events/", {"from": "22/11/2026"}, "from"),
        ("/api/v1/events/", {"to": "2026-13-01"}, "to"),
        ("/api/v1/events/", {"from": "1999-12-31"}, "from"),
        ("/api/v1/events/", {"to": "2101-01-01"}, "to"),
        ("/api/v1/events/", {"from": "2027-01-02", "to": "2027-01-01"}, "to"),
        ("/api/v1/events/", {"from": "99999-01-01"}, "from"),
        ("/api/v1/events/", {"kind": "rave"}, "kind"),
        ("/api/v1/events/", {"region": "mars"}, "region"),
        ("/api/v1/events/", {"ordering": "title"}, "ordering"),
        ("/api/v1/events/", {"ordering": "-id; drop"}, "ordering"),
        ("/api/v1/opportunities/", {"ordering": "deadline"}, "ordering"),
        ("/api/v1/opportunities/", {"kind": "lottery"}, "kind"),
        ("/api/v1/fellows/", {"cohort": "not-a-uuid"}, "cohort"),
        ("/api/v1/metrics/snapshots/", {"metric": "happiness"}, "metric"),
        ("/api/v1/metrics/snapshots/", {"metric": "edi_gender"}, "metric"),
        ("/api/v1/metrics/snapshots/", {"cohort": "12"}, "cohort"),
        ("/api/v1/metrics/snapshots/", {"from": "2026-02-30"}, "from"),
        ("/api/v1/metrics/snapshots/", {"to": "0001-01-01"}, "to"),
        ("/api/v1/metrics/snapshots/", {"from": "1900-01-01"}, "from"),
    ],
)
def test_bad_query_parameters_are_a_400_naming_them(path, params, field, data_a, api_a1):
    response = api_a1.get(path, params)

    assert_error_shape(response, 400, field_named=field)


def test_good_dates_filter(data_a, api_a1):
    day = data_a.event.starts_at.date()
    shown = api_a1.get("/api/v1/events/", {"from": day.isoformat(), "to": day.isoformat()})
    assert [e["uuid"] for e in shown.json()["results"]] == [str(data_a.event.uuid)]
    later = (day + timedelta(days=1)).isoformat()
    assert api_a1.get("/api/v1/events/", {"from": later}).json()["results"] == []


def test_unknown_records_and_routes_are_404_in_the_error_shape(data_a, api_a1):
    assert_error_shape(api_a1.get("/api/v1/fellows/00000000-0000-0000-0000-000000000000/"), 404)
    assert_error_shape(api_a1.delete(f"/api/v1/opportunities/{data_a.opportunity.uuid}/"), 405)
    assert_error_shape(
        api_a1.put(f"/api/v1/opportunities/{data_a.opportunity.uuid}/", GOOD, format="json"), 405
    )


def test_a_body_that_is_not_json_is_a_415(data_a, api_a1):
    before = _count(data_a.programme)
    response = api_a1.post("/api/v1/opportunities/", "kind=funding", content_type="text/plain")
    assert_error_shape(response, 415)
    assert _count(data_a.programme) == before


# --- Idempotency-Key -------------------------------------------------------------------------


def test_a_replayed_post_gets_the_same_answer_and_makes_one_opportunity(data_a, api_a1):
    before = _count(data_a.programme)

    first = api_a1.post("/api/v1/opportunities/", GOOD, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = api_a1.post("/api/v1/opportunities/", GOOD, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert _count(data_a.programme) == before + 1


def test_a_reused_idempotency_key_with_another_body_is_a_400(data_a, api_a1):
    api_a1.post("/api/v1/opportunities/", GOOD, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    before = _count(data_a.programme)

    response = api_a1.post(
        "/api/v1/opportunities/",
        {**GOOD, "title": "Something else"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k2",
    )

    assert_error_shape(response, 400, field_named="Idempotency-Key")
    assert _count(data_a.programme) == before


def test_idempotency_keys_belong_to_one_api_key(data_a, api_a1, api_a2):
    before = _count(data_a.programme)
    api_a1.post("/api/v1/opportunities/", GOOD, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    other = api_a2.post(
        "/api/v1/opportunities/", GOOD, format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )

    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    assert other.json()["organisation"]["uuid"] == str(data_a.other_partner.uuid)
    assert _count(data_a.programme) == before + 2


def test_an_overlong_idempotency_key_is_a_400(data_a, api_a1):
    response = api_a1.post(
        "/api/v1/opportunities/", GOOD, format="json", HTTP_IDEMPOTENCY_KEY="k" * 201
    )
    assert_error_shape(response, 400, field_named="Idempotency-Key")


# --- ETags -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/programme/", "/api/v1/opportunities/", "/api/v1/metrics/", "detail"]
)
def test_a_matching_if_none_match_gets_304(path, data_a, api_a1):
    if path == "detail":
        path = f"/api/v1/opportunities/{data_a.opportunity.uuid}/"
    first = api_a1.get(path)
    etag = first["ETag"]

    cached = api_a1.get(path, HTTP_IF_NONE_MATCH=etag)
    assert cached.status_code == 304
    assert cached["ETag"] == etag
    assert cached.content == b""
    assert api_a1.get(path, HTTP_IF_NONE_MATCH=f'"other", {etag}').status_code == 304
    assert api_a1.get(path, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_the_etag_changes_when_the_data_does(data_a, api_a1):
    path = f"/api/v1/opportunities/{data_a.opportunity.uuid}/"
    etag = api_a1.get(path)["ETag"]

    api_a1.patch(path, {"title": "New title"}, format="json")

    changed = api_a1.get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["title"] == "New title"


# --- Cursor pagination -----------------------------------------------------------------------


def _walk(api, path, **params):
    seen, url, pages = [], path, 0
    query = {**params}
    while url:
        response = api.get(url, query)
        assert response.status_code == 200, response.content[:300]
        page = response.json()
        assert len(page["results"]) <= params.get("page_size", 50)
        seen += [row["uuid"] for row in page["results"]]
        url, query, pages = page["next"], {}, pages + 1
        assert pages < 100
    return seen


@pytest.mark.parametrize("ordering", [None, "starts_at", "-starts_at"])
def test_the_cursor_walks_every_event_once(ordering, data_a, api_a1):
    from ..factories import EventFactory

    with scope(programme=data_a.programme):
        start = timezone.now() + timedelta(days=3)
        # Some events start at the same moment: the cursor must still not skip or repeat.
        made = [
            EventFactory(programme=data_a.programme, starts_at=start + timedelta(days=n // 2))
            for n in range(9)
        ]
    expected = {str(e.uuid) for e in [*made, data_a.event]}

    params = {"page_size": 2, **({"ordering": ordering} if ordering else {})}
    seen = _walk(api_a1, "/api/v1/events/", **params)

    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == expected


def test_the_cursor_walks_every_opportunity_once(data_a, api_a1):
    with scope(programme=data_a.programme):
        for _ in range(9):
            OpportunityFactory(programme=data_a.programme)
    everything = api_a1.get("/api/v1/opportunities/", {"page_size": 200}).json()["results"]

    seen = _walk(api_a1, "/api/v1/opportunities/", page_size=2)

    assert len(seen) == len(set(seen)) == len(everything) >= 13
    assert set(seen) == {row["uuid"] for row in everything}


def test_the_cursor_walks_back_with_previous(data_a, api_a1):
    with scope(programme=data_a.programme):
        for _ in range(5):
            OpportunityFactory(programme=data_a.programme)
    first = api_a1.get("/api/v1/opportunities/", {"page_size": 2}).json()
    second = api_a1.get(first["next"]).json()
    back = api_a1.get(second["previous"]).json()
    assert back["results"] == first["results"]


def test_page_size_is_capped_at_200(data_a, api_a1):
    with scope(programme=data_a.programme):
        Opportunity.objects.bulk_create(
            [
                Opportunity(
                    programme=data_a.programme,
                    kind="funding",
                    title=f"Bulk {n}",
                    summary="s",
                    url="https://example.org/",
                    status="published",
                )
                for n in range(205)
            ]
        )

    page = api_a1.get("/api/v1/opportunities/", {"page_size": 1000}).json()

    assert len(page["results"]) == 200
    assert page["next"]


@pytest.mark.parametrize("size", ["0", "-3", "abc", "2.5"])
def test_a_nonsense_page_size_falls_back_to_the_default(size, data_a, api_a1):
    response = api_a1.get("/api/v1/opportunities/", {"page_size": size})
    assert response.status_code == 200


# --- Throttling ------------------------------------------------------------------------------


def test_a_key_over_its_rate_gets_429_and_others_do_not(throttle_rate, data_a, api_a1, api_a2):
    throttle_rate("3/minute")
    for _ in range(3):
        assert api_a1.get("/api/v1/programme/").status_code == 200

    response = api_a1.get("/api/v1/programme/")

    assert assert_error_shape(response, 429)["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60
    assert api_a2.get("/api/v1/programme/").status_code == 200
    # A throttled POST writes nothing.
    before = _count(data_a.programme)
    assert api_a1.post("/api/v1/opportunities/", GOOD, format="json").status_code == 429
    assert _count(data_a.programme) == before


# --- The record of every use -----------------------------------------------------------------


def test_every_use_is_recorded_with_method_path_and_status(data_a, key_a1, api_a1):
    key, _ = key_a1
    assert key.last_used_at is None

    api_a1.get("/api/v1/fellows/?page_size=5")
    api_a1.post("/api/v1/opportunities/", {"colour": "red"}, format="json")
    api_a1.get("/api/v1/fellows/00000000-0000-0000-0000-000000000000/")

    with scopes_disabled():
        uses = list(
            PartnerKeyUse.objects.filter(key=key)
            .order_by("id")
            .values_list("method", "path", "status", "programme_id")
        )
        key = PartnerKey.objects.get(pk=key.pk)
    assert uses == [
        ("GET", "/api/v1/fellows/?page_size=5", 200, data_a.programme.pk),
        ("POST", "/api/v1/opportunities/", 400, data_a.programme.pk),
        ("GET", "/api/v1/fellows/00000000-0000-0000-0000-000000000000/", 404, data_a.programme.pk),
    ]
    assert timezone.now() - key.last_used_at < timedelta(minutes=1)


def test_refused_scopes_are_recorded_too(data_a, make_key, partner_a1):
    key, secret = make_key(partner_a1, scopes=["metrics:read"])
    client_with(secret).get("/api/v1/fellows/")
    with scopes_disabled():
        assert list(PartnerKeyUse.objects.filter(key=key).values_list("status", flat=True)) == [403]


# --- Opportunities: post, change, close ------------------------------------------------------


def test_a_posted_opportunity_is_published_owned_and_audited(data_a, api_a1):
    response = api_a1.post(
        "/api/v1/opportunities/",
        {**GOOD, "tags": ["AI", "ai", "Diagnostics"], "regions": ["london"]},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "published" and body["yours"] is True
    assert body["organisation"] == {"uuid": str(data_a.partner.uuid), "name": data_a.partner.name}
    with scopes_disabled():
        opportunity = Opportunity.objects.get(uuid=body["uuid"])
        actions = dict(
            AuditEvent.objects.filter(target_id=str(opportunity.uuid)).values_list("action", "via")
        )
    assert opportunity.organisation == data_a.partner
    assert opportunity.programme == data_a.programme
    assert actions == {"opportunity.created": "api", "opportunity.published": "api"}
    # Fellows see it: it is in everyone's list.
    assert body["uuid"] in str(api_a1.get("/api/v1/opportunities/?page_size=200").json())


def test_a_patch_changes_only_the_fields_sent(data_a, api_a1):
    url = f"/api/v1/opportunities/{data_a.opportunity.uuid}/"
    before = api_a1.get(url).json()

    response = api_a1.patch(url, {"title": "Renamed call", "amount": "Up to £5,000"}, format="json")

    assert response.status_code == 200, response.content
    after = response.json()
    assert after["title"] == "Renamed call" and after["amount"] == "Up to £5,000"
    unchanged = {k: v for k, v in before.items() if k not in ("title", "amount")}
    assert {k: after[k] for k in unchanged} == unchanged
    with scopes_disabled():
        change = AuditEvent.objects.get(action="opportunity.changed")
    assert change.via == "api"


def test_a_patch_with_an_unknown_field_changes_nothing(data_a, api_a1):
    url = f"/api/v1/opportunities/{data_a.opportunity.uuid}/"
    before = api_a1.get(url).json()

    response = api_a1.patch(url, {"title": "Renamed", "status": "closed"}, format="json")

    assert_error_shape(response, 400, field_named="status")
    assert api_a1.get(url).json() == before


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"why": "filled"}])
def test_closing_needs_a_reason(body, data_a, api_a1):
    url = f"/api/v1/opportunities/{data_a.opportunity.uuid}/close/"

    response = api_a1.post(url, body, format="json")

    error = assert_error_shape(response, 400)
    assert "reason" in error["fields"] or "why" in error["fields"]
    with scopes_disabled():
        assert Opportunity.objects.get(pk=data_a.opportunity.pk).status == "published"


def test_closing_with_a_reason_closes_and_audits_it(data_a, api_a1):
    url = f"/api/v1/opportunities/{data_a.opportunity.uuid}/close/"

    response = api_a1.post(url, {"reason": "The places are filled."}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "closed" and response.json()["closed_at"]
    with scopes_disabled():
        event = AuditEvent.objects.get(action="opportunity.closed")
    assert event.via == "api" and event.changes["reason"] == "The places are filled."
    # Closing twice is refused, in the shape.
    assert_error_shape(api_a1.post(url, {"reason": "Again"}, format="json"), 400)


def test_an_unknown_api_address_is_a_json_404(client):
    response = client.get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
