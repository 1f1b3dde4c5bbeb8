"""The Patient Impact forecast in a real browser on the demo data (issue #7, item 5), without
JavaScript as well: the demo fellow completes her draft (a low above a high first: refused at
the field, her numbers kept) and sends it for review; staff accept it from the review queue
and see the programme's totals. axe-core checks every page visited."""

import pytest
from playwright.sync_api import expect

from .conftest import FELLOW_EMAIL, STAFF_EMAIL, assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_the_fellow_sends_her_forecast_inputs_and_staff_accept_them(nojs_page):
    page = nojs_page
    sign_in(page, FELLOW_EMAIL)
    with page.expect_navigation():
        page.get_by_role("link", name="TriageFlow").first.click()
    expect(
        page.get_by_text("The forecast needs: patients per adopting site per year")
    ).to_be_visible()
    assert_accessible(page)
    page.locator("#id_patients_per_site_low").fill("900")
    page.locator("#id_patients_per_site_likely").fill("600")
    page.locator("#id_patients_per_site_high").fill("800")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Send for review").click()
    assert navigation.value.status == 400
    expect(
        page.get_by_role(
            "link", name="Patients per site per year: the low estimate cannot be above"
        )
    ).to_be_visible()
    expect(page.locator("#id_patients_per_site_low")).to_have_value("900")
    assert_accessible(page)
    page.locator("#id_patients_per_site_low").fill("300")
    page.locator("#id_patients_per_site_likely").fill("600")
    page.locator("#id_patients_per_site_high").fill("1500")
    with page.expect_navigation():
        page.get_by_role("button", name="Send for review").click()
    expect(page.get_by_role("status")).to_contain_text("Sent for review")
    expect(page.get_by_text("patients reached each year").first).to_be_visible()
    assert_accessible(page)

    page.context.clear_cookies()
    sign_in(page, STAFF_EMAIL)
    page.goto("/p/cep/forecast/review/")
    expect(page.locator("h1")).to_have_text("Review forecast inputs")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Accept the inputs of TriageFlow").click()
    expect(page.get_by_role("status")).to_contain_text("Reviewed: the inputs of TriageFlow")
    page.goto("/p/cep/forecast/")
    expect(page.get_by_text("The programme: patients reached each year")).to_be_visible()
    assert_accessible(page)
