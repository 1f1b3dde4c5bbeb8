"""The plumbing of the partner API (DESIGN §9), shared by every app's api.py: API-key
authentication that names the tenant, scopes, one JSON shape for every error, cursor
pagination that refuses a tampered cursor, throttling per key, ETags on reads, the
Idempotency-Key header on POST, and a record of every use of a key.

Each endpoint is a `PartnerViewSet` that declares the scope it needs; the key's programme is
the active django-scopes scope for the whole request, so a partner can only ever read rows of
its own programme.
"""

from __future__ import annotations

import hashlib
import json

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import exception_handler

from .models import ApiScope, IdempotentRequest, PartnerKey, PartnerKeyUse

KEYWORD = "Api-Key"
# Partner requests are small JSON objects; anything bigger is refused before it is read.
MAX_BODY_BYTES = 64 * 1024


class PartnerKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <key>`. A wrong, revoked or expired key is refused with 401 at
    once; the key's programme becomes the tenant of the request."""

    def authenticate(self, request):
        header = get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, secret = header.partition(" ")
        if scheme != KEYWORD or not secret.strip():
            raise exceptions.AuthenticationFailed(
                f"Send the key as 'Authorization: {KEYWORD} <key>'.", code="bad_credentials"
            )
        from rest_framework_api_key.crypto import KeyGenerator

        prefix = secret.strip().partition(".")[0]
        with scopes_disabled():
            key = (
                PartnerKey.objects.select_related("programme", "organisation")
                .filter(prefix=prefix)
                .first()
            )
        if key is None or not KeyGenerator().verify(secret.strip(), key.hashed_key):
            raise exceptions.AuthenticationFailed("This API key is not valid.", code="invalid_key")
        if key.is_revoked:
            raise exceptions.AuthenticationFailed("This API key was revoked.", code="revoked_key")
        if key.is_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.", code="expired_key")
        from django.contrib.auth.models import AnonymousUser

        return AnonymousUser(), key

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) when no key or a bad key is sent.
        return KEYWORD


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "cohort.partner_api.PartnerKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                f"`Authorization: {KEYWORD} <key>`. Programme staff create keys for a partner "
                "organisation, with scopes and an expiry of at most 12 months. Scopes: "
                + "; ".join(f"`{s.value}`: {s.label}" for s in ApiScope)
                + ". A missing, wrong, revoked or expired key gets 401; a key without the "
                "scope an endpoint needs gets 403."
            ),
        }


class HasScope(BasePermission):
    """The key must carry the scope the view (or its action) declares."""

    message = "This API key does not have the scope this endpoint needs."

    def has_permission(self, request, view):
        key = request.auth
        if not isinstance(key, PartnerKey):
            raise exceptions.NotAuthenticated(
                f"Send an API key as 'Authorization: {KEYWORD} <key>'."
            )
        needed = view.scopes_for(request)
        if needed and not set(needed) & set(key.scopes):
            self.message = (
                "This API key does not have the scope this endpoint needs: "
                + " or ".join(needed)
                + "."
            )
            return False
        return True


class KeyRateThrottle(SimpleRateThrottle):
    """Requests per API key (each key has its own allowance)."""

    scope = "partner_key"

    def get_cache_key(self, request, view):
        key = request.auth
        if not isinstance(key, PartnerKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": key.prefix}


class SafeCursorPagination(CursorPagination):
    """Cursor pagination (stable under inserts); a cursor that was tampered with is a 400
    naming the `cursor` parameter, not a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-created_at"

    def get_ordering(self, request, queryset, view):
        """The view's own order (`cursor_ordering`), or one the client picks from the
        view's `ordering_choices` with `?ordering=`; always ending on a unique field."""
        default = tuple(getattr(view, "cursor_ordering", None) or (self.ordering,))
        wanted = request.query_params.get("ordering")
        if not wanted:
            return default
        choices = getattr(view, "ordering_choices", ())
        if wanted not in choices:
            allowed = ", ".join(choices) if choices else "none"
            raise exceptions.ValidationError(
                {"ordering": [f"Order by one of: {allowed}."]}, code="invalid"
            )
        return (wanted, "-id" if wanted.startswith("-") else "id")

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise _bad_cursor() from None

    def paginate_queryset(self, queryset, request, view=None):
        # A cursor's position is the ordering field's value, base64-encoded but not signed: one
        # edited to a value of the wrong type ("p=abc" for a date or a uuid) fails only when the
        # page is read, as a Django ValidationError or a ValueError — a 500 unless named here.
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            if not request.query_params.get(self.cursor_query_param):
                raise
            raise _bad_cursor() from None


def _bad_cursor() -> exceptions.ValidationError:
    return exceptions.ValidationError(
        {"cursor": ["This cursor is not one the API gave: start again without it."]}
    )


class ErrorSerializer(serializers.Serializer):
    """Every error the API returns has this shape."""

    class Body(serializers.Serializer):
        code = serializers.CharField(help_text="A stable, machine-readable code.")
        message = serializers.CharField(help_text="What went wrong, in words.")
        fields = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text="For a 400: each offending field (or parameter) and what is wrong with it.",
        )

    error = Body()


def _flatten(detail, prefix="") -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for name, value in detail.items():
            key = f"{prefix}.{name}" if prefix else str(name)
            for field, messages in _flatten(value, key).items():
                fields.setdefault(field, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            fields[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                fields.update(_flatten(item, f"{prefix}[{index}]"))
    else:
        fields[prefix or "non_field_errors"] = [str(detail)]
    return fields


def api_exception_handler(exc, context):
    """Every error as {"error": {"code", "message", "fields"}}: the same shape for a bad
    field, a missing key, a forbidden scope, an unknown record or too many requests."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("There is no such record.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None
    fields = {}
    if isinstance(exc, exceptions.ValidationError):
        code, message = "invalid", "The request has errors: see `fields`."
        fields = _flatten(exc.detail)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        message = str(detail)
        if isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType):
            # Nothing in the body could be read: the body itself is what is wrong.
            fields = {"body": [message]}
    response.data = {"error": {"code": code, "message": message, "fields": fields}}
    return response


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know (a typo is an error, not a
    silently ignored value)."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise exceptions.ValidationError(
                {"non_field_errors": ["Send a JSON object."]}, code="invalid"
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise exceptions.ValidationError(
                {name: ["This field is not part of this request."] for name in unknown}
            )
        return super().to_internal_value(data)


def _etag(data) -> str:
    body = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


class PartnerAutoSchema(AutoSchema):
    """The schema of a partner endpoint. An action the view answers with a whole list (the
    metrics, the forecasts, the equality tables) says so in `unpaginated_actions`, so the
    schema promises a plain array and no `cursor`/`page_size`, as the view answers."""

    def _get_paginator(self):
        if self.view.action in getattr(self.view, "unpaginated_actions", ()):
            return None
        return super()._get_paginator()


class PartnerViewSet(viewsets.GenericViewSet):
    """The base of every partner endpoint: the key's programme is the active scope, reads
    carry an ETag (a matching If-None-Match gets 304), every use of the key is recorded."""

    authentication_classes = [PartnerKeyAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [KeyRateThrottle]
    pagination_class = SafeCursorPagination
    lookup_field = "uuid"
    lookup_value_converter = "uuid"
    schema = PartnerAutoSchema()
    # Actions that answer with the whole list rather than a page of it (see PartnerAutoSchema).
    unpaginated_actions: tuple[str, ...] = ()
    # The scope(s) the endpoint needs; any one of them will do. `action_scopes` overrides it
    # per action (a POST that writes needs more than the list).
    required_scopes: tuple[str, ...] = ()
    action_scopes: dict[str, tuple[str, ...]] = {}

    def scopes_for(self, request) -> tuple[str, ...]:
        return self.action_scopes.get(self.action, self.required_scopes)

    @property
    def programme(self):
        return self.request.auth.programme

    @property
    def organisation(self):
        return self.request.auth.organisation

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise exceptions.ParseError("The Content-Length header is not a number.") from None
        if length > MAX_BODY_BYTES:
            raise exceptions.ParseError(
                f"The request body is larger than {MAX_BODY_BYTES // 1024} KB.", code="too_large"
            )
        # Authenticated and allowed: from here on every query is scoped to the key's programme.
        self._tenant = scope(programme=request.auth.programme)
        self._tenant.__enter__()

    def finalize_response(self, request, response, *args, **kwargs):
        tenant = getattr(self, "_tenant", None)
        if tenant is not None:
            tenant.__exit__(None, None, None)
            self._tenant = None
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            etag = _etag(response.data)
            response["ETag"] = etag
            response["Cache-Control"] = "private, no-cache"
            wanted = request.headers.get("If-None-Match", "")
            if etag in [tag.strip() for tag in wanted.split(",")]:
                response = Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
                response = super().finalize_response(request, response, *args, **kwargs)
        key = getattr(request, "_auth", None)
        if isinstance(key, PartnerKey):
            _record_use(key, request, response.status_code)
        return response


def _record_use(key: PartnerKey, request, status_code: int) -> None:
    now = timezone.now()
    with scopes_disabled():
        PartnerKeyUse.objects.create(
            programme_id=key.programme_id,
            key=key,
            at=now,
            method=request.method,
            path=request.get_full_path()[:300],
            status=status_code,
        )
        PartnerKey.objects.filter(pk=key.pk).update(last_used_at=now)


class IdempotentCreateMixin:
    """POST with an `Idempotency-Key` header: the first request does the work and its answer
    is kept; the same key with the same body gets the same answer again, the same key with a
    different body gets 400 naming the header."""

    def create(self, request, *args, **kwargs):
        idempotency_key = request.headers.get("Idempotency-Key", "").strip()
        if not idempotency_key:
            return self.perform_idempotent_create(request)
        if len(idempotency_key) > 200:
            raise exceptions.ValidationError(
                {"Idempotency-Key": ["Use a key of 200 characters or fewer."]}
            )
        body_hash = hashlib.sha256(
            json.dumps(request.data, sort_keys=True, default=str).encode()
        ).hexdigest()
        earlier = IdempotentRequest.objects.filter(
            key=request.auth, idempotency_key=idempotency_key
        ).first()
        if earlier is not None:
            return _replay(earlier, body_hash)
        try:
            with transaction.atomic():
                response = self.perform_idempotent_create(request)
                IdempotentRequest.objects.create(
                    programme=request.auth.programme,
                    key=request.auth,
                    idempotency_key=idempotency_key,
                    request_hash=body_hash,
                    status=response.status_code,
                    body=json.loads(json.dumps(response.data, default=str)),
                )
        except IntegrityError:
            # The same key raced in at the same moment: answer as the one that won.
            earlier = IdempotentRequest.objects.get(
                key=request.auth, idempotency_key=idempotency_key
            )
            return _replay(earlier, body_hash)
        return response


def _replay(earlier: IdempotentRequest, body_hash: str) -> Response:
    if earlier.request_hash != body_hash:
        raise exceptions.ValidationError(
            {
                "Idempotency-Key": [
                    "This key was used for a different request: use a new key for new data."
                ]
            },
            code="idempotency_key_reused",
        )
    response = Response(earlier.body, status=earlier.status)
    response["Idempotent-Replayed"] = "true"
    return response


# --- reading a request: one way for every endpoint ----------------------------------------------


def uuid_param(name: str, value: str):
    """A query parameter that names a record by uuid; anything else is a 400 naming it."""
    import uuid

    try:
        return uuid.UUID(value)
    except ValueError:
        raise exceptions.ValidationError(
            {name: ["Give a uuid, as the API returns them."]}
        ) from None


def date_param(request, name: str):
    """A YYYY-MM-DD query parameter between 2000 and 2100, or None when it is not given."""
    from datetime import date

    value = request.query_params.get(name)
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise exceptions.ValidationError(
            {name: ["Give a date as YYYY-MM-DD, such as 2026-11-22."]}
        ) from None
    if not 2000 <= day.year <= 2100:
        raise exceptions.ValidationError({name: ["Give a date between 2000 and 2100."]})
    return day


def choice_param(request, name: str, choices):
    """A query parameter that must be one of `choices`, or None when it is not given."""
    value = request.query_params.get(name)
    if value and value not in dict(choices):
        raise exceptions.ValidationError({name: [f"Choose one of: {', '.join(dict(choices))}."]})
    return value


def validated(serializer_class, data) -> dict:
    """The body checked by an input serializer (a 400 naming each bad field otherwise)."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def model_errors(error) -> exceptions.ValidationError:
    """A service's Django ValidationError as the API's 400, field by field."""
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError(
            {field: [str(m) for m in messages] for field, messages in error.message_dict.items()}
        )
    return exceptions.ValidationError({"non_field_errors": [str(m) for m in error.messages]})
