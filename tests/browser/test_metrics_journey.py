"""The programme metrics in a real browser on the demo data: staff read the dashboard (the
year against its targets, a chart and a table for each metric, the Patient Impact forecast,
the CEP's first intake as published, the equality tables), open one metric, follow a
quarter's figure to the rows behind it, download its CSV and compute the figures again;
without JavaScript they set a target (a negative one first: refused at the field, the other
values kept) and have the annual report written and download its PDF. The demo fellow sees
her figures beside her cohort's, the demo mentor his mentees'. axe-core checks every page
visited."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import (
    FELLOW_EMAIL,
    MENTOR_EMAIL,
    STAFF_EMAIL,
    assert_accessible,
    open_menu,
    sign_in,
)

pytestmark = pytest.mark.browser

# The dashboard's metrics counted month by month, as the year-against-targets table lists them.
PERIOD_METRICS = [
    "Events attended",
    "New connections",
    "Partnerships",
    "Funding raised",
    "Companies formed",
    "Jobs created",
    "Patients reached",
    "PDP fulfilment",
    "Meetings held on time",
    "Sign-off lag",
    "Milestone achievement",
]
FIRST_COHORT = "Cohort 1 — 2016/17"


def _row(page, table_name, row_name):
    table = page.get_by_role("table", name=table_name)
    return table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=row_name))


def _cells(row):
    return [text.strip() for text in row.get_by_role("cell").all_inner_texts()]


def test_staff_read_the_dashboard_follow_a_figure_download_it_and_compute_again(page):
    sign_in(page, STAFF_EMAIL)
    open_menu(page, "Metrics")
    expect(page.locator("h1")).to_have_text("Programme metrics")

    # The first year (2016/17, the CEP's first cohort) against the demo's targets.
    targets = "2016/17: so far, projected and target"
    expect(page.get_by_role("heading", name="2016/17 against its targets")).to_be_visible()
    header = page.get_by_role("table", name=targets).get_by_role("rowheader")
    expect(header).to_have_text(PERIOD_METRICS)
    events = _cells(_row(page, targets, "Events attended"))
    assert events[1:] == ["Year over", "300", "Target met"], events

    # Each metric over time: a chart drawn on the server and the same figures as a table.
    for label in PERIOD_METRICS:
        expect(page.get_by_role("img", name=f"{label} by quarter")).to_be_visible()
    summaries = page.locator("#over-time ~ .nhsuk-card summary")
    expect(summaries).to_have_count(len(PERIOD_METRICS))
    page.get_by_text("The figures as a table: Events attended").click()
    expect(page.get_by_role("table", name="Events attended by quarter")).to_be_visible()

    # The Patient Impact forecast, the first intake as the CEP published it, the EDI tables.
    expect(page.get_by_role("heading", name="Patient Impact forecast")).to_be_visible()
    expect(
        page.get_by_role("table", name="The programme's forecast: patients reached each year")
    ).to_be_visible()
    funnel = _cells(_row(page, "Recruitment funnel by cohort", FIRST_COHORT))
    assert funnel == ["166", "130", "116", "110", "104", "63%"], funnel
    returners = _cells(_row(page, "Returners to the NHS by cohort", FIRST_COHORT))
    assert returners == ["104", "16", "15%"], returners
    oope_ltft = _cells(
        _row(page, "Out of programme or less than full time by cohort", FIRST_COHORT)
    )
    assert oope_ltft == ["104", "21", "20%"], oope_ltft
    for question in ("Gender", "Ethnic group", "Disability", "Age band"):
        table = f"{question} of fellows appointed, by cohort"
        assert _cells(_row(page, table, "All cohorts"))[-1] == "104", table
    assert_accessible(page)

    # One metric: how it is counted, its chart and quarters; a quarter leads to its rows.
    with page.expect_navigation():
        page.get_by_role("table", name=targets).get_by_role("link", name="Events attended").click()
    expect(page.locator("h1")).to_have_text("Events attended")
    expect(page.get_by_role("heading", name="How it is counted")).to_be_visible()
    expect(page.get_by_text("Registrations marked attended, by the month")).to_be_visible()
    expect(page.get_by_role("img", name="Events attended by quarter")).to_be_visible()
    quarters = page.get_by_role("table", name="Events attended by quarter")
    first_quarter = _row(page, "Events attended by quarter", "Jul\N{EN DASH}Sep 2016")
    figure = first_quarter.get_by_role("link", name=re.compile("the rows behind it"))
    count = figure.inner_text().split("\n")[0].strip()
    expect(quarters).to_be_visible()
    assert_accessible(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download events attended as CSV").click()
    download = download_info.value
    assert re.fullmatch(r"cep-events_attended-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8") as csv:
        header_row = csv.readline().strip()
    assert header_row == (
        "Cohort,From,To,Events attended,Numerator,Denominator,"
        "Rate (% of registrations attended),Pit Stop,Webinar,Networking event,Course,Conference"
    ), header_row

    with page.expect_navigation():
        figure.click()
    expect(page.locator("h1")).to_have_text("The rows behind events attended")
    # The registrations of the quarter (the rate's denominator); the figure counts those
    # marked attended.
    expect(page.locator(".nhsuk-lede-text")).to_have_text(
        re.compile(r"^The whole programme, from 1 July 2016 to 30 September 2016: \d+ rows\.$")
    )
    rows = page.get_by_role("table", name="The rows behind events attended")
    expect(rows.get_by_role("columnheader")).to_have_text(["Event", "Date", "Person", "Status"])
    expect(rows.get_by_role("cell", name="Attended", exact=True)).to_have_count(int(count))
    assert_accessible(page)

    # Compute the figures again: the live server runs the task in the request (no broker).
    page.goto("/p/cep/metrics/")
    with page.expect_navigation():
        page.get_by_role("button", name="Compute the figures now").click()
    expect(page.locator("h1")).to_have_text("Computing the programme's figures")
    expect(page.get_by_role("heading", name="Done")).to_be_visible()
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="See the figures").click()
    expect(page.locator("h1")).to_have_text("Programme metrics")
    expect(page.get_by_text("(asked for by staff)")).to_be_visible()


def test_without_javascript_staff_set_a_target_and_download_the_annual_report(nojs_page):
    page = nojs_page
    sign_in(page, STAFF_EMAIL)
    page.goto("/p/cep/metrics/")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Set the targets for 2016/17").click()
    expect(page.locator("h1")).to_have_text("Targets for 2016/17")
    expect(page.get_by_label("Events attended")).to_have_value("300.00")
    assert_accessible(page)

    page.get_by_label("Events attended").fill("-5")
    page.get_by_label("Funding raised").fill("2500000")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Save the targets").click()
    assert navigation.value.status == 400
    error = "Events attended: a target cannot be below 0."
    expect(page.get_by_role("link", name=error)).to_have_attribute("href", "#id_events_attended")
    expect(page.locator("#id_events_attended-error")).to_contain_text(error)
    expect(page.get_by_label("Funding raised")).to_have_value("2500000")
    expect(page.get_by_label("Events attended")).to_have_value("-5")
    assert_accessible(page)

    page.get_by_label("Events attended").fill("350")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the targets").click()
    expect(page.locator("h1")).to_have_text("Programme metrics")
    expect(page.get_by_role("status")).to_contain_text("Targets for 2016/17 saved (2 changed).")
    targets = "2016/17: so far, projected and target"
    assert _cells(_row(page, targets, "Events attended"))[2] == "350"
    assert _cells(_row(page, targets, "Funding raised"))[2] == "£2,500,000"
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("link", name="Annual programme report (PDF)").click()
    expect(page.locator("h1")).to_have_text("Annual programme reports")
    assert_accessible(page)
    year = page.get_by_label("Programme year")
    year.select_option(label=f"{FIRST_COHORT} (1 Sep 2016 to 31 Aug 2017)")
    with page.expect_navigation():
        page.get_by_role("button", name="Write the report").click()
    expect(page.locator("h1")).to_have_text(f"Annual report for {FIRST_COHORT}")
    # Written in the request here (no broker); the page refreshes itself until it is ready.
    expect(page.get_by_role("heading", name="Ready")).to_be_visible(timeout=60_000)
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the PDF").click()
    with open(download_info.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_the_fellow_sees_her_figures_beside_her_cohorts(page):
    sign_in(page, FELLOW_EMAIL)
    expect(page.get_by_role("heading", name="Your figures")).to_be_visible()
    table = f"Your figures beside {FIRST_COHORT}'s"
    expect(page.get_by_role("table", name=table).get_by_role("columnheader")).to_have_text(
        ["Metric", "You", "Your cohort"]
    )
    for label in ("Events attended", "Funding raised", "Meetings held on time"):
        mine, theirs = _cells(_row(page, table, label))
        assert mine and theirs and theirs != "—", (label, mine, theirs)
    expect(page.locator("main")).not_to_contain_text("\\n")  # the demo's announcement
    assert_accessible(page)


def test_the_mentor_sees_his_mentees_figures(page):
    sign_in(page, MENTOR_EMAIL)
    with page.expect_navigation():
        page.get_by_role("link", name="NHS Clinical Entrepreneur Programme").click()
    expect(page.get_by_role("heading", name="Your mentees' figures")).to_be_visible()
    table = page.get_by_role("table", name="Each mentee's figures since they joined")
    expect(table.get_by_role("row").filter(has_text="Dr Priya Shah")).to_have_count(1)
    expect(table.get_by_role("columnheader").first).to_have_text("Mentee")
    assert_accessible(page)
