"""Fixtures for the browser suite: Debian's Chromium driven by Playwright's sync API.

The pages are served by pytest-django's live_server, with the demo data loaded into the test
database, and every page a journey visits is checked with axe-core.
"""

import io
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command

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


@pytest.fixture
def demo_data(live_server):
    """The demo programmes and logins, loaded into the (transactional) test database."""
    call_command("seed_demo", stdout=io.StringIO())


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
