"""Webhooks for partners (issue #8): a partner registers an endpoint with its API key; events
it may see are POSTed to it, signed, retried with growing pauses, given up after the last try,
never sent twice; staff see the history and send one again.

The receiver is a real HTTP server on 127.0.0.1 in a thread, so every delivery below crosses a
socket exactly as it would in production."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_scopes import scope, scopes_disabled

from cohort.models import ApiScope, AuditEvent, Fellow, Role
from cohort.services import partner_key_create
from events.models import Opportunity
from events.services import opportunity_close, opportunity_publish, opportunity_save
from mentoring.services import milestone_sign
from metrics.services import metric_snapshots_compute
from notifications import webhooks
from notifications.models import WebhookDelivery, WebhookEndpoint
from notifications.tasks import webhook_sweep

from ..factories import PASSWORD, MembershipFactory, MentorFactory, OrganisationFactory
from ..isolation.meetings import meeting_year

pytestmark = pytest.mark.django_db

ALL_EVENTS = ["opportunity.created", "opportunity.closed", "metrics.published"]


# --- a receiver ----------------------------------------------------------------------------


class Receiver:
    """A local HTTP server that records each POST and answers with the next planned status
    (200 once the plan runs out)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.plan: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                code = receiver.plan.pop(0) if receiver.plan else 200
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def at(self, path) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.PITWALL_WEBHOOKS_ALLOW_HTTP_LOCALHOST = True
    server = Receiver()
    yield server
    server.close()


# --- partners and their endpoints ------------------------------------------------------------


def _key(programme, organisation, scopes):
    with scope(programme=programme):
        key, secret = partner_key_create(
            programme=programme,
            organisation=organisation,
            name=f"{organisation.name} key",
            scopes=scopes,
            expires_on=timezone.localdate() + timedelta(days=90),
            actor=None,
        )
    return key, secret


def _endpoint(programme, key, url, events) -> WebhookEndpoint:
    with scope(programme=programme):
        endpoint, _ = webhooks.webhook_endpoint_create(key=key, url=url, events=events)
    return endpoint


@pytest.fixture
def partners(programme_a, programme_b, receiver):
    """Programme A: Verily reads events and metrics; Optum only posts opportunities and
    subscribes to metrics it may not read. Programme B: a partner reading everything."""
    with scopes_disabled():
        verily = OrganisationFactory(programme=programme_a, name="Verily")
        optum = OrganisationFactory(programme=programme_a, name="Optum")
        bravo = OrganisationFactory(programme=programme_b, name="Bravo partner")
    verily_key, _ = _key(programme_a, verily, [ApiScope.EVENTS_READ, ApiScope.METRICS_READ])
    optum_key, _ = _key(programme_a, optum, [ApiScope.PEOPLE_READ])
    bravo_key, _ = _key(
        programme_b, bravo, [ApiScope.EVENTS_READ, ApiScope.METRICS_READ, ApiScope.PEOPLE_READ]
    )
    everything = [*ALL_EVENTS, "milestone.signed_off"]
    return {
        "verily": verily,
        "optum": optum,
        "verily_key": verily_key,
        "optum_key": optum_key,
        "verily_hook": _endpoint(programme_a, verily_key, receiver.url("/verily"), everything),
        "optum_hook": _endpoint(programme_a, optum_key, receiver.url("/optum"), everything),
        "bravo_hook": _endpoint(programme_b, bravo_key, receiver.url("/bravo"), everything),
    }


def _deliveries(**filters) -> list[WebhookDelivery]:
    with scopes_disabled():
        return list(WebhookDelivery.objects.filter(**filters).order_by("pk"))


def _make_due(delivery):
    with scopes_disabled():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )


def _emit(programme, django_capture_on_commit_callbacks, event="metrics.published", **kw):
    with django_capture_on_commit_callbacks(execute=True), scope(programme=programme):
        return webhooks.webhook_emit(
            programme=programme, event=event, payload={"hello": "partner"}, **kw
        )


# --- signing ---------------------------------------------------------------------------------


def test_a_delivery_is_signed_so_the_receiver_can_check_it(
    programme_a, partners, receiver, django_capture_on_commit_callbacks
):
    _emit(programme_a, django_capture_on_commit_callbacks)

    [request] = receiver.at("/verily")
    headers, body = request["headers"], request["body"]
    [delivery] = _deliveries(endpoint=partners["verily_hook"])
    assert headers["Content-Type"] == "application/json"
    assert headers["Pitwall-Event"] == "metrics.published"
    assert headers["Pitwall-Delivery"] == str(delivery.uuid)
    timestamp = headers["Pitwall-Timestamp"]
    assert abs(int(timestamp) - timezone.now().timestamp()) < 60
    # What a receiver does: recompute the HMAC over "{timestamp}.{body}" with its secret.
    secret = partners["verily_hook"].secret
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    assert hmac.compare_digest(headers["Pitwall-Signature"], "sha256=" + expected.hexdigest())
    # A body changed on the way, or another secret, does not verify.
    forged = hmac.new(secret.encode(), timestamp.encode() + b"." + body + b" ", hashlib.sha256)
    assert headers["Pitwall-Signature"] != "sha256=" + forged.hexdigest()
    sent = json.loads(body)
    assert sent["event"] == "metrics.published" and sent["id"] == str(delivery.uuid)
    assert sent["programme"] == programme_a.slug and sent["data"] == {"hello": "partner"}
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 1, 200)
    assert delivery.delivered_at is not None


def test_a_rolled_back_change_sends_nothing(programme_a, partners, receiver):
    with pytest.raises(RuntimeError), scope(programme=programme_a):
        from django.db import transaction

        with transaction.atomic():
            webhooks.webhook_emit(programme=programme_a, event="metrics.published", payload={})
            raise RuntimeError("the change failed")
    assert _deliveries() == [] and receiver.requests == []


# --- retries, giving up, claiming --------------------------------------------------------------


def test_a_refused_delivery_is_retried_with_growing_pauses_then_sent(
    programme_a, partners, receiver, django_capture_on_commit_callbacks
):
    receiver.plan = [500, 503]
    _emit(programme_a, django_capture_on_commit_callbacks)
    [delivery] = _deliveries(endpoint=partners["verily_hook"])
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 500)
    assert "answered 500" in delivery.last_error
    pause = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < pause <= timedelta(minutes=1)
    # Not due yet: neither a late task nor the sweep sends it.
    with scope(programme=programme_a):
        assert webhooks.webhook_deliver(delivery_id=delivery.pk) == "not-claimed"
    assert webhook_sweep.apply().get() == 0

    _make_due(delivery)
    webhook_sweep.apply().get()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 2, 503)
    pause = delivery.next_attempt_at - timezone.now()
    assert timedelta(minutes=1, seconds=50) < pause <= timedelta(minutes=2)

    _make_due(delivery)
    assert webhook_sweep.apply().get() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 3, 200)
    tries = receiver.at("/verily")
    assert len(tries) == 3
    # The same delivery each time (the receiver can de-duplicate), signed afresh each time.
    assert {t["headers"]["Pitwall-Delivery"] for t in tries} == {str(delivery.uuid)}


def test_a_delivery_is_given_up_after_the_last_try(programme_a, partners, receiver):
    receiver.plan = [500] * 20
    with scope(programme=programme_a):
        [delivery] = [
            d
            for d in webhooks.webhook_emit(
                programme=programme_a, event="metrics.published", payload={}
            )
            if d.endpoint_id == partners["verily_hook"].pk
        ]
    pauses = []
    for attempt in range(1, webhooks.MAX_ATTEMPTS + 1):
        _make_due(delivery)
        with scope(programme=programme_a):
            result = webhooks.webhook_deliver(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
        if attempt < webhooks.MAX_ATTEMPTS:
            assert result == "failed" and delivery.status == "failed"
            pauses.append(delivery.next_attempt_at - timezone.now())
    assert result == "given-up" and delivery.status == "given_up"
    assert delivery.last_status_code == 500
    assert all(later > earlier for earlier, later in itertools.pairwise(pauses[:6]))
    assert max(pauses) <= webhooks.MAX_PAUSE
    assert len(receiver.at("/verily")) == webhooks.MAX_ATTEMPTS
    # Given up is final: nothing picks it up again.
    _make_due(delivery)
    with scope(programme=programme_a):
        assert webhooks.webhook_deliver(delivery_id=delivery.pk) == "not-claimed"
    with scopes_disabled():
        assert delivery.pk not in [pk for pk, _ in webhooks.webhook_due_ids()]


def test_an_unreachable_endpoint_is_a_failed_try_with_the_error(
    programme_a, partners, receiver, settings
):
    with scopes_disabled():
        WebhookEndpoint.objects.filter(pk=partners["verily_hook"].pk).update(
            url="http://127.0.0.1:9/nothing-listens"
        )
    with scope(programme=programme_a):
        webhooks.webhook_emit(programme=programme_a, event="metrics.published", payload={})
    [delivery] = _deliveries(endpoint=partners["verily_hook"])
    with scope(programme=programme_a):
        assert webhooks.webhook_deliver(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.last_status_code is None and "refused" in delivery.last_error.lower()


def test_a_claimed_delivery_is_never_sent_twice(programme_a, partners, receiver):
    with scope(programme=programme_a):
        webhooks.webhook_emit(programme=programme_a, event="metrics.published", payload={})
    [delivery] = _deliveries(endpoint=partners["verily_hook"])
    with scope(programme=programme_a):
        # One worker holds the claim: a second (or the sweep) does nothing.
        assert webhooks._claim(delivery.pk) is True
        assert webhooks._claim(delivery.pk) is False
        assert webhooks.webhook_deliver(delivery_id=delivery.pk) == "not-claimed"
    assert webhook_sweep.apply().get() == 0
    assert receiver.at("/verily") == []
    # A claim older than the lease belongs to a worker that died: it is taken over, once.
    with scopes_disabled():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            claimed_at=timezone.now() - timedelta(hours=1)
        )
    with scope(programme=programme_a):
        assert webhooks.webhook_deliver(delivery_id=delivery.pk) == "sent"
        assert webhooks.webhook_deliver(delivery_id=delivery.pk) == "not-claimed"
    assert len(receiver.at("/verily")) == 1


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_send_a_delivery_once(programme_a, partners, receiver):
    """Two connections at the same moment (a task and the sweep): the conditional UPDATE lets
    one of them win."""
    with scope(programme=programme_a):
        webhooks.webhook_emit(programme=programme_a, event="metrics.published", payload={})
    [delivery] = _deliveries(endpoint=partners["verily_hook"])
    # Outside a transaction the task already ran on "commit": make it due again, unsent.
    with scopes_disabled():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status="pending", attempts=0)
    receiver.requests.clear()
    start, results = threading.Barrier(4), []

    def deliver():
        start.wait()
        try:
            with scope(programme=programme_a):
                results.append(webhooks.webhook_deliver(delivery_id=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results) == ["not-claimed"] * 3 + ["sent"]
    assert len(receiver.at("/verily")) == 1


def test_a_deleted_endpoint_or_revoked_key_gets_nothing(programme_a, partners, receiver):
    with scope(programme=programme_a):
        webhooks.webhook_emit(programme=programme_a, event="metrics.published", payload={})
        webhooks.webhook_endpoint_disable(endpoint=partners["verily_hook"])
        [waiting] = _deliveries(endpoint=partners["verily_hook"])
        assert webhooks.webhook_deliver(delivery_id=waiting.pk) == "given-up"
        assert (
            webhooks.webhook_emit(programme=programme_a, event="metrics.published", payload={})
            == []
        )
    assert receiver.requests == []


# --- who hears of what: each event from the real service ---------------------------------------


def _received(receiver) -> dict[str, list[str]]:
    return {
        name: [json.loads(r["body"])["event"] for r in receiver.at(f"/{name}")]
        for name in ("verily", "optum", "bravo")
    }


def test_staff_publishing_and_closing_an_opportunity_reach_partners_reading_events(
    programme_a, staff_a, partners, receiver, client_for, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        opportunity = Opportunity.objects.create(
            programme=programme_a,
            kind="funding",
            title="Seed fund",
            summary="Grants.",
            url="https://example.org/call",
            deadline=timezone.localdate() + timedelta(days=30),
        )
    client = client_for(staff_a)
    base = f"/p/{programme_a.slug}/opportunities/{opportunity.uuid}/"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(base + "publish/").status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(base + "close/", {"reason": "Filled"}).status_code == 302

    # Verily reads events; Optum's key may not (it subscribed all the same); B hears nothing.
    assert _received(receiver) == {
        "verily": ["opportunity.created", "opportunity.closed"],
        "optum": [],
        "bravo": [],
    }
    created, closed = (json.loads(r["body"])["data"] for r in receiver.at("/verily"))
    assert created["opportunity"]["uuid"] == str(opportunity.uuid)
    assert created["opportunity"]["title"] == "Seed fund" and created["reopened"] is False
    assert created["link"] == f"/api/v1/opportunities/{opportunity.uuid}/"
    assert closed["opportunity"]["status"] == "closed"


def test_a_partners_own_posts_and_staff_drafts_are_not_echoed(
    programme_a, staff_a, partners, receiver, django_capture_on_commit_callbacks
):
    data = {
        "kind": "funding",
        "title": "Posted through the API",
        "summary": "Grants.",
        "url": "https://example.org/call",
        "organisation": partners["optum"],
    }
    with django_capture_on_commit_callbacks(execute=True), scope(programme=programme_a):
        posted = opportunity_save(programme=programme_a, actor=None, data=data, via="api")
        opportunity_publish(opportunity=posted, actor=None, via="api")
        opportunity_close(opportunity=posted, actor=None, reason="Filled", via="api")
        # A draft staff close was never seen by partners.
        draft = opportunity_save(programme=programme_a, actor=staff_a, data=data)
        opportunity_close(opportunity=draft, actor=staff_a, reason="Not needed")
    assert receiver.requests == [] and _deliveries() == []


def test_a_finished_metric_run_reaches_partners_reading_metrics(
    programme_a, programme_b, partners, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), scope(programme=programme_a):
        run = metric_snapshots_compute(programme=programme_a)
    assert run.status == "done"
    assert _received(receiver) == {"verily": ["metrics.published"], "optum": [], "bravo": []}
    data = json.loads(receiver.at("/verily")[0]["body"])["data"]
    finished_at = parse_datetime(data.pop("finished_at"))
    assert abs(finished_at - run.finished_at) < timedelta(milliseconds=1)
    assert data == {
        "run": str(run.uuid),
        "snapshot_count": run.snapshot_count,
        "link": "/api/v1/metrics/",
    }


def test_a_milestone_sign_off_reaches_only_the_mentors_organisation(
    programme_a, partners, receiver, django_capture_on_commit_callbacks
):
    # Optum's mentor signs off; Optum's key has no events or metrics scope, but the
    # milestone is its own mentor's work. Verily, in the same programme, hears nothing.
    with scopes_disabled():
        mentor_user = MembershipFactory(programme=programme_a, role=Role.MENTOR).user
        MentorFactory(programme=programme_a, user=mentor_user, organisation=partners["optum"])
        fellow_user = MembershipFactory(programme=programme_a, role=Role.FELLOW).user
    year = meeting_year(programme_a, fellow_user, mentor_user)
    assert _deliveries() == []  # the year's own sign-offs confirmed no milestone
    with django_capture_on_commit_callbacks(execute=True), scope(programme=programme_a):
        milestone_sign(milestone=year.achieved, actor=mentor_user, secret=PASSWORD)

    assert _received(receiver) == {"verily": [], "optum": ["milestone.signed_off"], "bravo": []}
    data = json.loads(receiver.at("/optum")[0]["body"])["data"]
    assert data["mentorship"] == str(year.mentorship.uuid)
    assert data["milestone"] == {"uuid": str(year.achieved.uuid), "title": year.achieved.title}
    assert data["signed_at"] and data["link"] == "/api/v1/mentors/"
    # The fellow did not consent to share their profile: no name, and never the notes.
    assert data["fellow"] is None
    body = receiver.at("/optum")[0]["body"].decode()
    assert "evaluation" not in body and fellow_user.email not in body


def test_a_consenting_fellows_name_is_sent(programme_a, partners, receiver):
    with scopes_disabled():
        mentor_user = MembershipFactory(programme=programme_a, role=Role.MENTOR).user
        MentorFactory(programme=programme_a, user=mentor_user, organisation=partners["optum"])
        fellow_user = MembershipFactory(programme=programme_a, role=Role.FELLOW).user
    year = meeting_year(programme_a, fellow_user, mentor_user)
    with scopes_disabled():
        Fellow.objects.filter(user=fellow_user).update(consent_to_share=True)
    with scope(programme=programme_a):
        milestone_sign(milestone=year.achieved, actor=mentor_user, secret=PASSWORD)
    [delivery] = _deliveries()
    assert delivery.payload["fellow"] == fellow_user.display_name


# --- the partner API -----------------------------------------------------------------------------


def _api(client, secret):
    client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {secret}"
    return client


@pytest.fixture
def api_partner(programme_a, receiver, client):
    with scopes_disabled():
        org = OrganisationFactory(programme=programme_a, name="AstraZeneca")
        other = OrganisationFactory(programme=programme_a, name="Microsoft")
    key, secret = _key(programme_a, org, [ApiScope.METRICS_READ])
    other_key, _ = _key(programme_a, other, [ApiScope.METRICS_READ])
    others = _endpoint(programme_a, other_key, receiver.url("/other"), ["metrics.published"])
    return {"client": _api(client, secret), "key": key, "others": others}


def test_a_partner_registers_an_endpoint_and_sees_the_secret_once(api_partner, receiver):
    client = api_partner["client"]
    response = client.post(
        "/api/v1/webhooks/",
        {"url": receiver.url("/mine"), "events": ["metrics.published"]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["secret"].startswith("whsec_") and created["url"] == receiver.url("/mine")
    assert (
        created["events"] == ["metrics.published"] and created["key"] == api_partner["key"].prefix
    )
    with scopes_disabled():
        endpoint = WebhookEndpoint.objects.get(uuid=created["uuid"])
        assert endpoint.secret == created["secret"]
        assert AuditEvent.objects.filter(
            action="webhook.created", target_id=created["uuid"], via="api"
        ).exists()

    listed = client.get("/api/v1/webhooks/").json()["results"]
    assert [e["uuid"] for e in listed] == [created["uuid"]]  # not Microsoft's
    one = client.get(f"/api/v1/webhooks/{created['uuid']}/")
    assert one.status_code == 200 and "secret" not in one.json()
    assert all("secret" not in e for e in listed)
    # Another organisation's endpoint: the same 404 as one that does not exist.
    theirs = client.get(f"/api/v1/webhooks/{api_partner['others'].uuid}/")
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "not_found"
    assert client.delete(f"/api/v1/webhooks/{api_partner['others'].uuid}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://partner.example/hook", "events": ["metrics.published"]}, "url"),
        ({"url": "not a web address", "events": ["metrics.published"]}, "url"),
        ({"url": "https://10.0.0.7/hook", "events": ["metrics.published"]}, "url"),
        ({"url": "https://169.254.169.254/latest", "events": ["metrics.published"]}, "url"),
        ({"url": "https://user:pw@partner.example/", "events": ["metrics.published"]}, "url"),
        ({"url": "https://partner.example/hook", "events": ["metrics.leaked"]}, "events"),
        ({"url": "https://partner.example/hook", "events": []}, "events"),
        ({"url": "https://partner.example/hook"}, "events"),
        (
            {"url": "https://partner.example/hook", "events": ["metrics.published"], "x": 1},
            "x",
        ),
    ],
)
def test_a_bad_endpoint_is_a_400_naming_the_field(api_partner, body, field):
    response = api_partner["client"].post(
        "/api/v1/webhooks/", body, content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and any(name.startswith(field) for name in error["fields"])
    with scopes_disabled():
        assert WebhookEndpoint.objects.filter(key=api_partner["key"]).count() == 0


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/hook", "https://localhost/hook"])
def test_this_machine_is_refused_unless_the_setting_allows_it(api_partner, settings, url):
    settings.PITWALL_WEBHOOKS_ALLOW_HTTP_LOCALHOST = False
    response = api_partner["client"].post(
        "/api/v1/webhooks/",
        {"url": url, "events": ["metrics.published"]},
        content_type="application/json",
    )
    assert response.status_code == 400 and "url" in response.json()["error"]["fields"]


def test_a_partner_reads_its_deliveries_and_deletes_its_endpoint(
    programme_a, api_partner, receiver, django_capture_on_commit_callbacks
):
    client = api_partner["client"]
    created = client.post(
        "/api/v1/webhooks/",
        {"url": receiver.url("/mine"), "events": ["metrics.published"]},
        content_type="application/json",
    ).json()
    _emit(programme_a, django_capture_on_commit_callbacks)
    deliveries = client.get(f"/api/v1/webhooks/{created['uuid']}/deliveries/")
    assert deliveries.status_code == 200
    [delivery] = deliveries.json()["results"]
    assert delivery["event"] == "metrics.published" and delivery["status"] == "sent"
    assert delivery["last_status_code"] == 200 and delivery["payload"] == {"hello": "partner"}
    theirs = client.get(f"/api/v1/webhooks/{api_partner['others'].uuid}/deliveries/")
    assert theirs.status_code == 404

    assert client.delete(f"/api/v1/webhooks/{created['uuid']}/").status_code == 204
    assert client.get("/api/v1/webhooks/").json()["results"] == []
    with scopes_disabled():
        endpoint = WebhookEndpoint.objects.get(uuid=created["uuid"])
        assert not endpoint.active and endpoint.disabled_at is not None
    before = len(receiver.at("/mine"))
    _emit(programme_a, django_capture_on_commit_callbacks)
    assert len(receiver.at("/mine")) == before


def test_the_api_needs_a_key(client):
    response = client.get("/api/v1/webhooks/")
    assert response.status_code == 401 and response.json()["error"]["fields"] == {}


# --- the staff page ---------------------------------------------------------------------------


def _page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_staff_see_the_history_filter_it_and_send_one_again(
    programme_a,
    staff_a,
    fellow_a,
    staff_b,
    partners,
    receiver,
    client_for,
    django_capture_on_commit_callbacks,
):
    receiver.plan = [500] * 30
    page_url = f"/p/{programme_a.slug}/notifications/webhooks/"
    client = client_for(staff_a)
    empty = client.get(page_url)
    assert empty.status_code == 200 and "No event has been sent" in empty.text
    # Reachable from the partner API keys page and the email deliveries page.
    for source in ("partners/keys/", "notifications/deliveries/"):
        assert page_url in client.get(f"/p/{programme_a.slug}/{source}").text

    _emit(programme_a, django_capture_on_commit_callbacks)
    [delivery] = _deliveries(endpoint=partners["verily_hook"])
    for _ in range(webhooks.MAX_ATTEMPTS - 1):
        _make_due(delivery)
        with scope(programme=programme_a):
            webhooks.webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "given_up"
    _emit(programme_a, django_capture_on_commit_callbacks)  # another one, failed once

    page = client.get(page_url)
    assert "Verily" in page.text and "metrics.published" in page.text
    assert "HTTP 500" in page.text and "Given up after every try" in page.text
    assert "Send again now" in page.text
    # The page reads the same number of queries however many rows it lists.
    baseline = _page_queries(client, page_url)
    for _ in range(3):
        _emit(programme_a, django_capture_on_commit_callbacks)
    assert _page_queries(client, page_url) == baseline
    given_up = client.get(page_url + "?status=given_up").text
    assert given_up.count("Send again now</button>") + given_up.count("Send again now<span") == 1

    send = f"{page_url}{delivery.uuid}/send/"
    assert client_for(fellow_a).get(page_url).status_code == 403
    assert client_for(fellow_a).post(send).status_code == 403
    assert client_for(staff_b).post(send).status_code in (403, 404)
    delivery.refresh_from_db()
    assert delivery.status == "given_up"

    receiver.plan = []
    client = client_for(staff_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(send, follow=True)
    assert "will be sent again now" in response.text
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 1, 200)
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="webhook.sent_again").count() == 1
    again = client.post(send, follow=True)
    assert "Only a failed delivery" in again.text
