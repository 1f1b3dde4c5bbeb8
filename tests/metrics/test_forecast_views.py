"""Forecast pages (issue #7, item 5): who sees and changes what, errors at the field with the
numbers kept, no 500 on bad posts, and query counts that do not grow with the ventures."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from cohort.models import Fellow, Role
from metrics.forecasting import forecast_input_save
from metrics.models import ForecastInput, ForecastInputStatus, ForecastRun

from ..factories import (
    FellowFactory,
    MembershipFactory,
    MentorFactory,
    MentorshipFactory,
    VentureFactory,
)
from .test_forecast_inputs import COMPLETE
from .test_forecast_runs import reviewed_venture

pytestmark = pytest.mark.django_db

POST = {k: str(v) for k, v in COMPLETE.items()}


@pytest.fixture
def fellow(programme_a, fellow_a):
    with scopes_disabled():
        return Fellow.objects.select_related("user", "programme").get(user=fellow_a)


@pytest.fixture
def venture(fellow):
    return VentureFactory(programme=fellow.programme, fellow=fellow, name="TriageFlow")


def url(venture, name="metrics:forecast_venture"):
    return reverse(
        name, kwargs={"programme_slug": venture.programme.slug, "venture_uuid": venture.uuid}
    )


def programme_url(programme, name="metrics:forecast"):
    return reverse(name, kwargs={"programme_slug": programme.slug})


def inputs_of(venture):
    with scopes_disabled():
        return ForecastInput.objects.filter(venture=venture).first()


def test_fellow_sends_her_inputs_and_sees_what_is_missing_first(
    client_for, fellow_a, venture, django_capture_on_commit_callbacks
):
    client = client_for(fellow_a)
    page = client.get(url(venture))
    assert page.status_code == 200
    assert "The forecast needs: launch delay (years), market potential" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(venture), {**POST, "action": "submit"})
    assert response.status_code == 302
    assert inputs_of(venture).status == ForecastInputStatus.SUBMITTED
    page = client.get(url(venture)).content.decode()
    assert "Waiting for review" in page
    # Submitting queued the venture's forecast, which ran eagerly: its table is on the page.
    assert "patients reached each year" in page
    assert "<svg" in page


def test_low_above_high_is_shown_at_the_field_and_the_numbers_are_kept(
    client_for, fellow_a, venture
):
    response = client_for(fellow_a).post(
        url(venture), {**POST, "market_potential_low": "500", "action": "save"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert 'href="#id_market_potential_low"' in body
    assert "Market potential: the low estimate cannot be above the high estimate." in body
    assert 'value="500"' in body and 'value="From the two-site pilot' not in body
    assert "From the two-site pilot in Manchester." in body
    assert inputs_of(venture) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"launch_delay_low": "soon"},
        {"market_potential_low": "1.5"},
        {"patients_per_site_high": "9" * 30},
        {"qalys_per_patient_low": "0.01"},
        {"version": "not-a-number"},
        {
            "savings_per_patient_low": "NaN",
            "savings_per_patient_likely": "1",
            "savings_per_patient_high": "2",
        },
    ],
)
def test_bad_posts_get_a_400_not_a_500(client_for, fellow_a, venture, bad):
    response = client_for(fellow_a).post(url(venture), {**POST, **bad, "action": "submit"})
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()


def test_a_stale_edit_is_refused_with_the_numbers_kept(client_for, fellow_a, staff_a, venture):
    client = client_for(fellow_a)
    client.post(url(venture), {**POST, "action": "save"})
    version = inputs_of(venture).version
    client_for(staff_a).post(url(venture), {**POST, "assumptions": "Staff's", "version": version})
    client = client_for(fellow_a)
    response = client.post(
        url(venture), {**POST, "assumptions": "Mine", "version": version, "action": "save"}
    )
    assert response.status_code == 409
    assert "Mine" in response.content.decode()
    assert inputs_of(venture).assumptions == "Staff's"


def test_mentor_reads_but_cannot_change(client_for, programme_a, fellow, venture):
    user = MembershipFactory(programme=programme_a, role=Role.MENTOR).user
    mentor = MentorFactory(programme=programme_a, user=user)
    MentorshipFactory(fellow=fellow, mentor=mentor)
    client = client_for(user)
    assert client.get(url(venture)).status_code == 200
    assert client.post(url(venture), {**POST, "action": "submit"}).status_code == 403
    assert client.post(url(venture, "metrics:forecast_preview")).status_code == 403
    assert inputs_of(venture) is None


@pytest.mark.parametrize("who", ["other_fellow", "partner", "staff_b", "unmatched_mentor"])
def test_anyone_else_gets_the_404_of_a_venture_that_does_not_exist(
    client_for, programme_a, programme_b, staff_b, venture, who
):
    user = {
        "other_fellow": lambda: FellowFactory(programme=programme_a).user,
        "partner": lambda: MembershipFactory(programme=programme_a, role=Role.PARTNER).user,
        "staff_b": lambda: staff_b,
        "unmatched_mentor": lambda: MembershipFactory(programme=programme_a, role=Role.MENTOR).user,
    }[who]()
    if who == "other_fellow":
        MembershipFactory(programme=programme_a, role=Role.FELLOW, user=user)
    client = client_for(user)
    for name in ("metrics:forecast_venture", "metrics:forecast_preview"):
        assert client.get(url(venture, name)).status_code in {404, 405}
        assert client.post(url(venture, name), {**POST, "action": "submit"}).status_code == 404
    assert inputs_of(venture) is None


def test_partner_sees_no_forecast(client_for, programme_a):
    partner = MembershipFactory(programme=programme_a, role=Role.PARTNER).user
    response = client_for(partner).get(programme_url(programme_a))
    assert response.status_code == 302


def test_staff_accept_from_the_queue_and_return_with_a_reason(
    client_for, fellow_a, staff_a, venture, programme_a, django_capture_on_commit_callbacks
):
    client_for(fellow_a).post(url(venture), {**POST, "action": "submit"})
    client = client_for(staff_a)
    queue = client.get(programme_url(programme_a, "metrics:forecast_review"))
    assert "TriageFlow" in queue.content.decode()
    record = inputs_of(venture)
    empty = client.post(url(venture, "metrics:forecast_return"), {"reason": ""})
    assert empty.status_code == 400
    assert "Say why, so the fellow knows what to change." in empty.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(venture, "metrics:forecast_accept"), {"version": record.version})
    assert inputs_of(venture).status == ForecastInputStatus.REVIEWED
    page = client.get(programme_url(programme_a)).content.decode()
    assert "The programme: patients reached each year" in page
    client.post(url(venture, "metrics:forecast_return"), {"reason": "Check the sites."})
    assert inputs_of(venture).status == ForecastInputStatus.RETURNED
    fellow_page = client_for(fellow_a).get(url(venture)).content.decode()
    assert "Check the sites." in fellow_page


def test_fellow_sees_her_cohorts_totals_but_not_other_ventures(
    client_for, fellow_a, staff_a, programme_a, fellow
):
    other = reviewed_venture(
        programme_a, staff_a, fellow=FellowFactory(programme=programme_a, cohort=fellow.cohort)
    )
    body = client_for(fellow_a).get(programme_url(programme_a)).content.decode()
    assert fellow.cohort.name in body
    assert "patients reached each year" in body
    assert other.name not in body


def test_settings_page_refuses_a_probability_outside_0_to_1_at_the_field(
    client_for, staff_a, programme_a
):
    client = client_for(staff_a)
    page = client.get(programme_url(programme_a, "metrics:forecast_settings"))
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data["probability_pilot"] = "1.2"
    response = client.post(programme_url(programme_a, "metrics:forecast_settings"), data)
    assert response.status_code == 400
    assert "Give a probability from 0 to 1, such as 0.35." in response.content.decode()
    assert 'value="1.2"' in response.content.decode()
    data["probability_pilot"] = "0.4"
    assert (
        client.post(programme_url(programme_a, "metrics:forecast_settings"), data).status_code
        == 302
    )
    # Stale: the same form again, at the version it started from.
    data["probability_pilot"] = "0.5"
    assert (
        client.post(programme_url(programme_a, "metrics:forecast_settings"), data).status_code
        == 409
    )


def test_recompute_now_is_staff_only(client_for, staff_a, fellow_a, programme_a):
    reviewed_venture(programme_a, staff_a)
    assert (
        client_for(fellow_a)
        .post(programme_url(programme_a, "metrics:forecast_recompute"))
        .status_code
        == 403
    )
    response = client_for(staff_a).post(programme_url(programme_a, "metrics:forecast_recompute"))
    assert response.status_code == 302


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_page_queries_do_not_grow_with_the_ventures(client_for, staff_a, programme_a):
    reviewed_venture(programme_a, staff_a)
    client = client_for(staff_a)
    paths = [
        programme_url(programme_a),
        programme_url(programme_a, "metrics:forecast_review"),
    ]
    with scope(programme=programme_a):
        venture = ForecastRun.objects.filter(scope="venture").first().venture
    paths.append(url(venture))
    few = [_queries(client, p) for p in paths]
    for _ in range(4):
        reviewed_venture(programme_a, staff_a)
    for _ in range(3):
        pending = VentureFactory(programme=programme_a)
        client_for(pending.fellow.user)
        with scope(programme=programme_a):
            forecast_input_save(venture=pending, data=COMPLETE, actor=staff_a, submit=True)
    client = client_for(staff_a)
    many = [_queries(client, p) for p in paths]
    assert many == few


def test_the_fellows_home_and_profile_link_to_her_ventures_forecast(
    client_for, fellow_a, fellow, venture, programme_a
):
    client = client_for(fellow_a)
    home = client.get(reverse("cohort:home", kwargs={"programme_slug": programme_a.slug}))
    assert url(venture) in home.content.decode()
    assert "Patient Impact forecast" in home.content.decode()
    profile = client.get(
        reverse(
            "cohort:fellow",
            kwargs={"programme_slug": programme_a.slug, "fellow_uuid": fellow.uuid},
        )
    )
    assert url(venture) in profile.content.decode()
    other = FellowFactory(programme=programme_a)
    MembershipFactory(programme=programme_a, role=Role.FELLOW, user=other.user)
    other_profile = client_for(other.user).get(
        reverse(
            "cohort:fellow",
            kwargs={"programme_slug": programme_a.slug, "fellow_uuid": fellow.uuid},
        )
    )
    assert url(venture) not in other_profile.content.decode()
