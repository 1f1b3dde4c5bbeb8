"""Real processes for tests that must see production behaviour (eager mode hides it): Celery
workers started as their own processes against Redis and the test database, private
redis-servers and PostgreSQL clusters a test may stop and restart, the app under gunicorn,
database locks a test holds to catch a task mid-way, and helpers to read what the workers
emailed."""

import email
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest
import redis
from django.db import connection

from tests.conftest import postgres_test_database_url, skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
SLOW_FILE_BACKEND = "tests.integration.mail_backends.SlowFileBackend"
EMAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


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
        "DATABASE_URL": postgres_test_database_url(),
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
    """Forget the pooled broker connections so the next publish uses app.conf.broker_url.

    kombu keeps its pools in a registry of its own, one per broker: closing a pool but leaving
    it there hands the closed pool to the next publish to that broker ("Acquire on closed
    pool"). kombu.pools.reset() closes them all and empties the registry."""
    from kombu import pools

    pools.reset()
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
        if broker_url is not None and broker_url != app.conf.broker_url:
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


# --- database locks held from the test's own connection ---------------------------------------


@contextmanager
def holding_lock(sql: str, params=()):
    """Run `sql` (a SELECT ... FOR UPDATE, a LOCK TABLE) in a transaction on a connection of
    the test's own, outside Django's, and hold what it locked until the block ends (then roll
    back). Yields that connection's backend pid: a worker stuck behind it is blocked_behind(pid).
    This is how a test catches a task in the middle of its work without a hook in the code."""
    import psycopg

    lock = psycopg.connect(postgres_test_database_url(), autocommit=False)
    try:
        lock.execute(sql, params)
        yield lock.info.backend_pid
    finally:
        lock.rollback()
        lock.close()


def blocked_behind(holder_pid: int) -> list[tuple[int, str]]:
    """(pid, query) of every database session waiting for a lock that `holder_pid` holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, query FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            [holder_pid],
        )
        return cursor.fetchall()


def session_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


# --- a private PostgreSQL cluster -------------------------------------------------------------


class PostgresCluster:
    """A throwaway PostgreSQL cluster on its own port, in a temporary folder, that a test may
    stop and start again (never the shared server). Run as the postgres OS user when the tests
    run as root (PostgreSQL refuses to run as root), else as the current user."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.directory = Path(tempfile.mkdtemp(prefix="pitwall-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        self.running = False
        if os.geteuid() == 0:
            shutil.chown(self.directory, user="postgres", group="postgres")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command, timeout=60):
        argv = [str(self.bindir / command[0]), *command[1:]]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            pytest.fail(f"{command[0]} failed ({result.returncode}):\n{result.stderr}{self.log()}")
        return result

    def log(self) -> str:
        path = self.directory / "postgres.log"
        return path.read_text() if path.exists() else ""

    def initdb(self):
        # Speed over durability: nothing here needs to outlive the test.
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--no-sync", "--encoding=UTF8", "--locale=C",
        )  # fmt: skip

    def start(self):
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.directory / "postgres.log"),
            "-o", options, "-w", "-t", "30", "start",
        )  # fmt: skip
        self.running = True

    def stop(self, mode="fast"):
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")
            self.running = False

    def load(self, database: str, source_url: str):
        """A copy of `source_url`'s schema and rows as `database` (pg_dump piped into psql:
        much quicker than running the migrations)."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", database)
        dump = subprocess.Popen(
            [str(self.bindir / "pg_dump"), "--no-owner", "--no-privileges", "-d", source_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        restore = subprocess.run(
            [str(self.bindir / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url(database)],
            stdin=dump.stdout,
            capture_output=True,
            timeout=120,
        )
        dump.stdout.close()
        dump_error = dump.stderr.read().decode()
        if dump.wait(timeout=120) != 0 or restore.returncode != 0:
            pytest.fail(f"copying the test database failed:\n{dump_error}{restore.stderr}")

    def remove(self):
        try:
            self.stop(mode="immediate")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def _postgres_bindir() -> Path | None:
    """The server binaries of the same major version as the test database's server (pg_dump
    must not be older than the server it reads)."""
    if os.environ.get("PITWALL_PG_BINDIR"):
        return Path(os.environ["PITWALL_PG_BINDIR"])
    major = connection.pg_version // 10000
    for candidate in (Path(f"/usr/lib/postgresql/{major}/bin"), Path(f"/usr/pgsql-{major}/bin")):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@pytest.fixture
def private_postgres(transactional_db):
    """A stopped-and-startable PostgreSQL cluster of the test's own, initialised and running."""
    postgres_test_database_url()  # PostgreSQL only
    bindir = _postgres_bindir()
    if bindir is None:
        skip_or_fail("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _user_exists("postgres")):
        skip_or_fail("running as root, a private PostgreSQL needs runuser and a postgres user")
    cluster = PostgresCluster(bindir)
    try:
        cluster.initdb()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


# --- a real web server ------------------------------------------------------------------------


class WebServer:
    """The app under gunicorn, as production runs it, with its own environment."""

    def __init__(self, *, directory: Path, env: dict, workers=2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = directory / "gunicorn.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "config.wsgi:application",
                "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
                "--timeout", "60", "--graceful-timeout", "5",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text()

    def get(self, path: str, *, cookie: str = "", timeout=15) -> "Answer":
        return http_get(self.url + path, cookie=cookie, timeout=timeout)

    def wait_until_up(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited early:\n{self.log()}")
            try:
                if self.get("/healthz", timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        pytest.fail(f"gunicorn did not answer in {timeout}s:\n{self.log()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


class Answer(NamedTuple):
    status: int
    text: str
    headers: dict
    seconds: float


def http_get(url: str, *, cookie: str = "", timeout=15) -> Answer:
    """GET with no redirects followed; any status is an answer, only no answer raises."""
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(NoRedirect)
    started = time.monotonic()
    try:
        with opener.open(request, timeout=timeout) as response:
            status, body, headers = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, body, headers = error.code, error.read(), dict(error.headers)
    return Answer(status, body.decode(errors="replace"), headers, time.monotonic() - started)


@pytest.fixture
def web_server(tmp_path):
    """start(env=..., workers=2, wait=True) -> a WebServer (answering /healthz unless
    wait=False); every server started is stopped at the end."""
    started = []

    def start(*, env, workers=2, wait=True):
        server = WebServer(directory=tmp_path, env=env, workers=workers)
        started.append(server)
        if wait:
            server.wait_until_up()
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
