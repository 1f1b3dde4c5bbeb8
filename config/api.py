"""The partner API's routes (/api/v1/) and its documentation. Each app's api.py holds its
endpoints; the plumbing (keys, scopes, errors, pagination) is cohort/partner_api.py."""

from django.shortcuts import render
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from cohort.api import CohortViewSet, FellowViewSet, MentorViewSet, ProgrammeViewSet, VentureViewSet
from events.api import EventViewSet, OpportunityViewSet
from metrics.api import ForecastViewSet, MetricViewSet
from notifications.api import WebhookEndpointViewSet

router = SimpleRouter(trailing_slash=True, use_regex_path=False)
router.register("programme", ProgrammeViewSet, basename="programme")
router.register("cohorts", CohortViewSet, basename="cohort")
router.register("metrics", MetricViewSet, basename="metric")
router.register("forecast", ForecastViewSet, basename="forecast")
router.register("mentors", MentorViewSet, basename="mentor")
router.register("fellows", FellowViewSet, basename="fellow")
router.register("ventures", VentureViewSet, basename="venture")
router.register("events", EventViewSet, basename="event")
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")


def docs_view(request):
    """The API documented for people: every endpoint, parameter, field, error and scope, read
    from the same OpenAPI schema as /api/v1/schema/ and drawn as an NHS.UK page (no script
    from elsewhere, so the strict Content-Security-Policy holds)."""
    schema = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    return render(request, "api/docs.html", {"schema": schema, "operations": _operations(schema)})


def _operations(schema) -> list[dict]:
    components = schema.get("components", {}).get("schemas", {})
    operations = []
    for url, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            responses = []
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {}).get("application/json", {})
                responses.append(
                    {
                        "code": code,
                        "description": response.get("description", ""),
                        "fields": _fields(content.get("schema", {}), components),
                    }
                )
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            operations.append(
                {
                    "id": operation.get("operationId", ""),
                    "method": method.upper(),
                    "url": url,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": operation.get("parameters", []),
                    "request": _fields(body.get("schema", {}), components),
                    "responses": responses,
                }
            )
    return operations


# Words for fields the serializers leave undescribed (mostly model fields named for what
# they are), so the page describes every field.
FIELD_WORDS = {
    "next": "Link to the next page; null on the last page.",
    "previous": "Link to the previous page; null on the first page.",
    "results": "The items of this page.",
    "uuid": "The record's identifier (stable; use it to fetch the record).",
    "name": "Its name.",
    "slug": "The programme's short name, as in its web addresses.",
    "title": "Its title.",
    "summary": "A short description.",
    "description": "A longer description.",
    "kind": "What kind it is (one of the listed values).",
    "starts_on": "First day (ISO 8601 date).",
    "ends_on": "Last day (ISO 8601 date).",
    "starts_at": "When it starts (ISO 8601, UTC).",
    "ends_at": "When it ends (ISO 8601, UTC).",
    "created_at": "When it was made (ISO 8601, UTC).",
    "computed_at": "When the figure was computed (ISO 8601, UTC).",
    "closed_at": "When it was closed (ISO 8601, UTC); null while open.",
    "period_start": "The first day the figure covers.",
    "period_end": "The last day the figure covers.",
    "breakdown": "The figure split by kind or category: {part: [numerator, denominator]}.",
    "status": "Where it stands (one of the listed values).",
    "url": "A web address.",
    "region": "NHS England region.",
    "time_zone": "The IANA time zone the event is held in, such as Europe/London.",
    "is_online": "True when held online.",
    "capacity": "Places in all; null when there is no limit.",
    "tags": "Free-text tags.",
    "professions": "Professions it is open to; empty: every profession.",
    "sectors": "Venture sectors it suits; empty: any.",
    "stages": "Venture stages it suits; empty: any.",
    "regions": "Regions it is open to; empty: everywhere.",
    "seed": "The random seed the forecast was made with (same inputs and seed: same numbers).",
    "ventures_count": "How many ventures the forecast sums.",
    "job_title": "Their job title.",
    "expertise": "What they can help with.",
    "profession": "Their profession (one of the listed values).",
    "grade": "Their grade, such as ST4 or Band 7.",
    "specialty": "Their specialty.",
    "stage": "The venture's stage (one of the listed values).",
    "sector": "The venture's sector (one of the listed values).",
    "company_number": "Companies House number, if incorporated.",
    "code": "A stable, machine-readable code.",
    "message": "What went wrong, in words.",
}


def _resolve(schema, components, depth=0):
    if depth > 8:
        return {}
    if "$ref" in schema:
        return _resolve(
            components.get(schema["$ref"].rsplit("/", 1)[-1], {}), components, depth + 1
        )
    if schema.get("allOf"):
        merged = {"properties": {}}
        for part in schema["allOf"]:
            merged["properties"].update(_resolve(part, components, depth + 1).get("properties", {}))
        return merged
    return schema


def _fields(schema, components, prefix="", depth=0) -> list[dict]:
    schema = _resolve(schema, components)
    if schema.get("type") == "array":
        return _fields(schema.get("items", {}), components, prefix + "[]", depth)
    fields = []
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        prop_resolved = _resolve(prop, components)
        kind = prop_resolved.get("type") or ("object" if "properties" in prop_resolved else "")
        if prop_resolved.get("format"):
            kind += f" ({prop_resolved['format']})"
        if prop_resolved.get("enum"):
            kind += ": " + ", ".join(str(v) for v in prop_resolved["enum"] if v not in ("", None))
        fields.append(
            {
                "name": f"{prefix}{name}" if not prefix else f"{prefix}.{name}",
                "type": kind,
                "required": name in required,
                "nullable": bool(prop_resolved.get("nullable")),
                "description": prop.get("description")
                or prop_resolved.get("description")
                or FIELD_WORDS.get(name, ""),
            }
        )
        if depth < 2 and ("properties" in prop_resolved or prop_resolved.get("type") == "array"):
            fields += _fields(
                prop_resolved,
                components,
                f"{prefix}{name}" if not prefix else f"{prefix}.{name}",
                depth + 1,
            )
    return fields


urlpatterns_v1 = [
    path("", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("docs/", docs_view, name="docs"),
]
