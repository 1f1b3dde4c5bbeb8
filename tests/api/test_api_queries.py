"""Every list endpoint of the partner API answers in a fixed number of queries, whatever the
data size (issue #8): the same count with a couple of rows of everything and with twenty."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from metrics.models import ForecastRun
from metrics.services import metric_snapshots_compute

from ..factories import (
    CohortFactory,
    EventFactory,
    FellowFactory,
    MentorFactory,
    MentorshipFactory,
    OpportunityFactory,
    RegistrationFactory,
    VentureFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)
from .conftest import add_mentorship_records, forecast_run
from .support import operations

pytestmark = pytest.mark.django_db

LISTS = [op for op in operations() if op.is_list]


def _grow(data, n: int):
    """n more rows of everything a list shows, in programme A."""
    programme = data.programme
    with scope(programme=programme):
        for i in range(n):
            cohort = CohortFactory(programme=programme, starts_on=date(2020 + i % 6, 9, 1))
            fellow = FellowFactory(programme=programme, cohort=cohort, consent_to_share=True)
            venture = VentureFactory(programme=programme, fellow=fellow)
            VentureFactory(programme=programme, fellow=fellow)
            mentor = MentorFactory(programme=programme, organisation=data.partner)
            mentorship = MentorshipFactory(fellow=fellow, mentor=mentor)
            add_mentorship_records(mentorship)
            event = EventFactory(programme=programme)
            RegistrationFactory(event=event)
            OpportunityFactory(programme=programme, organisation=data.partner)
            OpportunityFactory(programme=programme, organisation=data.other_partner)
            forecast_run(programme, scope_name=ForecastRun.Scope.VENTURE, venture=venture)
            forecast_run(programme, scope_name=ForecastRun.Scope.COHORT, cohort=cohort)
            WebhookEndpointFactory(programme=programme, key=data.webhook.key)
            WebhookDeliveryFactory(programme=programme, endpoint=data.webhook)
        metric_snapshots_compute(programme=programme, today=date(2027, 3, 31))


def _queries(api, url) -> tuple[int, int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    rows = len(body["results"]) if isinstance(body, dict) and "results" in body else len(body)
    return len(captured), rows, [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("operation", LISTS, ids=str)
def test_a_list_answers_in_the_same_number_of_queries_for_2_rows_and_for_20(
    operation, data_a, api_a1
):
    url = operation.url()
    small, small_rows, _ = _queries(api_a1, url)

    _grow(data_a, 18)
    large, large_rows, sql = _queries(api_a1, url)

    assert large == small, (
        f"{operation}: {small} queries for {small_rows} rows, {large} for {large_rows}:\n"
        + "\n".join(sql)
    )
    if operation.name not in ("programme-list", "metric-list", "metric-equality"):
        assert large_rows > small_rows, "the list did not grow: the test would prove nothing"


@pytest.mark.parametrize("operation", LISTS, ids=str)
def test_a_list_stays_within_a_small_budget(operation, data_a, api_a1):
    # Authentication (1), the record of the use (2), the page and its prefetches: a jump in
    # this number is a lost select_related or prefetch.
    count, _, sql = _queries(api_a1, operation.url())
    assert count <= 12, f"{operation}: {count} queries\n" + "\n".join(sql)
