"""The annual programme report (issue #7, item 6): staff ask for a year, it is written in the
background with progress, it prints the dashboard's figures, charts, funnel and forecast as a
PDF, and each download is audited. A year with no fellows is refused at the field."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import AuditEvent, Fellow
from metrics.models import MetricTarget, OutcomeStatus, ProgrammeReport
from metrics.reports import render_report_pdf, report_context
from metrics.services import metric_snapshots_compute, report_build

from ..factories import CohortFactory, FundingRecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fellow(programme_a, fellow_a):
    with scopes_disabled():
        return Fellow.objects.select_related("programme", "cohort").get(user=fellow_a)


def _url(name, programme, **kwargs):
    return reverse(f"metrics:{name}", kwargs={"programme_slug": programme.slug, **kwargs})


def _figures(programme, fellow):
    with scope(programme=programme):
        FundingRecordFactory(
            programme=programme,
            fellow=fellow,
            status=OutcomeStatus.VERIFIED,
            amount=Decimal("76543"),
            received_on=timezone.localdate() - timedelta(days=2),
        )
        MetricTarget.objects.create(
            programme=programme, cohort=fellow.cohort, key="funding_raised", value=50000
        )
        metric_snapshots_compute(programme=programme)


def test_the_report_context_prints_the_dashboard_figures(programme_a, fellow):
    _figures(programme_a, fellow)
    with scope(programme=programme_a):
        context = report_context(programme_a, fellow.cohort, timezone.localdate())
    funding = next(c for c in context["cards"] if c["metric"].key == "funding_raised")
    assert funding["prospect"]["target"] == Decimal("50000")
    assert funding["year"].value == Decimal("76543")
    assert 'role="img"' in funding["year_chart"]
    assert context["fellows"] == 1 and context["edi"]


def test_staff_write_the_report_and_download_the_pdf(
    client, programme_a, staff_a, fellow, django_capture_on_commit_callbacks
):
    _figures(programme_a, fellow)
    client.force_login(staff_a)
    page = client.get(_url("reports", programme_a))
    assert page.status_code == 200 and fellow.cohort.name in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("reports", programme_a), {"year": fellow.cohort.uuid})
    with scopes_disabled():
        report = ProgrammeReport.objects.get(programme=programme_a)
    assert response.status_code == 302 and str(report.uuid) in response["Location"]
    status = client.get(response["Location"]).content.decode()
    assert "Ready" in status and "Download the PDF" in status
    pdf = client.get(_url("report_download", programme_a, report_uuid=report.uuid))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and len(pdf.content) > 10_000
    assert "attachment" in pdf["Content-Disposition"]
    with scopes_disabled():
        actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"metrics.report_requested", "metrics.report_downloaded"} <= actions


def test_a_year_with_no_fellows_is_refused_at_the_field(client, programme_a, staff_a):
    with scopes_disabled():
        empty = CohortFactory(programme=programme_a, name="Empty cohort")
    client.force_login(staff_a)
    response = client.post(_url("reports", programme_a), {"year": empty.uuid})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Empty cohort has no fellows yet, so there is nothing to report." in body
    assert 'class="nhsuk-error-summary' in body
    with scopes_disabled():
        assert not ProgrammeReport.objects.exists()


def test_a_year_of_another_programme_or_nonsense_is_refused(
    client, programme_a, programme_b, staff_a
):
    with scopes_disabled():
        theirs = CohortFactory(programme=programme_b)
    client.force_login(staff_a)
    for value in (theirs.uuid, "not-a-year", ""):
        response = client.post(_url("reports", programme_a), {"year": value})
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode() or "required" in (
            response.content.decode()
        )


def test_a_report_that_fails_says_so_and_running_it_twice_writes_once(
    programme_a, fellow, monkeypatch
):
    with scope(programme=programme_a):
        report = ProgrammeReport.objects.create(programme=programme_a, cohort=fellow.cohort)
        monkeypatch.setattr(
            "metrics.reports.render_report_pdf",
            lambda context: (_ for _ in ()).throw(RuntimeError("no fonts")),
        )
        failed = report_build(report=report)
        assert failed.status == "failed" and "no fonts" in failed.problem
        again = report_build(report=failed)  # finished: left alone
        assert again.status == "failed"


def test_the_pdf_renders_without_snapshots_or_forecast(programme_a, fellow):
    with scope(programme=programme_a):
        pdf = render_report_pdf(report_context(programme_a, fellow.cohort, timezone.localdate()))
    assert pdf.startswith(b"%PDF-")


def test_only_staff_reach_the_reports(client, programme_a, fellow_a, mentor_a):
    for user in (fellow_a, mentor_a):
        client.force_login(user)
        assert client.get(_url("reports", programme_a)).status_code in (403, 404)
