"""The resource library and signposted opportunities in a real browser, on the demo data, with
axe-core on every page visited.

The demo fellow searches the library, links a resource to an objective and finds it on her plan;
she sees the opportunities recommended to her, with the reasons, on her home page, bookmarks one
and records that she applied. Programme staff signpost an opportunity with a deadline before it
opens (told so, nothing typed lost), then publish it and close it with a reason.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import FELLOW_EMAIL, STAFF_EMAIL, assert_accessible, sign_in

pytestmark = pytest.mark.browser


def click_through(page, locator, *, status=None):
    """Click something that loads a page, check the page (status, axe) and return it."""
    with page.expect_navigation() as navigation:
        locator.click()
    response = navigation.value
    if status is not None:
        assert response.status == status, f"{page.url}: {response.status}, expected {status}"
    else:
        assert response.status < 400, f"{page.url}: {response.status}"
    assert_accessible(page)
    return response


def open_from_menu(page, label, address):
    """A page from the menu, or by its address when the header has folded the link into its
    "More" menu on a narrow window."""
    link = page.get_by_role("navigation", name="Menu").get_by_role("link", name=label, exact=True)
    if link.count() and link.first.is_visible():
        click_through(page, link.first)
    else:
        response = page.goto(address)
        assert response.status < 400
        assert_accessible(page)


def iso(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def test_the_demo_fellow_links_a_resource_to_her_plan(page):
    sign_in(page, FELLOW_EMAIL)
    open_from_menu(page, "Resources", "/p/cep/resources/")
    expect(page.locator("h1")).to_have_text("Resource library")

    page.get_by_label("Search the library").fill("health economics")
    click_through(page, page.get_by_role("button", name="Search the library"))
    expect(page.get_by_role("heading", name="1 resource found")).to_be_visible()
    click_through(
        page, page.get_by_role("link", name="Introduction to health economics for innovators")
    )
    expect(page.locator("h1")).to_have_text("Introduction to health economics for innovators")
    expect(page.get_by_text("2 hours 30 minutes")).to_be_visible()

    link = page.get_by_role(
        "button", name=re.compile(r"Link to this objective\W+Run a three-month pilot")
    )
    click_through(page, link)
    expect(page.get_by_role("status")).to_contain_text("is linked to “Run a three-month pilot")
    expect(
        page.get_by_role("button", name=re.compile(r"Unlink\W+from\W+Run a three-month"))
    ).to_be_visible()

    open_from_menu(page, "Your plan", "/p/cep/pdp/")
    objective = page.locator(".nhsuk-card").filter(
        has=page.get_by_role("heading", name="Run a three-month pilot on two wards")
    )
    expect(
        objective.get_by_role("link", name="Introduction to health economics for innovators")
    ).to_be_visible()
    # The link the demo made is there too.
    expect(
        objective.get_by_role(
            "link", name="Evidence standards framework for digital health technologies"
        )
    ).to_be_visible()


def test_the_demo_fellow_bookmarks_and_applies_from_her_recommendations(page):
    sign_in(page, FELLOW_EMAIL)
    page.goto("/p/cep/")
    card = page.locator(".nhsuk-card").filter(
        has=page.get_by_role("heading", name="Opportunities for you")
    )
    expect(card).to_be_visible()
    expect(card.get_by_text("In your region: London").first).to_be_visible()
    expect(card.get_by_text(re.compile(r"^Closes in \d+ days$")).first).to_be_visible()
    assert_accessible(page)

    click_through(
        page, card.get_by_role("link", name="Microsoft for Startups: Founders Hub for health")
    )
    expect(page.get_by_role("heading", name="Why it may suit you")).to_be_visible()
    expect(page.get_by_text("For ventures at the idea stage — TriageFlow is")).to_be_visible()

    click_through(page, page.get_by_role("button", name="Bookmark it"))
    expect(page.get_by_role("status")).to_contain_text("You bookmarked")

    page.get_by_label("A note for yourself (optional)").fill("Applied online, reference MS-77.")
    click_through(page, page.get_by_role("button", name="I have applied"))
    expect(page.get_by_role("status")).to_contain_text("You have recorded that you applied")
    expect(page.get_by_text("Your note: Applied online, reference MS-77.")).to_be_visible()

    # Applied, so no longer recommended; both of her applications are in her list.
    page.goto("/p/cep/")
    expect(
        page.get_by_role("link", name="Microsoft for Startups: Founders Hub for health")
    ).to_have_count(0)
    open_from_menu(page, "Opportunities", "/p/cep/opportunities/")
    page.get_by_label("Only those I applied to").check()
    click_through(page, page.get_by_role("button", name="Show opportunities"))
    expect(page.get_by_role("heading", name="2 opportunities")).to_be_visible()
    expect(
        page.get_by_role("link", name="Pitch@Palace: applications for the next cohort")
    ).to_be_visible()


def test_staff_signpost_publish_and_close_an_opportunity(page):
    sign_in(page, STAFF_EMAIL)
    open_from_menu(page, "Opportunities", "/p/cep/opportunities/")
    click_through(page, page.get_by_role("link", name="Signpost an opportunity"))

    page.get_by_label("Funding call").check()
    page.get_by_label("Title", exact=True).fill("Verily early-stage grant")
    page.get_by_label("What it offers").fill("Grants for ventures using health data.")
    page.get_by_label("Link to apply or find out more").fill("https://example.org/verily-grant")
    page.get_by_label("Opens on (optional)").fill(iso(10))
    page.get_by_label("Deadline (optional)").fill(iso(5))
    click_through(page, page.get_by_role("button", name="Save as a draft"), status=400)
    expect(page).to_have_title(re.compile("^Error: "))
    expect(
        page.locator(".nhsuk-error-message").filter(
            has_text="The deadline must be on or after the day it opens."
        )
    ).to_be_visible()
    expect(page.get_by_label("Title", exact=True)).to_have_value("Verily early-stage grant")
    expect(page.get_by_label("What it offers")).to_have_value(
        "Grants for ventures using health data."
    )

    page.get_by_label("Deadline (optional)").fill(iso(40))
    click_through(page, page.get_by_role("button", name="Save as a draft"))
    expect(page.get_by_role("status")).to_contain_text("has been saved as a draft")
    expect(page.get_by_text("Draft", exact=True)).to_be_visible()

    click_through(page, page.get_by_role("button", name="Publish it"))
    expect(page.get_by_role("status")).to_contain_text("has been published")

    click_through(page, page.get_by_role("button", name="Close it"), status=400)
    expect(
        page.locator(".nhsuk-error-message").filter(has_text="Say why the opportunity is closing.")
    ).to_be_visible()
    page.get_by_label("Why is it closing?").fill("Verily filled every place.")
    click_through(page, page.get_by_role("button", name="Close it"))
    expect(page.get_by_role("status")).to_contain_text("has been closed")
    expect(page.get_by_text(re.compile("Verily filled every place."))).to_be_visible()
