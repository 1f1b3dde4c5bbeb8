"""Forecast inputs (issue #7, item 5): each bad number refused at its field with a message
that names it, incomplete inputs named rather than guessed, stale edits refused, and the
review (accept, or return with a reason) audited and told to the fellow."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scope, scopes_disabled

from cohort.models import AuditEvent, Fellow
from metrics.forecasting import (
    StaleForecastEdit,
    forecast_input_accept,
    forecast_input_return,
    forecast_input_save,
    forecast_settings_for,
    forecast_settings_update,
)
from metrics.models import ForecastInput, ForecastInputStatus, ForecastRun
from notifications.models import Kind, Notification

from ..factories import VentureFactory

pytestmark = pytest.mark.django_db

COMPLETE = {
    "launch_delay_low": Decimal("0.5"),
    "launch_delay_likely": Decimal("1"),
    "launch_delay_high": Decimal("2"),
    "market_potential_low": Decimal("20"),
    "market_potential_likely": Decimal("60"),
    "market_potential_high": Decimal("150"),
    "patients_per_site_low": Decimal("200"),
    "patients_per_site_likely": Decimal("800"),
    "patients_per_site_high": Decimal("2000"),
    "assumptions": "From the two-site pilot in Manchester.",
}


@pytest.fixture
def fellow(programme_a, fellow_a):
    with scopes_disabled():
        return Fellow.objects.select_related("user", "programme").get(user=fellow_a)


@pytest.fixture
def venture(fellow):
    return VentureFactory(programme=fellow.programme, fellow=fellow, name="TriageFlow")


def save(venture, actor, data, **kwargs):
    with scope(programme=venture.programme):
        return forecast_input_save(venture=venture, data=data, actor=actor, **kwargs)


def errors_of(venture, actor, data, **kwargs) -> dict:
    with pytest.raises(ValidationError) as caught:
        save(venture, actor, data, **kwargs)
    return caught.value.message_dict


def test_low_above_high_is_refused_at_the_field_with_its_name(venture, fellow_a):
    data = {**COMPLETE, "market_potential_low": Decimal("200")}
    errors = errors_of(venture, fellow_a, data)
    assert errors == {
        "market_potential_low": [
            "Market potential: the low estimate cannot be above the high estimate."
        ]
    }


def test_likely_outside_low_and_high_is_refused(venture, fellow_a):
    errors = errors_of(venture, fellow_a, {**COMPLETE, "launch_delay_likely": Decimal("3")})
    assert errors["launch_delay_likely"] == [
        "Launch delay: the likely estimate cannot be above the high estimate."
    ]


def test_negative_and_too_large_numbers_are_refused(venture, fellow_a):
    errors = errors_of(
        venture,
        fellow_a,
        {
            **COMPLETE,
            "patients_per_site_low": Decimal("-1"),
            "market_potential_high": Decimal("20000"),
        },
    )
    assert errors["patients_per_site_low"] == [
        "Patients per site per year: the low estimate cannot be negative."
    ]
    assert "cannot be more than 10,000" in errors["market_potential_high"][0]


def test_a_benefit_needs_all_three_numbers_or_none(venture, fellow_a):
    errors = errors_of(venture, fellow_a, {**COMPLETE, "qalys_per_patient_likely": Decimal("0.02")})
    assert set(errors) == {"qalys_per_patient_low", "qalys_per_patient_high"}
    assert errors["qalys_per_patient_low"] == [
        "QALYs per patient: give the low estimate too, or leave all three empty until you know."
    ]


def test_a_draft_may_be_incomplete_but_sending_it_names_what_is_missing(venture, fellow_a):
    draft = {k: v for k, v in COMPLETE.items() if not k.startswith("patients_per_site")}
    record = save(venture, fellow_a, draft)
    assert record.status == ForecastInputStatus.DRAFT
    with scopes_disabled():
        assert record.missing() == ["patients per adopting site per year"]
    errors = errors_of(venture, fellow_a, draft, submit=True)
    assert errors == {
        "patients_per_site_low": [
            "Patients per site per year: give the three estimates before you send the inputs "
            "for review."
        ]
    }


def test_a_stale_edit_is_refused_and_nothing_is_written(venture, fellow_a, staff_a):
    record = save(venture, fellow_a, COMPLETE)
    save(venture, staff_a, {**COMPLETE, "assumptions": "Staff corrected the source."})
    with pytest.raises(StaleForecastEdit):
        save(venture, fellow_a, {**COMPLETE, "assumptions": "Mine"}, version=record.version)
    with scopes_disabled():
        assert ForecastInput.objects.get(pk=record.pk).assumptions == "Staff corrected the source."


def test_review_accept_is_audited_notified_and_recomputes(
    venture, fellow_a, staff_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record = save(venture, fellow_a, COMPLETE, submit=True)
    assert record.status == ForecastInputStatus.SUBMITTED
    with django_capture_on_commit_callbacks(execute=True), scope(programme=venture.programme):
        record = forecast_input_accept(record=record, actor=staff_a, version=record.version)
    assert record.status == ForecastInputStatus.REVIEWED
    with scopes_disabled():
        actions = list(AuditEvent.objects.values_list("action", flat=True))
        assert "forecast.inputs.submitted" in actions
        assert "forecast.inputs.reviewed" in actions
        note = Notification.objects.get(recipient=fellow_a)
        assert note.kind == Kind.OUTCOME and "reviewed" in note.title
        scopes = set(ForecastRun.objects.values_list("scope", flat=True))
    assert scopes == {"venture", "cohort", "programme"}


def test_return_needs_a_reason_is_audited_and_notified(venture, fellow_a, staff_a):
    record = save(venture, fellow_a, COMPLETE, submit=True)
    with scope(programme=venture.programme):
        with pytest.raises(ValidationError):
            forecast_input_return(record=record, actor=staff_a, reason="  ")
        record = forecast_input_return(
            record=record, actor=staff_a, reason="Where does 150 sites come from?"
        )
    assert record.status == ForecastInputStatus.RETURNED
    with scopes_disabled():
        event = AuditEvent.objects.get(action="forecast.inputs.returned")
        assert event.changes["reason"] == "Where does 150 sites come from?"
        assert Notification.objects.get(recipient=fellow_a).body == (
            "Where does 150 sites come from?"
        )


def test_a_change_after_review_goes_back_to_review(venture, fellow_a, staff_a):
    record = save(venture, fellow_a, COMPLETE, submit=True)
    with scope(programme=venture.programme):
        forecast_input_accept(record=record, actor=staff_a)
    record = save(venture, fellow_a, {**COMPLETE, "market_potential_high": Decimal("300")})
    assert record.status == ForecastInputStatus.SUBMITTED
    assert record.reviewed_by is None
    # Saving the same numbers again changes nothing.
    again = save(venture, fellow_a, {**COMPLETE, "market_potential_high": Decimal("300")})
    assert again.version == record.version


def test_settings_probability_outside_0_to_1_is_refused_at_the_field(programme_a, staff_a):
    with scope(programme=programme_a):
        settings = forecast_settings_for(programme=programme_a)
        assert settings.probability_pilot == Decimal("0.35")
        assert settings.to_engine().stage_probabilities["scaling"] == 0.85
        with pytest.raises(ValidationError) as caught:
            forecast_settings_update(
                programme=programme_a, data={"probability_pilot": Decimal("1.5")}, actor=staff_a
            )
    assert caught.value.message_dict == {
        "probability_pilot": ["Give a probability from 0 to 1, such as 0.35."]
    }


def test_settings_stale_edit_is_refused(programme_a, staff_a):
    with scope(programme=programme_a):
        settings = forecast_settings_for(programme=programme_a)
        forecast_settings_update(
            programme=programme_a, data={"bass_q": Decimal("0.4")}, actor=staff_a
        )
        with pytest.raises(StaleForecastEdit):
            forecast_settings_update(
                programme=programme_a,
                data={"bass_q": Decimal("0.3")},
                actor=staff_a,
                version=settings.version,
            )
