"""Real processes for tests that must see production behaviour (eager mode hides it): Celery
workers started as their own processes against Redis and the test database, private
redis-servers a test may stop and restart, and helpers to read what the workers emailed."""

import email
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from django.db import connection

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
SLOW_FILE_BACKEND = "tests.integration.mail_backends.SlowFileBackend"
EMAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def _database_url_for_worker() -> str:
    if connection.vendor != "postgresql":
        skip_or_fail("the worker integration tests need DATABASE_URL on PostgreSQL")
    s = connection.settings_dict
    auth = s["USER"] or "postgres"
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def wait_for(predicate, *, timeout=60, interval=0.2, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {message}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sent_emails(*mail_dirs: Path) -> list[email.message.Message]:
    """Every email the file backends wrote into these folders (a file may hold several)."""
    found = []
    for mail_dir in mail_dirs:
        for path in sorted(mail_dir.iterdir()):
            for chunk in path.read_bytes().split(EMAIL_SEPARATOR):
                if chunk.strip():
                    found.append(email.message_from_bytes(chunk))
    return found


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL")
    if not url:
        skip_or_fail("REDIS_URL is not set")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        skip_or_fail(f"Redis at {url} does not answer: {error}")
    return url


# --- a private redis-server -------------------------------------------------------------------


class RedisServer:
    """A throwaway redis-server on its own port; it can be stopped and restarted on that port.
    Never the shared server: a test that stops this one disturbs nobody else."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self._log = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=5)

    def answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def start(self, timeout=10):
        assert self.process is None, "this redis-server is already running"
        self._log = open(self.directory / "redis.log", "a")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


@pytest.fixture
def private_redis(redis_url, tmp_path):
    """A running redis-server of the test's own (gated on REDIS_URL like the other tests here)."""
    if shutil.which("redis-server") is None:
        skip_or_fail("redis-server is not installed")
    server = RedisServer(tmp_path / f"redis-{uuid.uuid4().hex[:6]}")
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- Celery workers ---------------------------------------------------------------------------


class Worker:
    """One `celery worker --pool=solo` process, with its log and the folder it emails into."""

    def __init__(self, *, name, queue, mail_dir, log_path, env):
        self.name, self.queue, self.mail_dir, self.log_path = name, queue, mail_dir, log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"{name}-{uuid.uuid4().hex[:6]}@%h",
                "-Q",
                queue,
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_until_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the Celery worker {self.name} exited early:\n{self.log()}")
            if "ready." in self.log():
                return
            time.sleep(0.1)
        pytest.fail(f"the Celery worker {self.name} did not start in {timeout}s:\n{self.log()}")

    def kill(self):
        """SIGKILL: no warm shutdown, no ack, no cleanup, as when the machine dies."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def start_worker(*, directory: Path, queue: str, redis_url: str, name="worker", env=None):
    """Start a worker consuming `queue` from `redis_url` against the test database, emailing
    into directory/<name>-mail with the file backend unless `env` says otherwise."""
    mail_dir = directory / f"{name}-mail"
    mail_dir.mkdir(parents=True, exist_ok=True)
    full_env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_worker(),
        "REDIS_URL": redis_url,
        "PITWALL_CELERY_QUEUE": queue,
        "EMAIL_BACKEND": FILE_BACKEND,
        "EMAIL_FILE_PATH": str(mail_dir),
        **(env or {}),
    }
    return Worker(
        name=name, queue=queue, mail_dir=mail_dir, log_path=directory / f"{name}.log", env=full_env
    )


@pytest.fixture
def worker_factory(transactional_db, tmp_path):
    """start(name=..., queue=..., redis_url=..., env=...) -> a ready Worker; every worker
    started is stopped (or already dead) when the test ends."""
    started = []

    def start(*, queue, redis_url, name="worker", env=None, wait=True):
        worker = start_worker(
            directory=tmp_path, queue=queue, redis_url=redis_url, name=name, env=env
        )
        started.append(worker)
        if wait:
            worker.wait_until_ready()
        return worker

    try:
        yield start
    finally:
        for worker in reversed(started):
            worker.stop()


def _reset_producer_pool(app):
    """Forget the pooled broker connections so the next publish uses app.conf.broker_url."""
    if app._pool is not None:
        app._pool.force_close_all()
    if app.amqp._producer_pool is not None:
        app.amqp._producer_pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_producer():
    """use(queue=..., broker_url=None): the test process publishes tasks for real (not eagerly)
    to that queue, through that broker. Everything is put back afterwards."""
    from config.celery import app

    previous = (app.conf.task_always_eager, app.conf.task_default_queue, app.conf.broker_url)

    def use(*, queue, broker_url=None):
        app.conf.task_always_eager = False
        app.conf.task_default_queue = queue
        if broker_url is not None:
            app.conf.broker_url = broker_url
            _reset_producer_pool(app)
            target, conn = urlsplit(broker_url), app.connection_for_write()
            assert (conn.hostname, conn.port) == (target.hostname, target.port)
        return app

    try:
        yield use
    finally:
        changed_broker = app.conf.broker_url != previous[2]
        app.conf.task_always_eager, app.conf.task_default_queue, app.conf.broker_url = previous
        if changed_broker:
            _reset_producer_pool(app)


@pytest.fixture
def celery_worker_process(worker_factory, celery_producer, redis_url):
    """Start `celery worker` on a private queue of the shared Redis; yields (queue, mail_dir)."""
    queue = f"pitwall-test-{uuid.uuid4().hex[:8]}"
    worker = worker_factory(queue=queue, redis_url=redis_url)
    celery_producer(queue=queue)
    yield queue, worker.mail_dir
