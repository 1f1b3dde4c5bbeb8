"""Fixtures for the browser suite: Debian's Chromium driven by Playwright's sync API.

The pages are served by pytest-django's live_server, with the demo data loaded into the test
database, and every page a journey visits is checked with axe-core.
"""

import io
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction

from tests.conftest import skip_or_fail

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

DEMO_PASSWORD = "pitwall-demo"
STAFF_EMAIL = "staff@cep.example"
MENTOR_EMAIL = "mentor@cep.example"
FELLOW_EMAIL = "fellow@cep.example"

TIMEOUT_MS = 15_000


@pytest.fixture(scope="package")
def browser():
    """One Chromium for this package's tests.

    Playwright's sync API leaves an event loop running in this thread, and Django's ORM refuses
    to run under one unless DJANGO_ALLOW_ASYNC_UNSAFE is set. The variable is set only while
    the browser is up (package scope), because a subprocess that inherited it would fail
    `manage.py check --deploy` (async.E001) in tests/test_platform.py.
    """
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is not installed, so the browser suite cannot run")
    if not AXE.exists():
        skip_or_fail(f"{AXE} is missing; run npm ci to install axe-core")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# The demo as the first browser test seeded it, table by table (PostgreSQL only).
_DEMO_SNAPSHOT: dict[str, bytes] = {}


def _demo_tables() -> list[str]:
    return connection.introspection.django_table_names(only_existing=True, include_views=False)


def _take_demo_snapshot() -> None:
    with connection.cursor() as cursor:
        for table in _demo_tables():
            with cursor.cursor.copy(f'COPY "{table}" TO STDOUT (FORMAT binary)') as copy:
                _DEMO_SNAPSHOT[table] = b"".join(bytes(chunk) for chunk in copy)


def _restore_demo_snapshot() -> None:
    """Put the demo back as it was seeded: each test starts from the same rows (with the same
    ids), in a second rather than the seconds seeding takes. Foreign keys and the signed-record
    triggers are switched off while the rows go in (replica mode, as a restore does)."""
    tables = ", ".join(f'"{table}"' for table in _DEMO_SNAPSHOT)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(f"TRUNCATE {tables} CASCADE")
        for table, rows in _DEMO_SNAPSHOT.items():
            with cursor.cursor.copy(f'COPY "{table}" FROM STDIN (FORMAT binary)') as copy:
                copy.write(rows)
        models = apps.get_models(include_auto_created=True)
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
    # The flush before this test made content types afresh, with other ids than the demo's.
    ContentType.objects.clear_cache()


@pytest.fixture
def demo_data(live_server):
    """The demo programmes and logins, loaded into the (transactional) test database. On
    PostgreSQL the first test seeds it and keeps a copy of every table; the others restore
    that copy instead of seeding again."""
    if connection.vendor != "postgresql":
        call_command("seed_demo", stdout=io.StringIO())
    elif _DEMO_SNAPSHOT:
        _restore_demo_snapshot()
    else:
        call_command("seed_demo", stdout=io.StringIO())
        _take_demo_snapshot()


@pytest.fixture(scope="session")
def _browser_media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("browser-media")


@pytest.fixture(autouse=True)
def _private_uploads_in_a_temporary_folder(settings, _browser_media_root):
    """One folder for the whole browser suite, so the demo's uploaded evidence, seeded once,
    is still there for the tests that restore the demo's rows."""
    settings.MEDIA_ROOT = _browser_media_root


def _new_context(browser, live_server, **options):
    """A fresh context (no cookies) that only talks to the live server.

    bypass_csp lets axe-core be injected despite the site's script-src 'self'. Requests for
    anything else (the NHS webfont host) are aborted, so the suite never touches the network.
    """
    context = browser.new_context(base_url=live_server.url, bypass_csp=True, **options)
    context.set_default_timeout(TIMEOUT_MS)
    origin = urlsplit(live_server.url).netloc

    def only_live_server(route):
        if urlsplit(route.request.url).netloc == origin:
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_live_server)
    return context


@pytest.fixture
def page(browser, live_server, demo_data):
    context = _new_context(browser, live_server)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def nojs_page(browser, live_server, demo_data):
    context = _new_context(browser, live_server, java_script_enabled=False)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, email, password=DEMO_PASSWORD, *, check_login_page=False):
    """Sign in through allauth's form, leaving the page wherever the login redirects."""
    page.goto("/accounts/login/")
    assert page.locator("h1").inner_text() == "Sign in to Pitwall"
    if check_login_page:
        assert_accessible(page)
    page.fill("#id_login", email)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/accounts/login/" not in page.url, f"sign-in as {email} failed: {page.url}"


def _run_axe(page):
    return page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )


def _axe_results_without_javascript(page):
    """axe-core cannot run in a page whose context has JavaScript turned off (its timers never
    fire), so replay the exact HTML that page received in a scripting context, with the site's
    own scripts blocked, and audit that instead."""
    html, url = page.content(), page.url
    origin = urlsplit(url).netloc
    context = page.context.browser.new_context(bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)

    def replay(route):
        request_url = route.request.url
        if request_url == url:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        elif urlsplit(request_url).netloc == origin and route.request.resource_type != "script":
            route.continue_()
        else:
            route.abort()

    context.route("**/*", replay)
    try:
        replayed = context.new_page()
        replayed.goto(url)
        replayed.add_script_tag(path=str(AXE))
        return _run_axe(replayed)
    finally:
        context.close()


def format_violations(violations) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact') or 'n/a'}): {violation['help']}"
            f"\n  {violation.get('helpUrl', '')}"
        )
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    at {target}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"       {summary}")
    return "\n".join(lines)


def assert_accessible(page):
    """Run axe-core (WCAG 2.0/2.1/2.2 A and AA rules) on the page and fail on any violation."""
    page.add_script_tag(path=str(AXE))
    if page.evaluate("() => typeof window.axe !== 'undefined'"):
        results = _run_axe(page)
    else:  # the page's context has JavaScript disabled
        results = _axe_results_without_javascript(page)
    violations = results["violations"]
    assert not violations, (
        f"axe-core found {len(violations)} accessibility violation(s) on {page.url}:\n"
        + format_violations(violations)
    )


def open_menu(page, name):
    """Follow a link of the header's menu. The links that do not fit on the line sit under
    "More" (NHS.UK frontend moves them there), so open it first when the link is hidden."""
    menu = page.get_by_role("navigation", name="Menu")
    link = menu.get_by_role("link", name=name, exact=True)
    if not link.first.is_visible():
        menu.get_by_role("button", name="More").click()
    with page.expect_navigation():
        link.first.click()
