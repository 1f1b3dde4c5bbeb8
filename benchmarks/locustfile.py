"""The users of `benchmarks/load.py`, driven by locust against the benchmark's gunicorn.

Not run on its own: `load.py` prepares the database, writes a plan (who signs in with which
session, the records they act on) to the file named by PITWALL_LOAD_PLAN, and starts locust
with this file. Every write a user sees succeed is appended to the log named by
PITWALL_LOAD_LOG (one JSON object a line) so that `load.py` can reconcile them with the
database at the end.

Throughput (`load.py throughput`) uses the single-page users (FellowHomeUser, ApiListUser,
TrivialUser), which wait for nothing between requests. The load test (`load.py load`) uses
FellowUser, MentorUser, StaffUser and PartnerUser: people reading pages and writing through
the real forms (with their CSRF tokens) with a few seconds of thought between clicks.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import re
import threading
import uuid

from locust import HttpUser, between, constant, events, task
from locust.exception import CatchResponseError
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

PLAN = json.loads(open(os.environ["PITWALL_LOAD_PLAN"]).read())  # noqa: SIM115
LOG = os.environ.get("PITWALL_LOAD_LOG", "")
STATS = os.environ.get("PITWALL_LOAD_STATS", "")
SLUG = PLAN["slug"]
_lock = threading.Lock()
_written: list[dict] = []
_next = {role: itertools.count() for role in ("fellow", "mentor", "staff", "partner")}

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERIFY = re.compile(r'action="(/p/[^"]+/outcomes/(\w+)/([0-9a-f-]{36})/verify/)"')
SIGN_IN = "/accounts/login/"
SIGN = re.compile(r'href="(/p/[^"]+/meetings/([0-9a-f-]{36})/)">Sign off meeting')


def record(kind: str, **fields) -> None:
    with _lock:
        _written.append({"kind": kind, **fields})


@events.quitting.add_listener
def _dump(environment, **_kwargs):
    """At the very end, once every user has finished (locust fires `quitting` after the
    stop timeout): the writes seen, and the final statistics. locust's own `--csv` files are
    last written when the run time is up, so they miss the requests of users finishing their
    task after it; these files (PITWALL_LOAD_STATS + `_stats.csv`, `_failures.csv`) have all."""
    if LOG:
        with open(LOG, "w") as out:
            for row in _written:
                out.write(json.dumps(row) + "\n")
    if STATS:
        final = StatsCSV(environment, PERCENTILES_TO_REPORT)
        with open(STATS + "_stats.csv", "w", newline="") as out:
            final.requests_csv(csv.writer(out))
        with open(STATS + "_failures.csv", "w", newline="") as out:
            final.failures_csv(csv.writer(out))


def _person(role: str) -> dict:
    people = PLAN[role + "s"]
    index = next(_next[role]) % len(people)
    return {**people[index], "index": index}


class Browser(HttpUser):
    abstract = True
    role = "fellow"

    def on_start(self):
        self.person = _person(self.role)
        self.client.cookies.set("sessionid", self.person["session"])

    def plain(self) -> None:
        """The server runs with production settings, so its cookies are Secure; the benchmark
        talks plain HTTP on loopback (no TLS proxy in front), so keep sending them."""
        for cookie in self.client.cookies:
            cookie.secure = False

    def page(self, path: str, name: str | None = None):
        """GET a page (redirects followed). The sign-in page instead of the one asked for means
        the person's session was refused: an error, not a page."""
        with self.client.get(path, name=name or path, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} on GET")
            elif SIGN_IN in response.url:
                response.failure("signed out: redirected to the sign-in page")
        self.plain()
        return response

    def post(self, path: str, form_path: str, data: dict, name: str):
        """GET the page holding the form (its CSRF token), then POST the form; no redirects
        followed, so the status tells success (302) from a form error (400)."""
        form = self.page(form_path, name=name + " (form)")
        token = CSRF.search(form.text or "")
        if token is None:
            return None
        data = {"csrfmiddlewaretoken": token.group(1), **data}
        headers = {"Origin": self.host, "Referer": self.host + form_path}
        with self.client.post(
            path,
            data=data,
            headers=headers,
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = response.headers.get("Location", "")
            if response.status_code == 403 and "CSRF verification failed" in response.text:
                response.failure("403 on POST: CSRF verification failed (gunicorn.out says why)")
            elif response.status_code >= 500 or response.status_code in (403, 404):
                response.failure(f"{response.status_code} on POST")
            elif response.status_code not in (302, 303):
                # A form error: the write did not happen; not a server error but still
                # counted, since the mix only posts what should be accepted.
                response.failure(f"form refused ({response.status_code}) on POST")
            elif SIGN_IN in location:
                response.failure("signed out: POST redirected to the sign-in page")
        self.plain()
        return response

    def problem(self, name: str, message: str) -> None:
        """An error found after the request was reported (a redirect that did not show the
        confirmation it should): reported on its own, as a CHECK, since `response.failure`
        outside the request's `with` block is silently ignored."""
        self.environment.events.request.fire(
            request_type="CHECK",
            name=name,
            response_time=0,
            response_length=0,
            response=None,
            context={},
            exception=CatchResponseError(message),
        )

    def follow(self, response, name: str) -> str:
        """The page a POST redirected to, with the message it left."""
        location = response.headers.get("Location", "")
        return self.page(location, name=name).text if location else ""


# --- throughput: one page, no pause -----------------------------------------------------------


class FellowHomeUser(Browser):
    wait_time = constant(0)

    @task
    def home(self):
        self.page(f"/p/{SLUG}/", name="fellow home")


class ApiListUser(HttpUser):
    wait_time = constant(0)

    def on_start(self):
        self.client.headers["Authorization"] = f"Api-Key {PLAN['api_key']}"

    @task
    def fellows(self):
        with self.client.get("/api/v1/fellows/", name="API fellows", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")


class TrivialUser(HttpUser):
    wait_time = constant(0)

    @task
    def trivial(self):
        with self.client.get("/bench/trivial/", name="trivial view", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")


# --- the load test: people at work ------------------------------------------------------------


class FellowUser(Browser):
    weight = 40
    role = "fellow"
    wait_time = between(1, 4)

    @task(6)
    def home(self):
        self.page(f"/p/{SLUG}/", name="fellow home")

    @task(2)
    def pdp(self):
        self.page(f"/p/{SLUG}/pdp/{self.person['pdp']}/", name="PDP")

    @task(2)
    def year(self):
        self.page(f"/p/{SLUG}/mentorships/{self.person['mentorship']}/meetings/", name="meetings")

    @task(2)
    def events_list(self):
        self.page(f"/p/{SLUG}/events/", name="events list")

    @task(1)
    def directory(self):
        self.page(f"/p/{SLUG}/directory/", name="directory")

    @task(1)
    def notifications(self):
        self.page(f"/p/{SLUG}/notifications/", name="notifications")

    @task(1)
    def opportunities(self):
        self.page(f"/p/{SLUG}/opportunities/", name="opportunities")

    @task(3)
    def register_or_cancel(self):
        event = random.choice(PLAN["events"])
        path = f"/p/{SLUG}/events/{event}/"
        page = self.page(path, name="an event")
        leaving = "/unregister/" in (page.text or "")
        action = "unregister" if leaving else "register"
        response = self.post(f"{path}{action}/", path, {}, name=f"event {action}")
        if response is None or response.status_code != 302:
            return
        text = self.follow(response, name="an event")
        if leaving and ("is cancelled" in text or "left the waiting list" in text):
            record("cancel", event=event, user=self.person["user"])
        elif not leaving and ("You are registered" in text or "waiting list, at number" in text):
            record("register", event=event, user=self.person["user"])
        else:
            self.problem(f"event {action}", "no confirmation shown")

    @task(1)
    def report_funding(self):
        source = f"load:{uuid.uuid4()}"
        form = f"/p/{SLUG}/outcomes/funding/new/"
        data = {
            "venture": self.person["venture"],
            "kind": "grant",
            "amount": f"{random.randint(1000, 90000)}.00",
            "source": source,
            "received_on": PLAN["today"],
            "evidence": "Reported during the load test.",
        }
        response = self.post(form, form, data, name="report funding")
        if response is not None and response.status_code == 302:
            record("funding", source=source, user=self.person["user"])

    @task(2)
    def add_action(self):
        objective = random.choice(self.person["objectives"])
        text = f"load:{uuid.uuid4()}"
        pdp = f"/p/{SLUG}/pdp/{self.person['pdp']}/"
        response = self.post(
            f"/p/{SLUG}/pdp/objectives/{objective}/actions/",
            pdp,
            {f"a-{objective}-text": text},
            name="add a PDP action",
        )
        if response is not None and response.status_code == 302:
            record("action", text=text, objective=objective)


class MentorUser(Browser):
    weight = 5
    role = "mentor"
    wait_time = between(2, 6)

    @task(4)
    def home(self):
        self.page(f"/p/{SLUG}/", name="mentor home")

    @task(3)
    def sign_off(self):
        mentees = self.page(f"/p/{SLUG}/meetings/mentees/", name="mentor's mentees")
        # Only meetings of mentorships under way (the plan's list): the page also links those
        # of ended mentorships, which the application lets the mentor open but not sign (403).
        signable = set(self.person["signable"])
        waiting = [w for w in SIGN.findall(mentees.text or "") if w[1] in signable]
        if not waiting:
            # This mentor has signed all theirs: carry on as the next mentor of the plan, so a
            # run signs more than one record per mentor (two users may then race for the same
            # record; the loser is told it is already signed, and records nothing).
            self.on_start()
            return
        path, meeting = random.choice(waiting)
        self.page(path, name="a meeting (mentor)")
        response = self.post(
            f"{path}sign/",
            f"{path}sign/",
            {"secret": PLAN["password"]},
            name="sign off a meeting",
        )
        if response is None or response.status_code != 302:
            return
        # A 302 alone does not prove the signature: a record already signed (or not sent for
        # signing) redirects to the same page with another message. The message decides.
        text = self.follow(response, name="a meeting (mentor)")
        if "You signed off meeting" in text:
            record("sign", meeting=meeting, user=self.person["user"])
        else:
            self.problem("sign off a meeting", "no confirmation shown")


class StaffUser(Browser):
    weight = 3
    role = "staff"
    wait_time = between(2, 5)

    @task(2)
    def home(self):
        self.page(f"/p/{SLUG}/", name="staff home")

    @task(1)
    def dashboard(self):
        self.page(f"/p/{SLUG}/metrics/", name="metrics dashboard")

    @task(1)
    def people(self):
        self.page(f"/p/{SLUG}/people/", name="people list")

    @task(4)
    def verify(self):
        queue_path = f"/p/{SLUG}/outcomes/verification/"
        queue = self.page(queue_path, name="verification queue")
        waiting = VERIFY.findall(queue.text or "")
        if not waiting:
            return
        # The staff share one queue: each takes only its own share of the records (by UUID),
        # so two of them never verify the same record at once; the second would be told
        # "already verified", which is the application right, not a write that failed.
        staffs = len(PLAN["staffs"])
        mine = [w for w in waiting if int(w[2][:8], 16) % staffs == self.person["index"]]
        if not mine:
            return
        path, kind, record_uuid = random.choice(mine[:10])
        response = self.post(path, queue_path, {}, name="verify an outcome")
        if response is None or response.status_code != 302:
            return
        text = self.follow(response, name="verification queue")
        if "Verified:" in text:
            record("verify", outcome=kind, record=record_uuid, user=self.person["user"])
        else:
            self.problem("verify an outcome", "no confirmation shown")


class PartnerUser(HttpUser):
    weight = 2
    wait_time = between(2, 5)

    def on_start(self):
        self.client.headers["Authorization"] = f"Api-Key {PLAN['api_key']}"

    @task
    def lists(self):
        for path in ("fellows/", "events/", "metrics/snapshots/?metric=funding_raised"):
            with self.client.get(f"/api/v1/{path}", name=f"API {path}", catch_response=True) as r:
                if r.status_code != 200:
                    r.failure(f"{r.status_code}")
