"""Partner API endpoints of the notifications app: a partner's webhook endpoints (register,
list, look at, delete) and the history of what was sent to each. Any valid key may manage its
organisation's endpoints; what an endpoint receives depends on the scopes of the key that
registered it (see notifications.webhooks)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from cohort.api import ERRORS
from cohort.partner_api import (
    ErrorSerializer,
    PartnerViewSet,
    StrictInputSerializer,
    model_errors,
)

from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from .webhooks import webhook_endpoint_create, webhook_endpoint_disable

WRITE_ERRORS = {400: ErrorSerializer, **ERRORS}

EVENTS_HELP = (
    "Events: `opportunity.created` and `opportunity.closed` (keys with `events:read` or "
    "`opportunities:write`), `metrics.published` (keys with `metrics:read`), "
    "`milestone.signed_off` (a milestone signed off by one of your organisation's mentors). "
    "An event the registering key may not see is never sent."
)
SIGNING_HELP = (
    "Each delivery is a POST of JSON `{id, event, created_at, programme, data}` with headers "
    "`Pitwall-Event`, `Pitwall-Delivery` (the delivery's UUID), `Pitwall-Timestamp` (Unix "
    "seconds) and `Pitwall-Signature: sha256=<hex>`, the HMAC-SHA256 of "
    '`"{timestamp}.{body}"` under the endpoint\'s secret. Check it, and refuse an old '
    "timestamp. Answer 2xx within 5 seconds; anything else is tried again after 1, 2, 4 … "
    "minutes (an hour at most), 8 tries in all."
)


class WebhookEndpointOut(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        help_text="The events sent to this endpoint.",
    )
    key = serializers.CharField(
        source="key.prefix", help_text="The prefix of the API key that registered it."
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["uuid", "url", "events", "key", "active", "created_at"]
        extra_kwargs = {
            "url": {"help_text": "Where the events are POSTed."},
            "active": {"help_text": "True while events are sent to it."},
        }


class WebhookEndpointCreatedOut(WebhookEndpointOut):
    secret = serializers.CharField(
        help_text="The signing secret. It is shown this once: keep it safe."
    )

    class Meta(WebhookEndpointOut.Meta):
        fields = [*WebhookEndpointOut.Meta.fields, "secret"]


class WebhookEndpointIn(StrictInputSerializer):
    """What a partner sends to register an endpoint."""

    url = serializers.CharField(
        max_length=500, help_text="An https:// address that accepts POSTed JSON."
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        allow_empty=False,
        max_length=len(WebhookEvent.values),
        help_text="The events to send to it.",
    )


class WebhookDeliveryOut(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "uuid",
            "event",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "created_at",
            "delivered_at",
            "payload",
        ]
        extra_kwargs = {
            "event": {"help_text": "The event sent (one of the listed values)."},
            "status": {
                "help_text": "pending: not sent yet; sent: answered 2xx; failed: will be "
                "tried again at `next_attempt_at`; given_up: every try failed."
            },
            "attempts": {"help_text": "How many times it was POSTed."},
            "last_status_code": {
                "help_text": "The HTTP status of the last try; null if none answered."
            },
            "last_error": {"help_text": "What went wrong at the last try; empty if nothing."},
            "next_attempt_at": {"help_text": "When the next try is due (ISO 8601, UTC)."},
            "created_at": {"help_text": "When the event happened (ISO 8601, UTC)."},
            "delivered_at": {
                "help_text": "When the endpoint accepted it (ISO 8601, UTC); null until then."
            },
            "payload": {"help_text": "The event's data: the `data` of the POSTed body."},
        }


@extend_schema_view(
    list=extend_schema(
        summary="Your webhook endpoints",
        description="Your organisation's endpoints in use, newest first. Any valid key.",
        responses={200: WebhookEndpointOut(many=True), 400: ErrorSerializer, **ERRORS},
    ),
    retrieve=extend_schema(
        summary="One of your webhook endpoints", responses={200: WebhookEndpointOut, **ERRORS}
    ),
    create=extend_schema(
        summary="Register a webhook endpoint",
        description="Registers an https:// address to be told of events. The answer holds the "
        "signing secret, shown this once. " + EVENTS_HELP + " " + SIGNING_HELP,
        request=WebhookEndpointIn,
        responses={201: WebhookEndpointCreatedOut, **WRITE_ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete a webhook endpoint",
        description="Stops sending to it at once; deliveries still waiting are not sent.",
        responses={204: None, **ERRORS},
    ),
    deliveries=extend_schema(
        summary="What was sent to an endpoint",
        description="Its deliveries, newest first: the event, the data, how many tries, the "
        "last answer or error, and when the next try is due.",
        responses={200: WebhookDeliveryOut(many=True), 400: ErrorSerializer, **ERRORS},
    ),
)
class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    PartnerViewSet,
):
    serializer_class = WebhookEndpointOut
    # Any valid key manages its organisation's endpoints; scopes decide what they receive.
    required_scopes = ()
    cursor_ordering = ("-created_at", "-id")
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self):
        return WebhookEndpoint.objects.filter(
            programme=self.programme, organisation=self.organisation, active=True
        ).select_related("key")

    def create(self, request):
        serializer = WebhookEndpointIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            endpoint, secret = webhook_endpoint_create(
                key=request.auth, url=data["url"], events=data["events"]
            )
        except DjangoValidationError as error:
            raise model_errors(error) from None
        endpoint.refresh_from_db()
        # The only answer that carries the secret (WebhookEndpointCreatedOut documents it).
        body = {**WebhookEndpointOut(endpoint).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request, uuid=None):
        webhook_endpoint_disable(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["get"], serializer_class=WebhookDeliveryOut)
    def deliveries(self, request, uuid=None):
        endpoint = get_object_or_404(self.get_queryset(), uuid=uuid)
        deliveries = WebhookDelivery.objects.filter(programme=self.programme, endpoint=endpoint)
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(WebhookDeliveryOut(page, many=True).data)
