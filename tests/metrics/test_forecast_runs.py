"""Forecast runs (issue #7, item 5): every run stored with its inputs, seed and outputs and
reproducible from them; totals from reviewed inputs only, summing draws before percentiles;
ventures left out named with why; the task safe to run twice; the prospective check."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import Fellow
from metrics import forecast as engine
from metrics.forecasting import (
    forecast_input_accept,
    forecast_input_save,
    forecast_portfolio_runs,
    forecast_preview,
    forecast_recompute,
    forecast_settings_for,
    prospective_check_for,
)
from metrics.models import ForecastRun, OutcomeStatus, PatientReachRecord
from metrics.tasks import forecast_recompute as recompute_task

from ..factories import CohortFactory, FellowFactory, VentureFactory
from .test_forecast_inputs import COMPLETE

pytestmark = pytest.mark.django_db


@pytest.fixture
def fellow(programme_a, fellow_a):
    with scopes_disabled():
        return Fellow.objects.select_related("user", "programme").get(user=fellow_a)


def reviewed_venture(programme, staff, fellow=None, **data):
    """A venture whose inputs were sent and accepted; the tasks this queues run at commit."""
    from django.test import TestCase

    fellow = fellow or FellowFactory(programme=programme)
    venture = VentureFactory(programme=programme, fellow=fellow, stage="pilot")
    with (
        TestCase.captureOnCommitCallbacks(execute=True),
        scope(programme=programme),
    ):
        record = forecast_input_save(
            venture=venture, data={**COMPLETE, **data}, actor=fellow.user, submit=True
        )
        forecast_input_accept(record=record, actor=staff)
    return venture


def test_a_venture_run_stores_inputs_seed_and_outputs_and_is_reproducible(
    fellow, staff_a, programme_a
):
    venture = VentureFactory(programme=programme_a, fellow=fellow, stage="evidence")
    with scope(programme=programme_a):
        forecast_input_save(
            venture=venture,
            data={
                **COMPLETE,
                "qalys_per_patient_low": Decimal("0.01"),
                "qalys_per_patient_likely": Decimal("0.02"),
                "qalys_per_patient_high": Decimal("0.05"),
            },
            actor=fellow.user,
        )
        run = forecast_preview(venture=venture, actor=fellow.user)
        settings = forecast_settings_for(programme=programme_a)
    assert run.scope == "venture" and run.input_status == "draft"
    assert run.seed == settings.seed
    stored = run.inputs[str(venture.uuid)]
    assert stored["market_potential"] == {"low": 20.0, "likely": 60.0, "high": 150.0}
    assert stored["stage"] == "evidence"
    assert run.settings["draws"] == 10_000
    assert len(run.outputs["patients"]["p90"]) == 5
    assert run.outputs["qaly_value_cumulative"] is not None
    # Made again from what was stored, it gives the very same outputs.
    again = engine.forecast(
        engine.VentureInputs.from_dict(stored),
        engine.ForecastSettings.from_dict(run.settings),
        seed=run.seed,
    )
    assert again.outputs_dict() == run.outputs


def test_totals_use_reviewed_inputs_only_and_name_the_ventures_left_out(
    programme_a, staff_a, fellow
):
    reviewed = reviewed_venture(programme_a, staff_a)
    draft = VentureFactory(programme=programme_a, fellow=fellow, name="Draft one")
    with scope(programme=programme_a):
        forecast_input_save(
            venture=draft,
            data={k: v for k, v in COMPLETE.items() if not k.startswith("launch")},
            actor=fellow.user,
        )
        untouched = VentureFactory(programme=programme_a, name="Nothing yet")
        result = forecast_portfolio_runs(programme=programme_a, trigger="on_demand")
    run = result["programme"]
    assert set(run.inputs) == {str(reviewed.uuid)}
    assert run.ventures_count == 1
    reasons = {m["name"]: m["reason"] for m in run.missing}
    assert reasons == {
        "Draft one": "its inputs are a draft",
        "Nothing yet": "has no forecast inputs yet",
    }
    assert untouched.name in reasons


def test_the_programme_total_sums_draws_not_percentiles(programme_a, staff_a):
    ventures = [reviewed_venture(programme_a, staff_a) for _ in range(4)]
    with scope(programme=programme_a):
        result = forecast_portfolio_runs(programme=programme_a, trigger="on_demand")
        venture_runs = [
            forecast_recompute(programme=programme_a, venture=v, trigger="on_demand")["venture"]
            for v in ventures
        ]
    total = result["programme"].outputs["patients"]
    sum_of_p90 = [sum(r.outputs["patients"]["p90"][k] for r in venture_runs) for k in range(5)]
    sum_of_means = [sum(r.outputs["patients"]["mean"][k] for r in venture_runs) for k in range(5)]
    # Means add up; P90s do not (the ventures rarely all do well in the same draw).
    assert total["mean"] == pytest.approx(sum_of_means)
    assert all(t < s for t, s in zip(total["p90"][1:], sum_of_p90[1:], strict=True))


def test_cohort_runs_and_the_programme_run_agree(programme_a, staff_a):
    second = CohortFactory(programme=programme_a, name="Cohort 2")
    reviewed_venture(programme_a, staff_a)
    reviewed_venture(
        programme_a, staff_a, fellow=FellowFactory(programme=programme_a, cohort=second)
    )
    with scope(programme=programme_a):
        result = forecast_portfolio_runs(programme=programme_a, trigger="on_demand")
    assert len(result["cohorts"]) == 2
    means = [sum(r.outputs["patients"]["mean"][k] for r in result["cohorts"]) for k in range(5)]
    assert result["programme"].outputs["patients"]["mean"] == pytest.approx(means)


def test_the_same_inputs_and_seed_give_the_same_outputs_and_no_second_run(programme_a, staff_a):
    venture = reviewed_venture(programme_a, staff_a)
    with scope(programme=programme_a):
        before = ForecastRun.objects.count()
        first = recompute_task.apply(
            kwargs={"programme_id": programme_a.pk, "venture_id": venture.pk}
        ).get()
        second = recompute_task.apply(
            kwargs={"programme_id": programme_a.pk, "venture_id": venture.pk}
        ).get()
        after = ForecastRun.objects.count()
    assert first == second
    # Accepting the inputs already stored venture, cohort and programme runs: running the
    # task again (twice) stores nothing new.
    assert after == before == 3


def test_incomplete_inputs_are_named_not_guessed(programme_a, fellow):
    venture = VentureFactory(programme=programme_a, fellow=fellow)
    with scope(programme=programme_a):
        forecast_input_save(
            venture=venture,
            data={k: v for k, v in COMPLETE.items() if k.startswith("launch")},
            actor=fellow.user,
        )
        with pytest.raises(engine.MissingInputsError) as caught:
            forecast_preview(venture=venture, actor=fellow.user)
        assert not ForecastRun.objects.exists()
    assert caught.value.missing == [
        "market potential (NHS sites that could adopt)",
        "patients per site per year",
    ]


def test_prospective_check_sets_verified_actuals_against_the_earlier_forecast(programme_a, staff_a):
    venture = reviewed_venture(programme_a, staff_a)
    with scope(programme=programme_a):
        assert (
            "No verified patients"
            in prospective_check_for(programme=programme_a, venture=venture).message
        )
        run = ForecastRun.objects.get(scope="venture", venture=venture)
        ForecastRun.objects.filter(pk=run.pk).update(
            created_at=timezone.now() - timedelta(days=800)
        )
        made = timezone.localdate() - timedelta(days=800)
        for year, patients in ((1, 5), (2, 100_000_000)):
            start = made + timedelta(days=365 * (year - 1) + 10)
            PatientReachRecord.objects.create(
                programme=programme_a,
                fellow=venture.fellow,
                venture=venture,
                patients=min(patients, 100_000_000),
                period_start=start,
                period_end=start + timedelta(days=300),
                status=OutcomeStatus.VERIFIED,
            )
        result = prospective_check_for(programme=programme_a, venture=venture)
    assert result.run.pk == run.pk
    years = {y.year: y for y in result.check.years}
    assert set(years) == {1, 2}
    assert years[2].inside_band is False
    assert years[2].error == pytest.approx(100_000_000 - years[2].mean)


def test_venture_runs_in_bulk_match_one_by_one_and_are_not_stored_twice(programme_a, staff_a):
    from metrics.forecasting import forecast_venture_runs_bulk

    ventures = [reviewed_venture(programme_a, staff_a) for _ in range(3)]
    with scope(programme=programme_a):
        one_by_one = {
            r.venture_id: r for r in ForecastRun.objects.filter(scope="venture").order_by("pk")
        }
        # Each venture already has its run from the review: the bulk pass adds none.
        assert forecast_venture_runs_bulk(programme=programme_a, trigger="nightly") == 0
        ForecastRun.objects.filter(scope="venture").delete()
        assert forecast_venture_runs_bulk(programme=programme_a, trigger="nightly") == 3
        for venture in ventures:
            bulk = ForecastRun.objects.get(scope="venture", venture=venture)
            assert bulk.fingerprint == one_by_one[venture.pk].fingerprint
            for key in ("mean", "p10", "p50", "p90"):
                assert bulk.outputs["patients"][key] == pytest.approx(
                    one_by_one[venture.pk].outputs["patients"][key]
                )


def test_a_settings_change_makes_every_forecast_again_and_pending_says_so_until_then(
    programme_a, staff_a, django_capture_on_commit_callbacks
):
    from metrics.forecasting import (
        forecast_settings_update,
        latest_run,
        programme_pending,
        venture_pending,
    )
    from metrics.models import ForecastInput

    venture = reviewed_venture(programme_a, staff_a)
    with scope(programme=programme_a):
        run = latest_run(programme=programme_a, scope="programme")
        assert not programme_pending(programme=programme_a, run=run)
        with django_capture_on_commit_callbacks(execute=False) as queued:
            settings = forecast_settings_update(
                programme=programme_a, data={"probability_pilot": Decimal("0.5")}, actor=staff_a
            )
        record = ForecastInput.objects.get(venture=venture)
        venture_run = latest_run(programme=programme_a, scope="venture", venture=venture)
        assert programme_pending(programme=programme_a, run=run)
        assert venture_pending(record=record, run=venture_run, settings_row=settings)
        assert len(queued) == 1
        queued[0]()
        run = latest_run(programme=programme_a, scope="programme")
        venture_run = latest_run(programme=programme_a, scope="venture", venture=venture)
        assert run.trigger == "settings_changed"
        assert run.settings["stage_probabilities"]["pilot"] == 0.5
        assert not programme_pending(programme=programme_a, run=run)
        assert not venture_pending(record=record, run=venture_run, settings_row=settings)
        # The nightly pass finds nothing new and stores nothing.
        from metrics.tasks import forecast_recompute_nightly

        before = ForecastRun.objects.count()
    forecast_recompute_nightly.apply().get()
    with scope(programme=programme_a):
        assert ForecastRun.objects.count() == before
