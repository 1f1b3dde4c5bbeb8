"""Webhooks for partners (issue #8): a partner registers an HTTPS endpoint with its API key
and is told, by a signed POST, when something it may see happens in the programme.

Deliveries go through the same kind of outbox as email: `webhook_emit()` writes one
`WebhookDelivery` per endpoint inside the caller's transaction, so a rolled-back change tells
nobody, and a committed one is sent by a task after commit or, if the broker was down, by the
sweep that runs every minute. A failed POST is tried again with growing pauses, then given up;
staff see the history and can send one again.

Each POST carries `Pitwall-Signature: sha256=<hex>`, the HMAC-SHA256 of
`"{Pitwall-Timestamp}.{body}"` under the endpoint's secret, so a receiver can check both who
sent it and that it is fresh (reject a timestamp more than a few minutes old).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cohort.models import ApiScope, AuditEvent, PartnerKey, Programme
from cohort.services import audit_log

from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 8
MAX_PAUSE = timedelta(hours=1)
MAX_ENDPOINTS_PER_ORGANISATION = 10
USER_AGENT = "Pitwall-Webhooks/1"

# Which scopes let a key's endpoints receive each event (any one will do). A milestone
# sign-off is further limited to the organisation of the mentor who signed it.
EVENT_SCOPES: dict[str, frozenset[str]] = {
    WebhookEvent.OPPORTUNITY_CREATED: frozenset(
        {ApiScope.EVENTS_READ, ApiScope.OPPORTUNITIES_WRITE}
    ),
    WebhookEvent.OPPORTUNITY_CLOSED: frozenset(
        {ApiScope.EVENTS_READ, ApiScope.OPPORTUNITIES_WRITE}
    ),
    WebhookEvent.METRICS_PUBLISHED: frozenset({ApiScope.METRICS_READ}),
    WebhookEvent.MILESTONE_SIGNED_OFF: frozenset(),
}


def signature(*, secret: str, timestamp: int | str, body: bytes | str) -> str:
    """The value of the Pitwall-Signature header (receivers compute the same)."""
    if isinstance(body, bytes):
        body = body.decode()
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def may_see(endpoint: WebhookEndpoint, event: str, organisation_id: int | None = None) -> bool:
    """Whether the endpoint's key may be told about the event (its scopes, its organisation)."""
    if event == WebhookEvent.MILESTONE_SIGNED_OFF:
        return organisation_id is not None and endpoint.organisation_id == organisation_id
    return bool(EVENT_SCOPES.get(event, frozenset()) & set(endpoint.key.scopes or []))


# --- endpoints (the partner API calls these) -----------------------------------------------


def webhook_endpoint_create(
    *, key: PartnerKey, url: str, events: list[str]
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint for the key's organisation. Returns (endpoint, secret): the API
    shows the secret once, in its answer to this request."""
    with transaction.atomic():
        active = WebhookEndpoint.objects.filter(
            programme=key.programme, organisation=key.organisation, active=True
        ).count()
        if active >= MAX_ENDPOINTS_PER_ORGANISATION:
            raise ValidationError(
                f"Your organisation has {MAX_ENDPOINTS_PER_ORGANISATION} endpoints already: "
                "delete one first."
            )
        endpoint = WebhookEndpoint(
            programme=key.programme,
            key=key,
            organisation=key.organisation,
            url=url,
            events=sorted(set(events or [])),
        )
        endpoint.full_clean()
        endpoint.save()
        audit_log(
            programme=key.programme,
            actor=None,
            action="webhook.created",
            target=endpoint,
            changes={"key": key.prefix, "url": url, "events": endpoint.events},
            via=AuditEvent.Via.API,
        )
    return endpoint, endpoint.secret


def webhook_endpoint_disable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Stop sending to an endpoint. Its deliveries stay as history; ones still waiting are
    given up when their turn comes."""
    with transaction.atomic():
        updated = WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).update(
            active=False, disabled_at=timezone.now()
        )
        if updated:
            audit_log(
                programme=endpoint.programme,
                actor=None,
                action="webhook.disabled",
                target=endpoint,
                changes={"url": endpoint.url},
                via=AuditEvent.Via.API,
            )
    endpoint.refresh_from_db()
    return endpoint


# --- emitting ------------------------------------------------------------------------------


def webhook_emit(
    *,
    programme: Programme,
    event: str,
    payload: dict,
    organisation_id: int | None = None,
) -> list[WebhookDelivery]:
    """Queue `event` for every active endpoint subscribed to it whose key may see it. Call it
    inside the transaction of the change: the deliveries commit or roll back with it, and are
    sent after commit. `organisation_id` names the organisation a milestone sign-off concerns
    (only its endpoints hear of it)."""
    if event not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event {event!r}")
    now = timezone.now()
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            programme=programme,
            active=True,
            key__revoked_at__isnull=True,
            key__expires_at__gt=now,
        ).select_related("key")
        if event in (endpoint.events or []) and may_see(endpoint, event, organisation_id)
    ]
    if not endpoints:
        return []
    with transaction.atomic():
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    programme=programme,
                    endpoint=endpoint,
                    event=event,
                    # ISO 8601 dates and times, as the API gives them.
                    payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
                    created_at=now,
                    next_attempt_at=now,
                )
                for endpoint in endpoints
            ]
        )
        _dispatch_after_commit(deliveries)
    return deliveries


def _dispatch_after_commit(deliveries: list[WebhookDelivery]) -> None:
    """Queue the POSTs once the transaction commits. If the broker is down the change still
    succeeds: the rows are written and the sweep sends them when it can."""
    if not deliveries:
        return
    ids = [d.pk for d in deliveries]
    programme_id = deliveries[0].programme_id

    def enqueue():
        from .tasks import webhook_deliver_task

        for delivery_id in ids:
            try:
                webhook_deliver_task.apply_async(
                    kwargs={"delivery_id": delivery_id, "programme_id": programme_id},
                    retry=False,
                )
            except Exception:  # the broker is unreachable; the sweep will deliver
                logger.warning("Broker unavailable; webhook %s left for the sweep", delivery_id)
                return

    transaction.on_commit(enqueue, robust=True)


# --- delivering ----------------------------------------------------------------------------


def _claim(delivery_id: int) -> bool:
    """Take the delivery for sending. The conditional UPDATE lets exactly one worker win (a
    task and the sweep racing, or a redelivered task), so a partner never gets it twice from
    us; a claim older than the lease belongs to a worker that died, and may be taken over."""
    now = timezone.now()
    lease = timedelta(seconds=settings.PITWALL_OUTBOX_CLAIM_LEASE_SECONDS)
    won = (
        WebhookDelivery.objects.filter(
            pk=delivery_id,
            status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.FAILED],
            next_attempt_at__lte=now,
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - lease))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    return won == 1


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """What is POSTed (and signed): the event, its id and time, and the event's data."""
    return json.dumps(
        {
            "id": str(delivery.uuid),
            "event": delivery.event,
            "created_at": delivery.created_at.isoformat(),
            "programme": delivery.programme.slug,
            "data": delivery.payload,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an instruction: following it would send the signed body
    somewhere the partner never registered."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the status code; HTTP errors are status codes too, a network failure
    raises."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            response.read(64 * 1024)
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def webhook_deliver(*, delivery_id: int) -> str:
    """Claim and POST one delivery; on failure schedule the next try, or give up."""
    if not _claim(delivery_id):
        return "not-claimed"
    delivery = WebhookDelivery.objects.select_related("endpoint__key", "programme").get(
        pk=delivery_id
    )
    endpoint = delivery.endpoint
    if not endpoint.active or not endpoint.key.is_usable:
        _finish(delivery, WebhookDelivery.Status.GIVEN_UP, error="The endpoint was disabled.")
        return "given-up"
    body = delivery_body(delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Pitwall-Event": delivery.event,
        "Pitwall-Delivery": str(delivery.uuid),
        "Pitwall-Timestamp": str(timestamp),
        "Pitwall-Signature": signature(secret=endpoint.secret, timestamp=timestamp, body=body),
    }
    try:
        code = _post(endpoint.url, body, headers)
    except Exception as error:  # refused, timed out, TLS: try again later, never lose the row
        return _failed(delivery, code=None, error=f"{type(error).__name__}: {error}")
    if 200 <= code < 300:
        _finish(delivery, WebhookDelivery.Status.SENT, code=code)
        return "sent"
    return _failed(delivery, code=code, error=f"The endpoint answered {code}.")


def _finish(delivery, status, *, code=None, error=""):
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status,
        claimed_at=None,
        last_status_code=code,
        last_error=error[:2000],
        delivered_at=now if status == WebhookDelivery.Status.SENT else None,
    )


def pause_after(attempts: int) -> timedelta:
    """1, 2, 4, 8, 16, 32 minutes, then an hour at most."""
    return min(timedelta(minutes=2 ** (attempts - 1)), MAX_PAUSE)


def _failed(delivery, *, code, error) -> str:
    delivery.refresh_from_db(fields=["attempts"])
    if delivery.attempts >= MAX_ATTEMPTS:
        _finish(delivery, WebhookDelivery.Status.GIVEN_UP, code=code, error=error)
        logger.warning("Webhook delivery %s given up: %s", delivery.pk, error)
        return "given-up"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.FAILED,
        claimed_at=None,
        last_status_code=code,
        last_error=error[:2000],
        next_attempt_at=timezone.now() + pause_after(delivery.attempts),
    )
    return "failed"


def webhook_due_ids(*, limit: int = 500) -> list[tuple[int, int]]:
    """(delivery id, programme id) of deliveries due now, claims left by dead workers
    included. Called by the sweep with scopes disabled."""
    now = timezone.now()
    lease = timedelta(seconds=settings.PITWALL_OUTBOX_CLAIM_LEASE_SECONDS)
    return list(
        WebhookDelivery.objects.filter(
            status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.FAILED],
            next_attempt_at__lte=now,
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - lease))
        .order_by("next_attempt_at")
        .values_list("pk", "programme_id")[:limit]
    )


def webhook_send_again(*, delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """Staff send a failed or given-up delivery now (the partner fixed their server, say). A
    given-up one gets a fresh set of tries."""
    with transaction.atomic():
        changes = {
            "status": WebhookDelivery.Status.PENDING,
            "next_attempt_at": timezone.now(),
        }
        if delivery.status == WebhookDelivery.Status.GIVEN_UP:
            changes["attempts"] = 0
        updated = WebhookDelivery.objects.filter(
            pk=delivery.pk,
            status__in=[WebhookDelivery.Status.FAILED, WebhookDelivery.Status.GIVEN_UP],
            claimed_at__isnull=True,
            endpoint__active=True,
        ).update(**changes)
        if not updated:
            raise ValidationError(
                "Only a failed delivery to an endpoint still in use can be sent again."
            )
        audit_log(
            programme=delivery.programme,
            actor=actor,
            action="webhook.sent_again",
            target=delivery,
            changes={"event": delivery.event, "endpoint": delivery.endpoint.url},
        )
        delivery.refresh_from_db()
        _dispatch_after_commit([delivery])
    return delivery
