"""Partner webhooks with real processes: an event that happens while Redis is down is written
all the same and reaches the partner, signed, once Redis is back, through a real worker's
sweep; with the broker up the worker's task sends it at once (DESIGN §10, issue #8)."""

import hashlib
import hmac
import json
import logging
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import ApiScope
from cohort.services import partner_key_create
from notifications import webhooks
from notifications.models import WebhookDelivery
from notifications.tasks import webhook_sweep
from tests.factories import OrganisationFactory
from tests.notifications.test_webhooks import Receiver

from .conftest import wait_for
from .test_notification_reliability import _task_result

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver(settings):
    settings.PITWALL_WEBHOOKS_ALLOW_HTTP_LOCALHOST = True
    server = Receiver()
    yield server
    server.close()


def _verified(request, secret) -> dict:
    headers, body = request["headers"], request["body"]
    expected = hmac.new(
        secret.encode(), headers["Pitwall-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(headers["Pitwall-Signature"], f"sha256={expected}")
    return json.loads(body)


def test_a_webhook_made_while_redis_is_down_reaches_the_partner_once_it_is_back(
    private_redis, worker_factory, celery_producer, programme_a, receiver, caplog
):
    with scopes_disabled():
        organisation = OrganisationFactory(programme=programme_a, name="Verily")
    with scope(programme=programme_a):
        key, _ = partner_key_create(
            programme=programme_a,
            organisation=organisation,
            name="Verily",
            scopes=[ApiScope.METRICS_READ],
            expires_on=timezone.localdate() + timedelta(days=30),
            actor=None,
        )
        _, secret = webhooks.webhook_endpoint_create(
            key=key, url=receiver.url("/verily"), events=["metrics.published"]
        )
    queue = f"pitwall-test-{uuid.uuid4().hex[:8]}"
    celery_producer(queue=queue, broker_url=private_redis.url)
    private_redis.stop()

    caplog.set_level(logging.WARNING, logger="notifications.webhooks")
    with scope(programme=programme_a), transaction.atomic():
        webhooks.webhook_emit(
            programme=programme_a, event="metrics.published", payload={"run": "first"}
        )
    assert "Broker unavailable" in caplog.text
    with scopes_disabled():
        [delivery] = WebhookDelivery.objects.all()
    assert (delivery.status, delivery.attempts) == ("pending", 0)

    # Redis comes back empty: only the sweep can send it.
    private_redis.start()
    worker = worker_factory(queue=queue, redis_url=private_redis.url)
    sweep = webhook_sweep.apply_async()
    assert _task_result(worker, sweep.id) == "1"
    [request] = receiver.at("/verily")
    assert _verified(request, secret)["data"] == {"run": "first"}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    again = webhook_sweep.apply_async()
    assert _task_result(worker, again.id) == "0"

    # With the broker up, the task queued on commit sends the next one without the sweep.
    with scope(programme=programme_a), transaction.atomic():
        webhooks.webhook_emit(
            programme=programme_a, event="metrics.published", payload={"run": "second"}
        )
    wait_for(lambda: len(receiver.at("/verily")) == 2, timeout=30, message="the second POST")
    assert _verified(receiver.at("/verily")[1], secret)["data"] == {"run": "second"}
    assert len(receiver.at("/verily")) == 2
