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
                "description": prop.get("description") or prop_resolved.get("description", ""),
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
