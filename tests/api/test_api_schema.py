"""The partner API's OpenAPI schema (DESIGN §9): it validates without a warning, documents every
operation and its errors, the docs page shows every path, and the API keeps to it — schemathesis
fuzzes every operation of the live schema in-process (WSGI) and checks for server errors,
undocumented status codes and answers that break the documented response schema."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from django.core.management import call_command
from django.utils.html import escape
from django_scopes import scope
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application

from .conftest import client_with

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("api-schema")]

OPERATIONS = ("get", "post", "patch", "put", "delete")


def _schema() -> dict:
    return SchemaGenerator(api_version="v1").get_schema(request=None, public=True)


def test_the_schema_validates_without_warnings(tmp_path):
    # As `manage.py spectacular --validate --fail-on-warn` in CI: any warning is an error.
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--api-version",
        "v1",
        "--file",
        str(tmp_path / "schema.yaml"),
    )
    validate_schema(_schema())


def _operations():
    for url, methods in _schema()["paths"].items():
        for method, operation in methods.items():
            if method in OPERATIONS:
                yield url, method, operation


@pytest.mark.parametrize(
    ("url", "method", "operation"),
    [pytest.param(u, m, o, id=f"{m.upper()} {u}") for u, m, o in _operations()],
)
def test_every_operation_is_described_and_documents_its_errors(url, method, operation):
    if url.endswith("/schema/"):
        # drf-spectacular's own view: public, described by drf-spectacular.
        assert operation.get("description")
        return
    assert operation.get("summary"), f"{method.upper()} {url}: give it a summary (extend_schema)"
    assert operation.get("description") or url.count("{") == 1, (
        f"{method.upper()} {url}: describe what it returns and the scope it needs"
    )
    assert operation.get("security") == [{"ApiKey": []}], operation.get("security")
    for code in ("401", "403", "429"):
        response = operation["responses"].get(code)
        assert response, f"{method.upper()} {url} does not document {code}"
        assert response["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


def test_the_docs_page_lists_every_path(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    body = response.content.decode()
    for url, _method, operation in _operations():
        assert url in body, f"/api/v1/docs/ does not show {url}"
        summary = escape(operation.get("summary", ""))
        assert summary in body, f"/api/v1/docs/ does not show {summary!r}"


# --- Fuzzing the live schema -------------------------------------------------------------------

# The live schema, as a partner's tools would fetch it.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI app is called directly, not through Django's test Client, so its
    request_started/request_finished signals would close the database connection after each
    request — on PostgreSQL that is the connection holding the test's transaction. Django's
    Client disconnects close_old_connections in the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_key(data_a, data_b, make_key, partner_a1) -> str:
    """A key with every scope, for a programme seeded with a little of everything."""
    return make_key(partner_a1)[1]


@pytest.fixture
def real_uuids(data_a) -> dict[str, str]:
    """A record of programme A per collection, so that some requests by uuid hit one."""
    return {
        "cohorts": str(data_a.cohort.uuid),
        "mentors": str(data_a.mentor.uuid),
        "fellows": str(data_a.fellow.uuid),
        "ventures": str(data_a.venture.uuid),
        "events": str(data_a.event.uuid),
        "opportunities": str(data_a.opportunity.uuid),
    }


def _aim_at_a_record(case, real_uuids):
    """Half the generated uuids (chosen by the uuid itself, so runs repeat) are swapped for a
    real record, so that the answers with data are checked too, not only 404s."""
    value = (case.path_parameters or {}).get("uuid")
    if value is None:
        return
    collection = case.operation.path.split("/")[3]
    try:
        even = uuid.UUID(str(value)).int % 2 == 0
    except ValueError:
        even = False
    if even and collection in real_uuids:
        case.path_parameters["uuid"] = real_uuids[collection]


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_to_its_schema(case, fuzz_key, real_uuids, data_a):
    _aim_at_a_record(case, real_uuids)
    response = case.call_and_validate(
        headers={"Authorization": f"Api-Key {fuzz_key}"},
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )
    if response.status_code >= 400:
        assert set(response.json()) == {"error"}, response.text[:300]
    # Whatever was sent, nothing is half-written: the API publishes what it creates at once,
    # so the partner's only draft stays the one the fixture made.
    from events.models import Opportunity

    with scope(programme=data_a.programme):
        drafts = Opportunity.objects.filter(organisation=data_a.partner, status="draft")
        assert list(drafts) == [data_a.draft_opportunity]


def test_the_fuzzing_key_really_reads(fuzz_key):
    # Guards the fuzzing above against passing on nothing but 401s.
    assert client_with(fuzz_key).get("/api/v1/cohorts/").status_code == 200
