"""The fault suite (issue #9): the platform keeps its promises of DESIGN §10 and §14 when its
services fail, shown with real processes and no test hooks in the code.

- Redis (the broker and the cache) stopped while people sign off, register and have outcomes
  verified: every request succeeds and every notification is delivered once Redis is back.
- A worker killed with SIGKILL in the middle of each kind of job that has an effect (the
  metric figures, the annual report, the forecast, a people import): the task runs again on
  the next worker and its effect happens exactly once. The test catches the task mid-way by
  holding a database lock the task needs, from a connection of its own.
- PostgreSQL restarted under the app running in gunicorn: /readyz says so at once, pages
  answer 503 (never hang), and the app and a worker recover by themselves.

The existing reliability tests cover the rest (an announcement while Redis is down, a worker
killed while emailing, senders racing, webhooks, two metric runs at once) and are not repeated.
"""

import io
import re
import time
import uuid
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import AuditEvent, Fellow, PeopleImport, Role
from events.models import Registration
from mentoring.models import Meeting
from metrics.models import (
    ForecastRun,
    FundingRecord,
    MetricRun,
    MetricSnapshot,
    OutcomeStatus,
    ProgrammeReport,
)
from metrics.services import metric_run_request, report_request
from notifications.models import Kind, Notification, OutboxMessage
from notifications.tasks import digest_send_daily, outbox_sweep
from tests.conftest import postgres_test_database_url
from tests.factories import (
    PASSWORD,
    CohortFactory,
    EventFactory,
    FellowFactory,
    MembershipFactory,
    MentorshipFactory,
    OutboxMessageFactory,
    UserFactory,
    VentureFactory,
)
from tests.mentoring.conftest import Journey
from tests.metrics.test_forecast_runs import reviewed_venture

from .conftest import (
    blocked_behind,
    holding_lock,
    sent_emails,
    session_alive,
    wait_for,
)
from .test_metric_jobs import _funding
from .test_notification_reliability import _message_id, _task_result

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# The broker hands an unacknowledged task out again after this long (acks_late); the workers
# of these tests use it instead of production's hour.
VISIBILITY_TIMEOUT = 2
RELIABILITY = {"PITWALL_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}


def _queue() -> str:
    return f"pitwall-test-{uuid.uuid4().hex[:8]}"


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


# --- Redis stopped during the real workflows --------------------------------------------------


@pytest.fixture
def redis_for_everything(private_redis, celery_producer, settings):
    """Point the app at the private Redis for all it uses Redis for, as production does with
    one REDIS_URL: the broker the web process publishes to, the cache (rate limits, the
    partner API's throttle) and the broker /readyz checks. Returns the queue name."""
    queue = _queue()
    celery_producer(queue=queue, broker_url=private_redis.url)
    settings.REDIS_URL = private_redis.url
    # The cache as config/settings.py sets it up for REDIS_URL, on the private server.
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": private_redis.url},
    }
    return queue


def _fellow(programme, email, cohort=None):
    user = UserFactory(email=email)
    MembershipFactory(programme=programme, user=user, role=Role.FELLOW)
    FellowFactory(programme=programme, user=user, **({"cohort": cohort} if cohort else {}))
    return user


def test_with_redis_stopped_people_sign_off_register_and_report_and_everything_arrives_later(
    private_redis,
    worker_factory,
    redis_for_everything,
    programme_a,
    staff_a,
    fellow_a,
    mentor_a,
    caplog,
):
    # A mentorship whose first meeting the fellow has sent to the mentor to sign off.
    starts = timezone.localdate() - timedelta(days=80)
    year = CohortFactory(programme=programme_a, starts_on=starts, ends_on=starts + timedelta(364))
    with scopes_disabled():
        fellow = Fellow.objects.get(user=fellow_a)
        fellow.cohort = year
        fellow.save()
        mentorship = MentorshipFactory(
            fellow=fellow, mentor=mentor_a.mentor_profiles.get(), cohort=year, started_on=starts
        )
    journey = Journey(programme_a, mentorship)
    from config.celery import app

    app.conf.task_always_eager = True  # the setup's own emails go at once, in-process
    meeting = journey.draft(1)
    journey.submit(meeting)
    app.conf.task_always_eager = False
    # An event with one place, taken by another fellow; a venture to report funding for.
    event = EventFactory(programme=programme_a, capacity=1, title="Pit Stop: pitching")
    other = _fellow(programme_a, "other.fellow@alpha.example")
    venture = VentureFactory(programme=programme_a, fellow=fellow, name="TriageFlow")
    with scopes_disabled():
        outbox_before = set(OutboxMessage.objects.values_list("pk", flat=True))
        notifications_before = set(Notification.objects.values_list("pk", flat=True))
        assert not OutboxMessage.objects.exclude(status=OutboxMessage.Status.SENT).exists()

    private_redis.stop()
    caplog.set_level("WARNING")
    mentor, me, them, staff = (_signed_in(u) for u in (mentor_a, fellow_a, other, staff_a))
    base = f"/p/{programme_a.slug}"

    # /readyz says the broker is gone (the database still answers).
    ready = mentor.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": True, "broker": False}

    # The mentor signs the record off (the sign-off's rate limit lives in the cache).
    signed, took_sign = _timed(
        lambda: mentor.post(f"{base}/meetings/{meeting.uuid}/sign/", {"secret": PASSWORD})
    )
    assert signed.status_code == 302, signed.content.decode()[:3000]
    # The other fellow takes the place, our fellow registers and waits, the other gives the
    # place up and ours moves up the list.
    taken = them.post(f"{base}/events/{event.uuid}/register/")
    waiting, took_register = _timed(lambda: me.post(f"{base}/events/{event.uuid}/register/"))
    given_up = them.post(f"{base}/events/{event.uuid}/unregister/")
    assert [taken.status_code, waiting.status_code, given_up.status_code] == [302, 302, 302]
    # The fellow reports funding and staff verify it.
    reported, took_report = _timed(
        lambda: me.post(
            f"{base}/outcomes/funding/new/",
            {
                "venture": venture.pk,
                "kind": "grant",
                "amount": "75000",
                "source": "SBRI Healthcare",
                "received_on": (timezone.localdate() - timedelta(days=20)).isoformat(),
                "evidence": "Award letter SBRI-7",
            },
        )
    )
    assert reported.status_code == 302, reported.content.decode()[:3000]
    with scopes_disabled():
        record = FundingRecord.objects.get(fellow=fellow, source="SBRI Healthcare")
    assert record.status == OutcomeStatus.REPORTED
    verified, took_verify = _timed(
        lambda: staff.post(f"{base}/outcomes/funding/{record.uuid}/verify/")
    )
    assert verified.status_code == 302
    # Nothing waited for Redis: each request failed over at once.
    for took in (took_sign, took_register, took_report, took_verify):
        assert took < 30, f"a request took {took:.1f}s with Redis down"

    # Every change was saved...
    with scopes_disabled():
        meeting.refresh_from_db()
        assert meeting.status == Meeting.Status.SIGNED
        places = dict(Registration.objects.filter(event=event).values_list("user_id", "status"))
        assert places == {
            fellow_a.pk: Registration.Status.REGISTERED,
            other.pk: Registration.Status.CANCELLED,
        }
        record.refresh_from_db()
        assert record.status == OutcomeStatus.VERIFIED
        # ...with its notifications, in the app at once and in the outbox for email.
        told = Notification.objects.exclude(pk__in=notifications_before)
        assert sorted(told.values_list("recipient_id", "kind")) == sorted(
            [(fellow_a.pk, Kind.MENTORSHIP), (fellow_a.pk, Kind.EVENT), (fellow_a.pk, Kind.OUTCOME)]
        )
        assert told.get(kind=Kind.OUTCOME).digest_state == Notification.DigestState.PENDING
        waiting_mail = list(OutboxMessage.objects.exclude(pk__in=outbox_before))
    assert sorted(m.kind for m in waiting_mail) == [Kind.EVENT, Kind.MENTORSHIP]
    assert {(m.status, m.attempts) for m in waiting_mail} == {(OutboxMessage.Status.PENDING, 0)}
    assert "Broker unavailable" in caplog.text  # publishing was tried, failed and was logged
    assert "The cache (Redis) is unavailable" in caplog.text

    # Redis comes back, empty; a worker starts. Only the sweep and the digest (beat runs both)
    # can deliver now, and they deliver each message once.
    private_redis.start()
    assert mentor.get("/readyz").status_code == 200
    worker = worker_factory(queue=redis_for_everything, redis_url=private_redis.url)
    assert _task_result(worker, outbox_sweep.apply_async().id) == "2"
    assert _task_result(worker, digest_send_daily.apply_async().id) == "1"

    def all_sent():
        with scopes_disabled():
            fresh = OutboxMessage.objects.exclude(pk__in=outbox_before)
            return fresh.count() == 3 and not fresh.exclude(status="sent").exists()

    wait_for(all_sent, timeout=60, message="the digest to be delivered")
    assert _task_result(worker, outbox_sweep.apply_async().id) == "0"
    assert _task_result(worker, digest_send_daily.apply_async().id) == "0"
    with scopes_disabled():
        delivered = list(OutboxMessage.objects.exclude(pk__in=outbox_before))
    assert {(m.status, m.attempts) for m in delivered} == {(OutboxMessage.Status.SENT, 1)}
    emails = sent_emails(worker.mail_dir)
    assert sorted(e["Message-ID"] for e in emails) == sorted(_message_id(m) for m in delivered)
    assert {e["To"] for e in emails} == {fellow_a.email}
    subjects = " | ".join(
        " ".join(str(make_header(decode_header(e["Subject"]))).split()) for e in emails
    )
    assert "signed off the record of meeting 1" in subjects
    assert "A place has come up" in subjects
    [digest] = [m for m in delivered if m.kind == Kind.DIGEST]
    assert "Verified:" in digest.body_text and "SBRI Healthcare" in digest.body_text


# --- a worker killed in the middle of each kind of job ----------------------------------------


class KilledJob:
    """One kind of job with an effect, caught mid-way and killed with its worker.

    The test holds `lock` (SQL run on a connection of its own) before the job is queued, so
    the worker taking it is stopped inside the job, waiting on `table`; then it is killed
    with SIGKILL. `queue_job` queues the job, `when_killed` checks that nothing of its effect
    is there yet and `check` that, run again by the next worker, it happened exactly once."""

    name = ""
    lock = ""
    table = ""
    task = ""
    tasks_queued = 1

    def __init__(self, programme, staff, fellow):
        self.programme, self.staff, self.fellow = programme, staff, fellow
        self.queue = _queue()
        self.lock_params = ()

    def queue_job(self): ...

    def when_killed(self): ...

    def check(self, worker, task_id): ...


class MetricRunKilled(KilledJob):
    """The figures: computed, then saved as a whole in one transaction (the snapshots' table
    is where the test stops it, with the programme's row lock already taken)."""

    name = "metric-run"
    table = MetricSnapshot._meta.db_table
    lock = f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
    task = "metrics.tasks.metric_snapshots_task"

    def queue_job(self):
        with scope(programme=self.programme):
            self.run = metric_run_request(programme=self.programme, actor=self.staff)

    def when_killed(self):
        self.run.refresh_from_db()
        # Killed with every figure computed and none saved: the run is left "running".
        assert (self.run.status, self.run.current_step) == ("running", "Saving the figures")

    def check(self, worker, task_id):
        assert _task_result(worker, task_id) == str(self.run.pk)  # the same task, again
        self.run.refresh_from_db()
        assert self.run.status == MetricRun.Status.DONE, self.run.problem
        with scopes_disabled():
            assert MetricRun.objects.filter(programme=self.programme).count() == 1
            snapshots = MetricSnapshot.objects.filter(programme=self.programme)
            assert {s.run_id for s in snapshots} == {self.run.pk}
            assert snapshots.count() == self.run.snapshot_count
            keys = list(snapshots.values_list("key", "cohort_id", "period_start"))
            assert len(keys) == len(set(keys))
            total = snapshots.get(key="funding_raised", cohort__isnull=True)
            assert total.value == 2500


class ReportKilled(KilledJob):
    """The annual report: claimed, then laid out from the saved figures (the test keeps the
    worker out of them) and stored with its PDF in one statement."""

    name = "report"
    table = MetricSnapshot._meta.db_table
    lock = f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
    task = "metrics.tasks.programme_report_task"

    def queue_job(self):
        with scope(programme=self.programme):
            cohort = Fellow.objects.get(user=self.fellow).cohort
            self.report = report_request(programme=self.programme, cohort=cohort, actor=self.staff)

    def when_killed(self):
        self.report.refresh_from_db()
        assert self.report.status == ProgrammeReport.Status.RUNNING and not self.report.pdf

    def check(self, worker, task_id):
        assert _task_result(worker, task_id, timeout=90) == str(self.report.pk)
        self.report.refresh_from_db()
        assert self.report.status == ProgrammeReport.Status.DONE, self.report.problem
        assert bytes(self.report.pdf).startswith(b"%PDF-")
        assert self.report.size == len(self.report.pdf)
        with scopes_disabled():
            assert ProgrammeReport.objects.filter(programme=self.programme).count() == 1


class ForecastKilled(KilledJob):
    """The forecast recomputation: the venture's, its cohort's and the programme's runs stored
    in one transaction (the test stops it at the runs' table, the venture's forecast made)."""

    name = "forecast"
    table = ForecastRun._meta.db_table
    lock = f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
    task = "metrics.tasks.forecast_recompute"
    tasks_queued = 2  # the fellow sends the inputs and staff accept them: a recompute each

    def queue_job(self):
        self.venture = reviewed_venture(self.programme, self.staff)

    def when_killed(self):
        with scopes_disabled():
            assert not ForecastRun.objects.filter(programme=self.programme).exists()

    def check(self, worker, task_id):
        _task_result(worker, task_id, timeout=60)

        def both_done():
            done = re.findall(rf"{re.escape(self.task)}\[[0-9a-f-]+\] succeeded", worker.log())
            return len(done) == self.tasks_queued

        wait_for(both_done, timeout=60, message="the other recompute")
        with scopes_disabled():
            runs = ForecastRun.objects.filter(programme=self.programme)
            assert sorted(runs.values_list("scope", flat=True)) == [
                "cohort",
                "programme",
                "venture",
            ]
            assert runs.get(scope="venture").venture_id == self.venture.pk


class ImportKilled(KilledJob):
    """A people import: every row and the job's outcome saved in one transaction (each row is
    audited as it is saved: the test stops it at the audit table, one person half-enrolled),
    then an invitation emailed to each new fellow."""

    name = "import"
    table = AuditEvent._meta.db_table
    lock = f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
    task = "cohort.tasks.people_import_run_task"

    def queue_job(self):
        from cohort.importing import COLUMNS, import_preview, people_import_queue

        self.cohort = CohortFactory(programme=self.programme)
        rows = [",".join(COLUMNS["fellows"])] + [
            f"killed.import{i}@nhs.example,Person {i},Doctor,,,,London,In programme,,no,yes,,"
            for i in range(3)
        ]
        upload = SimpleUploadedFile("cohort.csv", io.BytesIO("\n".join(rows).encode()).read())
        with scope(programme=self.programme):
            preview = import_preview(
                programme=self.programme, kind="fellows", cohort=self.cohort, uploaded_file=upload
            )
            assert preview.is_valid
            self.job = people_import_queue(
                programme=self.programme, state=preview.state(), actor=self.staff
            )

    def when_killed(self):
        self.job.refresh_from_db()
        assert self.job.status == PeopleImport.Status.RUNNING
        with scopes_disabled():
            assert not Fellow.objects.filter(cohort=self.cohort).exists()

    def check(self, worker, task_id):
        from cohort.models import Invitation

        assert _task_result(worker, task_id, timeout=60) == "'done'"
        self.job.refresh_from_db()
        assert (self.job.status, self.job.imported_count, self.job.invitations_sent) == (
            "done",
            3,
            3,
        )

        def invited():
            with scopes_disabled():
                mail = OutboxMessage.objects.filter(to_email__startswith="killed.import")
                return mail.count() == 3 and not mail.exclude(status="sent").exists()

        wait_for(invited, timeout=60, message="the three invitations to be sent")
        with scopes_disabled():
            assert Fellow.objects.filter(cohort=self.cohort).count() == 3
            assert Invitation.objects.filter(email__startswith="killed.import").count() == 3
        emails = sent_emails(worker.mail_dir)
        expected = [f"killed.import{i}@nhs.example" for i in range(3)]
        assert sorted(e["To"] for e in emails) == expected


def test_a_worker_killed_mid_job_leaves_the_job_to_the_next_which_does_it_exactly_once(
    private_redis, worker_factory, celery_producer, programme_a, staff_a, fellow_a, monkeypatch
):
    """For each kind of job with an effect (notifications and webhooks have their own tests):
    a worker is killed with SIGKILL inside the job; the broker hands the unacknowledged task
    (acks_late) to the next worker once the visibility timeout is over, and that worker does
    the job, once. One worker per job is started at the outset, each on its own queue, so
    their start-up overlaps; the jobs are then caught and killed one after another."""
    monkeypatch.setattr("cohort.importing.INLINE_IMPORT_ROWS", 1)  # the import goes to a worker
    _funding(programme_a, fellow_a, "2500")
    jobs = [
        kind(programme_a, staff_a, fellow_a)
        for kind in (MetricRunKilled, ReportKilled, ForecastKilled, ImportKilled)
    ]
    first = {
        job.name: worker_factory(
            name=f"{job.name}-first",
            queue=job.queue,
            redis_url=private_redis.url,
            env=RELIABILITY,
            wait=False,
        )
        for job in jobs
    }
    broker = private_redis.client()
    with connection.cursor() as cursor:
        # Should the test itself ever wait for its own lock, it fails instead of hanging.
        cursor.execute("SET lock_timeout = '30s'")
    task_ids = {}
    for job in jobs:
        celery_producer(queue=job.queue, broker_url=private_redis.url)
        worker = first[job.name]
        with holding_lock(job.lock, job.lock_params) as lock:
            job.queue_job()
            backend = _kill_when_blocked(worker, lock, expect_in_query=f'"{job.table}"')
            killed_at = time.monotonic()
        [task_ids[job.name]] = _received(worker, job.task)
        wait_for(lambda b=backend: not session_alive(b), timeout=30, message="the session to end")
        job.when_killed()
    # Every task is still the broker's, unacknowledged, and nothing of any job was kept.
    assert broker.hlen("unacked") == len(jobs)

    time.sleep(max(0.0, VISIBILITY_TIMEOUT + 0.5 - (time.monotonic() - killed_at)))
    after = worker_factory(
        name="next",
        queue=",".join(job.queue for job in jobs),
        redis_url=private_redis.url,
        # What this worker queues itself (the import's invitations) goes to a queue it reads.
        env={**RELIABILITY, "PITWALL_CELERY_QUEUE": jobs[-1].queue},
    )
    for job in jobs:
        job.check(after, task_ids[job.name])
    assert broker.hlen("unacked") == 0


def _kill_when_blocked(worker, holder_pid, *, expect_in_query: str, timeout=90):
    """Wait until the worker's database session waits for the test's lock, then SIGKILL the
    worker. Returns the dead worker's database session (pid): once the lock is released it
    notices its client is gone and rolls back."""
    found = []

    def blocked():
        found[:] = blocked_behind(holder_pid)
        return bool(found)

    wait_for(blocked, timeout=timeout, message=f"{worker.name} to wait for the test's lock")
    [(backend, query)] = found
    assert expect_in_query in query, query
    worker.kill()
    return backend


def _received(worker, task_name: str) -> list[str]:
    return re.findall(rf"{re.escape(task_name)}\[([0-9a-f-]+)\] received", worker.log())


# --- PostgreSQL restarted under the running app -----------------------------------------------


def test_the_app_rides_out_a_postgresql_restart(
    private_postgres,
    private_redis,
    web_server,
    worker_factory,
    celery_producer,
    programme_a,
    fellow_a,
):
    # The app under gunicorn and a worker, on the private cluster (they start up meanwhile:
    # neither touches the database before it is asked something).
    database_url = private_postgres.url("pitwall")
    queue = _queue()
    celery_producer(queue=queue, broker_url=private_redis.url)
    worker = worker_factory(
        queue=queue, redis_url=private_redis.url, env={"DATABASE_URL": database_url}, wait=False
    )
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": private_redis.url,
        "PITWALL_CELERY_QUEUE": queue,
        "DJANGO_DEBUG": "0",  # the pages people see, not Django's debug pages
        "PITWALL_DB_CONNECT_TIMEOUT": "3",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    app = web_server(env=env, workers=2, wait=False)
    # What they will need, made in the test database and copied into the cluster: a signed-in
    # fellow and an email waiting to be sent.
    client = _signed_in(fellow_a)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    with scopes_disabled():
        message = OutboxMessageFactory(programme=programme_a, to_email=fellow_a.email)
    private_postgres.load("pitwall", postgres_test_database_url())
    app.wait_until_up()
    worker.wait_until_ready()
    page = f"/p/{programme_a.slug}/"
    assert app.get("/readyz").status == 200
    home = app.get(page, cookie=cookie)
    assert home.status == 200 and fellow_a.display_name in home.text

    private_postgres.stop()
    # Every gunicorn worker finds its connection gone: ask often enough to reach both.
    for _ in range(4):
        ready = app.get("/readyz")
        assert ready.status == 503 and '"database": false' in ready.text
        # Bounded by the connect timeout (3 s), with room for a slow machine.
        assert ready.seconds < 10, f"/readyz took {ready.seconds:.1f}s with the database down"
    assert app.get("/healthz").status == 200  # the process is up: no restart wanted
    down = app.get(page, cookie=cookie)
    assert down.status == 503 and down.seconds < 15
    assert "Sorry, the service is unavailable" in down.text
    assert down.headers.get("Retry-After") == "30"
    assert "Traceback" not in down.text

    private_postgres.start()
    # Without restarting anything the app answers again: each stale connection is noticed and
    # replaced (CONN_HEALTH_CHECKS), so no request fails once the database is back.
    wait_for(lambda: app.get("/readyz").status == 200, timeout=20, message="/readyz to recover")
    for _ in range(4):
        assert app.get("/readyz").status == 200
        again = app.get(page, cookie=cookie)
        assert again.status == 200 and fellow_a.display_name in again.text
    # The worker rode it out too: the sweep (beat's every minute) sends the waiting email.
    assert _task_result(worker, outbox_sweep.apply_async().id) == "1"
    [sent] = sent_emails(worker.mail_dir)
    assert sent["Message-ID"] == _message_id(message)
