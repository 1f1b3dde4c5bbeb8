"""Journeys through notifications and announcements in a real browser, with axe-core on every
page: staff publish an announcement, fellows see it on their home page and in the notification
centre, and choose how they hear about things."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import FELLOW_EMAIL, STAFF_EMAIL, assert_accessible, open_menu, sign_in

pytestmark = pytest.mark.browser

NEW_TITLE = "Pitch clinic: book your slot"
NEW_BODY = (
    "Our investors will give feedback on five-minute pitches next month.\n\n"
    "Book a slot through the programme team."
)
# Announcements seed_demo sends to fellow@cep.example.
WELCOME_TITLE = "Welcome to the NHS Clinical Entrepreneur Programme"
PIT_STOP_TITLE = "Pit Stop in Manchester: registration is open"

UNREAD_LINK = re.compile(r"^Notifications\s+(\d+)\s+unread$")


def _notifications_link(page):
    return page.get_by_role("navigation", name="Account").get_by_role(
        "link", name=re.compile(r"^Notifications")
    )


def _unread_count(page) -> int:
    """The number on the header badge, read from the link's accessible name."""
    link = _notifications_link(page)
    expect(link).to_have_accessible_name(UNREAD_LINK)
    expect(link.locator(".pitwall-badge")).to_be_visible()
    name = link.evaluate("el => el.textContent.replace(/\\s+/g, ' ').trim()")
    match = UNREAD_LINK.match(name)
    assert match, name
    return int(match.group(1))


def _announcements_section(page):
    return page.get_by_role("region", name="Announcements")


def _sign_out(page):
    with page.expect_navigation():
        page.get_by_role("navigation", name="Account").get_by_role(
            "button", name="Sign out"
        ).click()
    assert "/accounts/login/" in page.url, page.url


def _write_announcement(page):
    """From any staff page: Announcements → Write an announcement."""
    open_menu(page, "Announcements")
    assert page.url.endswith("/p/cep/announcements/")
    expect(page.locator("h1")).to_have_text("Announcements")
    expect(page.get_by_role("link", name=WELCOME_TITLE)).to_be_visible()
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("link", name="Write an announcement").click()
    assert page.url.endswith("/p/cep/announcements/new/")
    expect(page.locator("h1")).to_have_text("Write an announcement")
    assert_accessible(page)


def _complete_and_publish_to_fellows(page, title) -> int:
    """Fill in the rest of the form for "Everyone with one role" = Fellows and publish it;
    returns how many people the success message says it went to."""
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Everyone with one role").check()
    page.get_by_label("Role (if for one role)").select_option(label="Fellows")
    with page.expect_navigation():
        page.get_by_role("button", name="Publish announcement").click()
    assert re.search(r"/p/cep/announcements/[0-9a-f-]{36}/$", page.url), page.url
    status = page.get_by_role("status")
    expect(status).to_contain_text(re.compile(r"Announcement published to \d+ people\."))
    published = re.search(r"published to (\d+) people", status.inner_text())
    assert published, status.inner_text()
    expect(page.locator("h1")).to_have_text(title)
    return int(published.group(1))


def _staff_publishes(page, title):
    """The short way for journeys that only need the announcement to exist."""
    sign_in(page, STAFF_EMAIL)
    _write_announcement(page)
    page.get_by_label("Announcement", exact=True).fill(NEW_BODY)
    recipients = _complete_and_publish_to_fellows(page, title)
    assert_accessible(page)
    _sign_out(page)
    return recipients


def test_staff_publish_an_announcement_to_fellows_and_check_email_deliveries(page):
    sign_in(page, STAFF_EMAIL)
    assert page.url.endswith("/p/cep/")
    assert_accessible(page)
    _write_announcement(page)

    # Only the text typed: the title and the audience are missing.
    page.get_by_label("Announcement", exact=True).fill(NEW_BODY)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Publish announcement").click()
    response = navigation.value
    assert response is not None and response.status == 400, response and response.status
    expect(page).to_have_title(re.compile(r"^Error: Write an announcement"))
    summary = page.locator(".nhsuk-error-summary")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary.get_by_role("listitem")).to_have_count(2)
    expect(summary.locator('a[href="#id_title"]')).to_have_text("This field is required.")
    expect(summary.locator('a[href^="#id_audience"]')).to_have_text("This field is required.")
    expect(page.locator("#id_title-error")).to_contain_text("This field is required.")
    expect(page.locator("#id_audience-error")).to_contain_text("This field is required.")
    expect(page.get_by_label("Announcement", exact=True)).to_have_value(NEW_BODY)
    assert_accessible(page)

    recipients = _complete_and_publish_to_fellows(page, NEW_TITLE)
    assert recipients > 1
    expect(page.get_by_role("heading", name="Who it went to")).to_be_visible()
    expect(
        page.get_by_text(
            f"Everyone with the fellow role: {recipients} people, 0 of whom have read it."
        )
    ).to_be_visible()
    table = page.get_by_role("table", name="Recipients and whether they have read it")
    expect(table.locator("tbody tr")).to_have_count(min(recipients, 100))
    expect(table.locator("tbody tr").first).to_contain_text("Not yet")
    if recipients > 100:  # 100 recipients a page
        expect(page.get_by_role("navigation", name="Pagination")).to_contain_text("Page 2 of")
    assert_accessible(page)

    open_menu(page, "Home")
    assert page.url.endswith("/p/cep/")
    expect(page.get_by_text("1 failed")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("link", name="See email deliveries").click()
    assert page.url.endswith("/p/cep/notifications/deliveries/")
    expect(page.locator("h1")).to_have_text("Email deliveries")
    failed = page.get_by_role("table", name="Emails that could not be delivered").get_by_role("row")
    row = failed.filter(has_text="old.address@nhs.example")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("SMTPRecipientsRefused")
    expect(row.get_by_role("button", name="Send again to old.address@nhs.example")).to_be_visible()
    assert_accessible(page)


def test_fellow_reads_dismisses_and_clears_a_new_announcement(page):
    _staff_publishes(page, NEW_TITLE)

    sign_in(page, FELLOW_EMAIL)
    assert page.url.endswith("/p/cep/")
    unread = _unread_count(page)
    assert unread >= 1
    announcements = _announcements_section(page)
    expect(announcements.get_by_role("heading", name="Announcements")).to_be_visible()
    card = announcements.locator(".nhsuk-card").filter(has=page.get_by_role("link", name=NEW_TITLE))
    expect(card).to_have_count(1)
    expect(card).to_contain_text("New")
    expect(card).to_contain_text("Our investors will give feedback")
    assert_accessible(page)

    with page.expect_navigation():
        card.get_by_role("button", name=f"Dismiss announcement: {NEW_TITLE}").click()
    assert page.url.endswith("/p/cep/")
    expect(page.get_by_role("status")).to_contain_text(
        f"“{NEW_TITLE}” has been dismissed from your home page."
    )
    expect(page.get_by_role("link", name=NEW_TITLE)).to_have_count(0)
    # The others are still there.
    expect(_announcements_section(page).get_by_role("link", name=WELCOME_TITLE)).to_be_visible()
    assert_accessible(page)

    with page.expect_navigation():
        _notifications_link(page).click()
    assert page.url.endswith("/p/cep/notifications/")
    expect(page.locator("h1")).to_have_text("Notifications")
    item = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=NEW_TITLE))
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Unread")
    assert _unread_count(page) == unread
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("button", name="Mark all as read").click()
    assert page.url.endswith("/p/cep/notifications/")
    expect(page.get_by_role("status")).to_contain_text(
        f"Marked {unread} notification{'s' if unread != 1 else ''} as read."
    )
    expect(_notifications_link(page)).to_have_accessible_name("Notifications")
    expect(page.locator(".pitwall-badge")).to_have_count(0)
    expect(page.get_by_role("button", name="Mark all as read")).to_have_count(0)
    expect(page.get_by_text("Unread", exact=True)).to_have_count(0)
    assert_accessible(page)

    # Opening it leads to the announcement itself.
    with page.expect_navigation():
        page.get_by_role("link", name=NEW_TITLE).click()
    assert re.search(r"/p/cep/announcements/[0-9a-f-]{36}/$", page.url), page.url
    expect(page.locator("h1")).to_have_text(NEW_TITLE)
    expect(page.get_by_text("Book a slot through the programme team.")).to_be_visible()
    # Already dismissed, and recipients do not see who else it went to.
    expect(page.get_by_role("button", name="Dismiss from my home page")).to_have_count(0)
    expect(page.get_by_role("heading", name="Who it went to")).to_have_count(0)
    assert_accessible(page)


def test_fellow_chooses_a_daily_digest_for_announcements(page):
    sign_in(page, FELLOW_EMAIL)
    with page.expect_navigation():
        _notifications_link(page).click()
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Notification settings").click()
    assert page.url.endswith("/p/cep/notifications/preferences/")
    expect(page.locator("h1")).to_have_text("Notification settings")
    group = page.get_by_role("group", name="Announcements from the programme team")
    expect(group.get_by_label("Email me straight away")).to_be_checked()
    assert_accessible(page)

    group.get_by_label("Include in my daily digest email").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save settings").click()
    assert page.url.endswith("/p/cep/notifications/preferences/")
    expect(page.get_by_role("status")).to_contain_text(
        "Your notification settings have been saved."
    )
    group = page.get_by_role("group", name="Announcements from the programme team")
    expect(group.get_by_label("Include in my daily digest email")).to_be_checked()
    expect(group.get_by_label("Email me straight away")).not_to_be_checked()
    assert_accessible(page)

    page.reload()
    expect(page.get_by_role("status")).to_have_count(0)
    group = page.get_by_role("group", name="Announcements from the programme team")
    expect(group.get_by_label("Include in my daily digest email")).to_be_checked()
    # The other kinds kept their defaults.
    expect(
        page.get_by_role("group", name="People joining through your invitations").get_by_label(
            "Include in my daily digest email"
        )
    ).to_be_checked()
    expect(
        page.get_by_role("group", name="Reminders of meetings and events").get_by_label(
            "Email me straight away"
        )
    ).to_be_checked()
    assert_accessible(page)


def test_fellow_dismisses_and_marks_read_without_javascript(nojs_page):
    page = nojs_page
    sign_in(page, FELLOW_EMAIL)
    assert page.url.endswith("/p/cep/")
    unread = _unread_count(page)
    announcements = _announcements_section(page)
    expect(announcements.get_by_role("link", name=WELCOME_TITLE)).to_be_visible()
    assert_accessible(page)

    with page.expect_navigation():
        announcements.get_by_role("button", name=f"Dismiss announcement: {WELCOME_TITLE}").click()
    assert page.url.endswith("/p/cep/")
    expect(page.get_by_role("status")).to_contain_text(
        f"“{WELCOME_TITLE}” has been dismissed from your home page."
    )
    expect(page.get_by_role("link", name=WELCOME_TITLE)).to_have_count(0)
    assert_accessible(page)

    with page.expect_navigation():
        _notifications_link(page).click()
    assert page.url.endswith("/p/cep/notifications/")
    item = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=WELCOME_TITLE))
    expect(item).to_contain_text("Unread")
    assert_accessible(page)

    with page.expect_navigation():
        # The button's accessible name is "Mark as read notification: <title>".
        item.get_by_role(
            "button", name=re.compile(rf"^Mark as read\b.*{re.escape(WELCOME_TITLE)}$")
        ).click()
    assert page.url.endswith("/p/cep/notifications/")
    item = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=WELCOME_TITLE))
    expect(item).not_to_contain_text("Unread")
    expect(item.get_by_role("button")).to_have_count(0)
    if unread > 1:
        assert _unread_count(page) == unread - 1
    else:
        expect(_notifications_link(page)).to_have_accessible_name("Notifications")
    assert_accessible(page)
