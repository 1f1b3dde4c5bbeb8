"""Benchmark: throughput and a load test against the production shape (issue #9).

    uv run python -m benchmarks.load                      # throughput, then the 5-minute load test
    uv run python -m benchmarks.load throughput [--seconds 30]
    uv run python -m benchmarks.load load [--duration 300] [--users 50]
    options: --fellows N (13,000), --keep (leave the database), --database NAME (pitwall_bench)

What it runs, all on this machine over loopback:

* a dedicated PostgreSQL database (`pitwall_bench`, dropped first and, unless --keep, at the
  end), migrated, with `benchmarks.synthetic`'s 13,000-fellow programme built and committed;
* gunicorn with 2 sync workers and production settings (DJANGO_ENV=production, DEBUG off,
  manifest static files, secure cookies; no HTTPS redirect on loopback, staff MFA off), with
  the benchmark URLconf (`benchmarks/settings.py`: the site plus a trivial view);
* one Celery worker (`celery -A config worker`, concurrency 1) on its own Redis database and
  queue, so every task goes through the broker and nothing is shared with other Redis users;
  email goes to files;
* locust (`benchmarks/locustfile.py`) in another process as the load generator.

`throughput`: the fellow home page (a signed-in session), an API list (`Api-Key`) and the
trivial view, each driven flat out by locust for --seconds: requests/s, p50/p95/p99, errors.

`load`: --users (50) people for --duration seconds (300): fellows (reading their pages,
registering for events and cancelling, reporting funding, adding actions to their PDP),
mentors (signing off meetings with their password), staff (verifying outcomes, reading the
dashboard) and partners (API lists), through the real forms with CSRF tokens. Every write a
client saw succeed is logged; at the end a reconciliation reads the database and proves each
one is there exactly once and nothing else was written, that event places hold (no event over
capacity, no waiting list beside a free place), and that the worker drained the outbox.

Results go to benchmarks/results/load-postgresql.md (and throughput-postgresql.md).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "bench-load-" + secrets.token_hex(4)
REDIS_DB = os.environ.get("PITWALL_BENCH_REDIS", "redis://127.0.0.1:6379/7")
QUEUE = "pitwall-bench"
# At the end of the run locust lets each user finish the task it is in (a form's GET and
# POST, then the page it redirects to) for up to this long before killing it. Killed in the
# middle, a user would leave a write the server made and the client never saw succeed.
STOP_TIMEOUT = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(database: str, work: Path) -> dict:
    base = os.environ.get("PITWALL_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    env = {
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Loopback has no TLS proxy in front: no redirect to https.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "PITWALL_REQUIRE_STAFF_MFA": "0",
        "DATABASE_URL": f"{base}/{database}",
        "REDIS_URL": REDIS_DB,
        "PITWALL_CELERY_QUEUE": QUEUE,
        "PITWALL_API_RATE": "1000000/minute",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(work / "mail"),
        "PITWALL_BENCH_STATIC_ROOT": str(work / "static"),
        "PITWALL_DATA_DIR": str(work / "data"),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    return env


def create_database(name: str, drop_only: bool = False) -> None:
    import psycopg

    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_DB).flushdb()


# --- the data and the plan ------------------------------------------------------------------


def prepare(fellows: int, work: Path) -> dict:
    """Migrate, build the synthetic programme committed, and write the plan the locust users
    read: sessions, the API key, the records each person acts on."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone
    from django_scopes import scope, scopes_disabled

    from cohort.models import Membership, Role
    from events.models import Event
    from mentoring.models import Meeting, Mentorship
    from metrics.services import metric_snapshots_compute
    from pdp.models import Objective

    from .api import _key
    from .pages import add_extras
    from .synthetic import build

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    today = timezone.localdate()
    with transaction.atomic():
        built = build(programme_slug="bench", fellows=fellows, second_fellows=200, today=today)
    programme = built.programme
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    with scope(programme=programme):
        metric_snapshots_compute(programme=programme)
    user_model = type(built.staff)

    with scopes_disabled(), transaction.atomic():
        cohort = programme.cohorts.order_by("-starts_on").first()
        mentorships = list(
            Mentorship.objects.filter(programme=programme, cohort=cohort, ended_on__isnull=True)
            .select_related("fellow__user", "fellow__pdp")
            .prefetch_related("fellow__ventures")
            .order_by("pk")[:80]
        )
        people_fellows = []
        for m in mentorships:
            pdp = getattr(m.fellow, "pdp", None)
            ventures = list(m.fellow.ventures.all())
            if pdp is None or not ventures:
                continue
            objectives = [
                str(u)
                for u in Objective.objects.filter(pdp=pdp)
                .exclude(status__in=["achieved", "dropped"])
                .values_list("uuid", flat=True)
            ]
            if not objectives:
                continue
            people_fellows.append(
                {
                    "user": m.fellow.user_id,
                    "login": m.fellow.user,
                    "pdp": str(pdp.uuid),
                    "mentorship": str(m.uuid),
                    "venture": str(ventures[0].pk),
                    "objectives": objectives,
                }
            )
            add_extras(programme, m.fellow.user, today, opportunities=0)
        add_extras(programme, people_fellows[0]["login"], today, opportunities=40)
        # Mentors with meetings waiting for their sign-off; they sign with a password.
        waiting = (
            Meeting.objects.filter(
                programme=programme, status="submitted", mentorship__ended_on__isnull=True
            )
            .values("mentorship__mentor__user")
            .annotate(n=Count("id"))
            .order_by("-n", "mentorship__mentor__user")[:40]
        )
        mentor_users = list(
            user_model.objects.filter(pk__in=[w["mentorship__mentor__user"] for w in waiting])
        )
        hashed = make_password(PASSWORD)
        user_model.objects.filter(pk__in=[u.pk for u in mentor_users]).update(password=hashed)
        staff_users = [built.staff]
        for i in range(2):
            extra = user_model.objects.create(
                email=f"staff{i + 2}@bench.bench.example", full_name=f"Bench Staff {i + 2}"
            )
            Membership.objects.create(programme=programme, user=extra, role=Role.STAFF)
            staff_users.append(extra)
        # Events to register for: a week ahead, few places, so waiting lists move.
        soon = timezone.now() + timedelta(days=7)
        events = Event.objects.bulk_create(
            [
                Event(
                    programme=programme,
                    kind="networking",
                    title=f"Load test event {i}",
                    starts_at=soon + timedelta(days=i),
                    ends_at=soon + timedelta(days=i, hours=2),
                    is_online=True,
                    online_url="https://example.org/join",
                    capacity=12,
                    status="published",
                    checkin_key=secrets.token_hex(16),
                )
                for i in range(8)
            ]
        )

    def session(user) -> str:
        # A session carries a hash of the password it was made with and Django signs out one
        # whose hash no longer matches: made from the mentors' objects as read before their
        # password was set above, every mentor would be signed out at the first request.
        user.refresh_from_db(fields=["password"])
        client = Client()
        client.force_login(user)
        return client.cookies["sessionid"].value

    def signable(user) -> list[str]:
        """The meetings waiting for this mentor in mentorships under way: the ones they sign.
        Their mentees page also links meetings of mentorships that have ended, and the
        service refuses those with a 403 (`mentoring.services._check_signer`)."""
        with scopes_disabled():
            return [
                str(u)
                for u in Meeting.objects.filter(
                    programme=programme,
                    status="submitted",
                    mentorship__mentor__user=user,
                    mentorship__ended_on__isnull=True,
                ).values_list("uuid", flat=True)
            ]

    plan = {
        "slug": programme.slug,
        "today": today.isoformat(),
        "password": PASSWORD,
        "api_key": _key(programme),
        "events": [str(e.uuid) for e in events],
        "capacity": 12,
        "fellows": [
            {**{k: v for k, v in f.items() if k != "login"}, "session": session(f["login"])}
            for f in people_fellows
        ],
        "mentors": [
            {"user": u.pk, "session": session(u), "signable": signable(u)} for u in mentor_users
        ],
        "staffs": [{"user": u.pk, "session": session(u)} for u in staff_users],
        "programme_id": programme.pk,
        "built": built.summary(),
        "prepared_in": time.perf_counter() - started,
    }
    (work / "plan.json").write_text(json.dumps(plan))
    return plan


# --- the servers ----------------------------------------------------------------------------


class Servers:
    """gunicorn (2 workers) and one Celery worker, started and stopped by their pids."""

    def __init__(self, work: Path, port: int):
        self.work, self.port, self.procs = work, port, []

    def start(self) -> None:
        python = sys.executable
        gunicorn = [
            python, "-m", "gunicorn", "config.wsgi:application",
            "--workers", "2", "--bind", f"127.0.0.1:{self.port}",
            "--timeout", "60", "--error-logfile", str(self.work / "gunicorn.log"),
        ]  # fmt: skip
        worker = [
            python, "-m", "celery", "-A", "config", "worker", "--concurrency", "1",
            "-Q", QUEUE, "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        for name, command in (("gunicorn", gunicorn), ("worker", worker)):
            log = open(self.work / f"{name}.out", "w")  # noqa: SIM115
            self.procs.append(
                subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("gunicorn did not answer /readyz: see " + str(self.work))

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def locust(work: Path, port: int, users: int, seconds: int, classes: list[str], name: str):
    """Run locust headless; returns its per-request rows from the stats CSV."""
    prefix = work / name
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "benchmarks" / "locustfile.py"),
        "--headless", "--only-summary", "-u", str(users), "-r", str(max(1, users // 5)),
        "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix),
        "--stop-timeout", str(STOP_TIMEOUT), "--loglevel", "WARNING", *classes,
    ]  # fmt: skip
    env = {
        **os.environ,
        "PITWALL_LOAD_PLAN": str(work / "plan.json"),
        "PITWALL_LOAD_LOG": str(work / f"{name}-writes.jsonl"),
        # The final statistics, written by the locustfile once every user has stopped.
        "PITWALL_LOAD_STATS": str(work / f"{name}-final"),
    }
    load_before = os.getloadavg()
    with open(work / f"{name}-locust.out", "w") as out:
        subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    final = work / f"{name}-final"
    with open(f"{final}_stats.csv") as stats:
        rows = list(csv.DictReader(stats))
    failures = []
    if Path(f"{final}_failures.csv").exists():
        with open(f"{final}_failures.csv") as f:
            failures = list(csv.DictReader(f))
    return rows, failures, (load_before, os.getloadavg())


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# What Django logs for a response of 400 and above ("Forbidden (CSRF cookie not set.): /p/..",
# "Bad Request: /p/..", "Internal Server Error: /p/.."), at WARNING and ERROR.
SERVER_LINE = re.compile(r"^[A-Z][A-Za-z ]+(?: \(.*\))?: /\S*$")


def server_log(work: Path) -> list[str]:
    """gunicorn's output (Django's log): each refused or failed request by kind and path (UUIDs
    folded), and how many tracebacks; the tracebacks themselves stay in gunicorn.out."""
    path = work / "gunicorn.out"
    if not path.exists():
        return []
    text = path.read_text(errors="replace")
    counts = Counter(
        UUID.sub("<uuid>", line.strip())
        for line in text.splitlines()
        if SERVER_LINE.match(line.strip())
    )
    tracebacks = text.count("Traceback (most recent call last)")
    if not counts and not tracebacks:
        return []
    lines = ["| Django's log line | Occurrences |", "|---|---:|"]
    lines += [f"| `{k}` | {n:,} |" for k, n in counts.most_common(20)]
    if tracebacks:
        lines.append(f"| tracebacks (in gunicorn's output) | {tracebacks:,} |")
    return lines


def _ms(row: dict, column: str) -> str:
    value = row.get(column, "")
    return "—" if value in ("", "N/A") else f"{float(value):.0f}"


def stats_table(rows: list[dict]) -> list[str]:
    lines = [
        "| Request | Requests | Errors | Req/s | p50 (ms) | p95 (ms) | p99 (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "**all**"
        lines.append(
            f"| {row['Type']} {name} | {int(row['Request Count']):,} | "
            f"{int(row['Failure Count']):,} | {float(row['Requests/s']):.1f} | "
            f"{_ms(row, '50%')} | {_ms(row, '95%')} | {_ms(row, '99%')} |"
        )
    return lines


# --- reconciliation -------------------------------------------------------------------------


def wait_for_outbox(timeout: int = 180) -> dict:
    from django_scopes import scopes_disabled

    from notifications.models import OutboxMessage

    deadline = time.monotonic() + timeout
    with scopes_disabled():
        while True:
            counts = dict(
                Counter(OutboxMessage.objects.values_list("status", flat=True).iterator())
            )
            waiting = counts.get("pending", 0) + counts.get("sending", 0)
            if not waiting or time.monotonic() > deadline:
                return counts
            time.sleep(2)


def baseline(plan: dict) -> dict:
    """What is signed and verified before the run (the synthetic data signs some meetings
    later today), so that only the run's own writes are reconciled."""
    from django_scopes import scopes_disabled

    from mentoring.models import Meeting
    from metrics.services import OUTCOME_KINDS

    pid = plan["programme_id"]
    with scopes_disabled():
        return {
            "signed": set(
                Meeting.objects.filter(programme_id=pid, status="signed").values_list(
                    "pk", flat=True
                )
            ),
            "verified": {
                kind.slug: set(
                    kind.model.objects.filter(programme_id=pid, status="verified").values_list(
                        "pk", flat=True
                    )
                )
                for kind in OUTCOME_KINDS.values()
            },
        }


def reconcile(plan: dict, log: list[dict], before: dict) -> tuple[list[str], dict]:
    """Every write the clients saw succeed is in the database exactly once, and nothing more."""
    from django_scopes import scopes_disabled

    from events.models import Event, Registration
    from mentoring.models import Meeting
    from metrics.services import OUTCOME_KINDS
    from pdp.models import Action

    problems: list[str] = []
    by_kind = defaultdict(list)
    for row in log:
        by_kind[row["kind"]].append(row)
    pid = plan["programme_id"]
    figures: dict[str, str] = {}

    def exactly_once(label: str, seen: list, stored: list) -> None:
        stored_counts = Counter(stored)
        dupes = [k for k, n in stored_counts.items() if n > 1]
        lost = set(seen) - set(stored_counts)
        extra = set(stored_counts) - set(seen)
        if dupes:
            problems.append(f"{label}: {len(dupes)} stored more than once")
        if lost:
            problems.append(f"{label}: {len(lost)} seen as written but not stored")
        if extra:
            problems.append(f"{label}: {len(extra)} stored that no client saw succeed")
        if len(seen) != len(set(seen)):
            problems.append(f"{label}: a client saw the same write succeed twice")
        figures[label] = f"{len(seen):,} seen, {len(stored):,} stored"

    with scopes_disabled():
        exactly_once(
            "funding reported",
            [r["source"] for r in by_kind["funding"]],
            list(
                OUTCOME_KINDS["funding"]
                .model.objects.filter(programme_id=pid, source__startswith="load:")
                .values_list("source", flat=True)
            ),
        )
        exactly_once(
            "PDP actions added",
            [r["text"] for r in by_kind["action"]],
            list(
                Action.objects.filter(programme_id=pid, text__startswith="load:").values_list(
                    "text", flat=True
                )
            ),
        )
        signed = list(
            Meeting.objects.filter(programme_id=pid, status="signed")
            .exclude(pk__in=before["signed"])
            .values_list("uuid", "status", "signed_by_id")
        )
        exactly_once(
            "meetings signed off",
            [(r["meeting"], r["user"]) for r in by_kind["sign"]],
            [(str(u), by) for u, status, by in signed if status == "signed"],
        )
        verified = []
        for kind in OUTCOME_KINDS.values():
            verified += [
                (kind.slug, str(u), by)
                for u, by in kind.model.objects.filter(programme_id=pid, status="verified")
                .exclude(pk__in=before["verified"][kind.slug])
                .values_list("uuid", "verified_by_id")
            ]
        exactly_once(
            "outcomes verified",
            [(r["outcome"], r["record"], r["user"]) for r in by_kind["verify"]],
            verified,
        )
        # Registrations: the last action each person saw succeed decides their row.
        last: dict[tuple, str] = {}
        for r in log:
            if r["kind"] in ("register", "cancel"):
                last[(r["event"], r["user"])] = r["kind"]
        rows = {
            (str(e), u): s
            for e, u, s in Registration.objects.filter(
                programme_id=pid, event__uuid__in=plan["events"]
            ).values_list("event__uuid", "user_id", "status")
        }
        wrong = [
            pair
            for pair, action in last.items()
            if (action == "register") != (rows.get(pair) in ("registered", "waitlisted"))
        ]
        untouched = set(rows) - set(last)
        if wrong:
            problems.append(f"registrations: {len(wrong)} rows disagree with what clients saw")
        if untouched:
            problems.append(f"registrations: {len(untouched)} rows no client saw written")
        for event in Event.objects.filter(uuid__in=plan["events"]):
            held = Registration.objects.filter(event=event, status="registered").count()
            waiting = Registration.objects.filter(event=event, status="waitlisted").count()
            if held > event.capacity:
                problems.append(f"{event.title}: {held} places for {event.capacity}")
            if waiting and held < event.capacity:
                problems.append(f"{event.title}: {waiting} waiting beside a free place")
        figures["event registrations and cancellations"] = (
            f"{len(by_kind['register']):,} + {len(by_kind['cancel']):,} seen; "
            f"{len(rows):,} rows, each as its person last saw it"
        )
    return problems, figures


def notifications_since(started_at) -> str:
    from django_scopes import scopes_disabled

    from notifications.models import Notification

    with scopes_disabled():
        return f"{Notification.objects.filter(created_at__gte=started_at).count():,}"


# --- the report ---------------------------------------------------------------------------


def machine_line() -> str:
    from django.db import connection

    from .metrics import machine

    return " ".join(machine(connection))


def load_text(load: float) -> str:
    return f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


def run_throughput(args, work: Path, port: int) -> str:
    from django.utils import timezone

    lines = [
        "# Throughput under gunicorn (2 workers)",
        "",
        f"Run on {timezone.now():%-d %B %Y %H:%M} UTC. {machine_line()}",
        "",
        "gunicorn 2 sync workers, production settings, PostgreSQL and Redis on the same host; "
        f"locust on loopback with {args.throughput_users} users that do not pause, "
        f"{args.seconds} s per page (the load generator shares the 2 CPUs with the server). "
        f"Data: the {args.fellows:,}-fellow synthetic programme.",
        "",
        "| Page | Requests | Errors | Req/s | p50 (ms) | p95 (ms) | p99 (ms) | Load average |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for label, user in [
        ("fellow home page (signed in)", "FellowHomeUser"),
        ("API list `/api/v1/fellows/` (Api-Key)", "ApiListUser"),
        ("trivial view (reference)", "TrivialUser"),
    ]:
        rows, _failures, (_before, after) = locust(
            work, port, args.throughput_users, args.seconds, [user], f"throughput-{user}"
        )
        total = next(r for r in rows if r["Name"] == "Aggregated")
        lines.append(
            f"| {label} | {int(total['Request Count']):,} | {int(total['Failure Count']):,} | "
            f"{float(total['Requests/s']):.1f} | {_ms(total, '50%')} | {_ms(total, '95%')} | "
            f"{_ms(total, '99%')} | {load_text(after)} |"
        )
        print(lines[-1], flush=True)
    command = "python -m benchmarks.load throughput"
    if args.seconds != 30 or args.fellows != 13_000:
        command += f" --seconds {args.seconds} --fellows {args.fellows}"
    lines += [""]
    if logged := server_log(work):
        lines += ["Server log (gunicorn):", "", *logged, ""]
    lines += [f"Command: `{command}`.", ""]
    return "\n".join(lines)


def run_load(args, work: Path, port: int, plan: dict) -> tuple[str, bool]:
    from django.utils import timezone

    started_at = timezone.now()
    before = baseline(plan)
    rows, failures, (load_before, load_after) = locust(
        work,
        port,
        args.users,
        args.duration,
        ["FellowUser", "MentorUser", "StaffUser", "PartnerUser"],
        "load",
    )
    outbox = wait_for_outbox()
    log_path = work / "load-writes.jsonl"
    log = (
        [json.loads(line) for line in log_path.read_text().splitlines()]
        if log_path.exists()
        else []
    )
    problems, figures = reconcile(plan, log, before)
    figures["notifications written during the run"] = notifications_since(started_at)
    total = next(r for r in rows if r["Name"] == "Aggregated")
    errors = int(total["Failure Count"])
    waiting = outbox.get("pending", 0) + outbox.get("sending", 0) + outbox.get("failed", 0)
    if waiting:
        problems.append(f"outbox not drained: {outbox}")
    ok = not problems and errors == 0
    logged = server_log(work)
    lines = [
        f"# Load test: {args.users} people for "
        + (f"{args.duration // 60} minutes" if args.duration % 60 == 0 else f"{args.duration} s"),
        "",
        f"Run on {started_at:%-d %B %Y %H:%M} UTC. {machine_line()}",
        f"Load average before {load_text(load_before)}, after {load_text(load_after)}.",
        "",
        f"{args.users} locust users for {args.duration} s (ramping up {max(1, args.users // 5)} "
        "a second) against gunicorn (2 sync workers, production settings) + PostgreSQL + Redis "
        "+ one Celery worker (concurrency 1, tasks through the broker), all on this machine; "
        f"at the end each user finishes the task it is in (up to {STOP_TIMEOUT} s), so that "
        f"no write is cut off half seen. Data: {plan['built']}",
        "",
        "Mix (locust weights): fellows 40 (home, PDP, meetings, events, directory, "
        "notifications, opportunities; register for an event or cancel, report funding, add an "
        "action to a PDP objective), mentors 5 (home, mentees, sign off a waiting meeting of "
        "a mentorship under way with their password, going on as the next of 40 mentors "
        "once one has none left), staff 3 (home, dashboard, people, "
        "verify an outcome from their share of the queue), partners 2 (API lists). Writes go "
        "through the real forms with CSRF tokens; a form error, any status other than the "
        "expected one or a redirect without the confirmation message counts as an error.",
        "",
        f"**Errors: {errors}. Reconciliation: "
        + (
            "every write the clients saw succeed is stored exactly once, and nothing else."
            if not problems
            else "PROBLEMS: " + "; ".join(problems)
        )
        + "**",
        "",
        "## Requests",
        "",
        *stats_table(rows),
        "",
        "## Writes and reconciliation",
        "",
        "| Write | Clients saw / the database holds |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in figures.items()],
        f"| outbox after the run | {', '.join(f'{k} {v:,}' for k, v in sorted(outbox.items()))} |",
        "",
    ]
    if failures:
        lines += [
            "## Failures",
            "",
            "| Method | Name | Error | Occurrences |",
            "|---|---|---|---:|",
        ]
        lines += [
            f"| {f['Method']} | {f['Name']} | {f['Error'][:200]} | {f['Occurrences']} |"
            for f in failures
        ]
        lines.append("")
    if logged:
        lines += ["## Server log", "", *logged, ""]
    command = "python -m benchmarks.load load"
    if args.duration != 300 or args.users != 50 or args.fellows != 13_000:
        command += f" --duration {args.duration} --users {args.users} --fellows {args.fellows}"
    lines += [f"Command: `{command}`.", ""]
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Throughput and load against gunicorn")
    parser.add_argument("what", nargs="?", default="all", choices=["all", "throughput", "load"])
    parser.add_argument("--fellows", type=int, default=13_000)
    parser.add_argument("--duration", type=int, default=300, help="seconds of the load test")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=30, help="seconds per throughput page")
    parser.add_argument("--throughput-users", type=int, default=8)
    parser.add_argument("--database", default="pitwall_bench")
    parser.add_argument("--keep", action="store_true", help="leave the database at the end")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="pitwall-bench-"))
    environment(args.database, work)
    create_database(args.database)
    flush_redis()
    plan = prepare(args.fellows, work)
    print(plan["built"], f"(prepared in {plan['prepared_in']:.0f} s)", flush=True)
    port = free_port()
    servers = Servers(work, port)
    ok = True
    try:
        servers.start()
        if args.what in ("all", "throughput"):
            text = run_throughput(args, work, port)
            (RESULTS / "throughput-postgresql.md").write_text(text)
            print(text, flush=True)
        if args.what in ("all", "load"):
            text, ok = run_load(args, work, port, plan)
            (RESULTS / "load-postgresql.md").write_text(text)
            print(text, flush=True)
    finally:
        servers.stop()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            create_database(args.database, drop_only=True)
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"Kept the database {args.database} and the logs in {work}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
