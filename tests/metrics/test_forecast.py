"""The Patient Impact forecast engine (metrics/forecast.py): pure NumPy, no database.

Monte Carlo claims are checked against closed forms or high-accuracy quadrature, with
tolerances of a few standard errors derived from the draws themselves; the seeds are fixed,
so every run checks the same numbers.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate

from metrics.forecast import (
    Draws,
    ForecastInputError,
    ForecastSettings,
    ForecastSummary,
    MissingInputsError,
    Triangular,
    VentureInputs,
    _quantiles_with_zeros,
    _rank_by,
    bass_cdf,
    bass_integral,
    bass_patients_by_year,
    discount_factors,
    forecast,
    forecast_portfolio,
    prospective_check,
    simulate,
    summarise,
)

P, Q = 0.03, 0.38
SETTINGS = ForecastSettings()
SEED = 20160901


def venture(key=1, **overrides):
    """A venture with uncertain inputs, certain to reach adoption unless overridden."""
    fields = {
        "key": key,
        "name": f"Venture {key}",
        "launch_delay": Triangular(0.25, 1.0, 2.0),
        "market_potential": Triangular(10, 40, 120),
        "patients_per_site": Triangular(100, 400, 1500),
        "success_probability": 1.0,
    }
    fields.update(overrides)
    return VentureInputs(**fields)


def fixed_venture(key=1, delay=0.75, sites=40, per_site=250, **overrides):
    return venture(
        key,
        launch_delay=Triangular.fixed(delay),
        market_potential=Triangular.fixed(sites),
        patients_per_site=Triangular.fixed(per_site),
        **overrides,
    )


def standard_error(x, axis=0):
    return np.std(x, axis=axis, ddof=1) / math.sqrt(x.shape[axis])


# ---------------------------------------------------------------------------- Bass curve


def test_bass_cdf_matches_hand_computed_values():
    # F(t) = (1 - e^-(p+q)t) / (1 + (q/p)·e^-(p+q)t), worked out by hand for p = 0.03, q = 0.38
    e = math.exp(-0.41)
    assert bass_cdf(1.0, P, Q) == pytest.approx((1 - e) / (1 + (0.38 / 0.03) * e), rel=1e-15)
    hand = {0.5: 0.0163755524148, 1: 0.0357581642564, 2: 0.0850562814022, 5: 0.3311986424914}
    for t, value in hand.items():
        assert bass_cdf(t, P, Q) == pytest.approx(value, rel=1e-11)
    # The adoption rate peaks at t* = ln(q/p)/(p+q), where F = 1/2 - p/(2q).
    peak = math.log(Q / P) / (P + Q)
    assert bass_cdf(peak, P, Q) == pytest.approx(0.5 - P / (2 * Q), rel=1e-13)


def test_bass_cdf_is_zero_before_launch_monotone_and_tends_to_one():
    assert bass_cdf(0.0, P, Q) == 0.0
    assert bass_cdf(-3.0, P, Q) == 0.0
    t = np.linspace(-2, 60, 5001)
    f = bass_cdf(t, P, Q)
    assert f.shape == t.shape
    assert np.all(np.diff(f) >= 0)
    assert np.all((f >= 0) & (f < 1))
    assert bass_cdf(100.0, P, Q) == pytest.approx(1.0, abs=1e-15)


def test_bass_integral_closed_form_matches_quadrature():
    for x in (0.01, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0):
        numeric, _ = integrate.quad(lambda t: bass_cdf(t, P, Q), 0, x, epsabs=0, epsrel=1e-13)
        assert bass_integral(x, P, Q) == pytest.approx(numeric, rel=1e-11)
    assert bass_integral(0.0, P, Q) == 0.0
    assert bass_integral(-1.0, P, Q) == 0.0
    # Other Bass parameters too (the settings make them configurable).
    numeric, _ = integrate.quad(lambda t: bass_cdf(t, 0.01, 0.9), 0, 4, epsabs=0, epsrel=1e-13)
    assert bass_integral(4.0, 0.01, 0.9) == pytest.approx(numeric, rel=1e-11)


def quad_patients(delay, sites, per_site, horizon=5):
    """Patients in each year by quadrature of A(t) = M·F(t - d), independent of the closed form."""
    return np.array(
        [
            per_site
            * sites
            * integrate.quad(
                lambda t: bass_cdf(t - delay, P, Q),
                k - 1,
                k,
                points=[delay] if k - 1 < delay < k else None,
                epsabs=0,
                epsrel=1e-13,
            )[0]
            for k in range(1, horizon + 1)
        ]
    )


# ---------------------------------------------------------------------------- closed forms


def test_fixed_inputs_and_certain_success_give_the_deterministic_bass_calculation():
    draws = simulate(fixed_venture(delay=0.75, sites=40, per_site=250), seed=SEED)
    expected = quad_patients(0.75, 40, 250)
    assert draws.patients.shape == (SETTINGS.draws, SETTINGS.horizon_years)
    # Every draw is the same number, the Bass calculation, to floating-point error.
    assert np.all(draws.patients == draws.patients[0])
    np.testing.assert_allclose(draws.patients[0], expected, rtol=1e-10)
    np.testing.assert_allclose(
        draws.patients[0], bass_patients_by_year(0.75, 40, 250, p=P, q=Q), rtol=1e-12
    )
    summary = summarise(draws)
    for band in (summary.patients.mean, summary.patients.p10, summary.patients.p90):
        np.testing.assert_allclose(band, expected, rtol=1e-10)
    np.testing.assert_allclose(summary.patients_cumulative.p50, np.cumsum(expected), rtol=1e-10)


def test_a_launch_after_a_year_reaches_no_patients_before_it():
    draws = simulate(fixed_venture(delay=2.5), seed=SEED)
    assert np.all(draws.patients[:, :2] == 0.0)
    assert np.all(draws.patients[:, 2:] > 0.0)


def test_uncertain_inputs_mean_matches_the_numerical_expectation():
    v = venture()
    draws = simulate(v, seed=SEED)
    # d, M and n are independent: E[n·M·ΔG_k(d)] = E[n]·E[M]·E[ΔG_k(d)], E[ΔG_k(d)] by
    # quadrature against the triangular density of d.
    d = v.launch_delay

    def density(x):
        if x < d.likely:
            return 2 * (x - d.low) / ((d.high - d.low) * (d.likely - d.low))
        return 2 * (d.high - x) / ((d.high - d.low) * (d.high - d.likely))

    expected = []
    for k in range(1, 6):

        def delta(x, k=k):
            return (bass_integral(k - x, P, Q) - bass_integral(k - 1 - x, P, Q)) * density(x)

        breaks = sorted({d.likely, *(float(j) for j in range(1, 3) if d.low < j < d.high)})
        value, _ = integrate.quad(delta, d.low, d.high, points=breaks, epsabs=0, epsrel=1e-12)
        expected.append(v.market_potential.mean * v.patients_per_site.mean * value)
    mean = draws.patients.mean(axis=0)
    tolerance = 4 * standard_error(draws.patients)
    assert np.all(np.abs(mean - np.array(expected)) < tolerance), (mean, expected, tolerance)


def test_fixed_values_are_sampled_exactly_even_though_numpy_rejects_them():
    with pytest.raises(ValueError):
        np.random.default_rng(0).triangular(3.0, 3.0, 3.0)
    draws = simulate(
        fixed_venture(qalys_per_patient=Triangular.fixed(0.04), savings_per_patient=-20),
        seed=SEED,
    )
    np.testing.assert_array_equal(draws.qalys, draws.patients * 0.04)
    np.testing.assert_array_equal(draws.savings, draws.patients * -20.0)


# ---------------------------------------------------------------------------- success probability


def test_the_success_probability_scales_the_mean_and_sets_the_share_of_zero_draws():
    certain = simulate(venture(success_probability=1.0), seed=SEED)
    for probability in (0.10, 0.35, 0.85):
        draws = simulate(venture(success_probability=probability), seed=SEED)
        total = draws.patients.sum(axis=1)
        # Every success reaches patients within five years (delay at most 2), so the zero
        # draws are the failures: their share ≈ 1 - P within binomial error.
        share_zero = np.mean(total == 0)
        n = SETTINGS.draws
        assert abs(share_zero - (1 - probability)) < 4 * math.sqrt(
            probability * (1 - probability) / n
        )
        # E[patients] = P x E[patients | success], within sampling error.
        mean = draws.patients.mean(axis=0)
        expected = probability * certain.patients.mean(axis=0)
        assert np.all(np.abs(mean - expected) < 4 * standard_error(draws.patients))
        assert summarise(draws).share_with_patients == pytest.approx(1 - share_zero)


def test_a_stage_sets_the_probability_from_the_settings():
    settings = ForecastSettings(draws=20_000)
    draws = simulate(venture(success_probability=None, stage="pilot"), settings, seed=SEED)
    share = np.mean(draws.patients.sum(axis=1) > 0)
    assert abs(share - 0.35) < 4 * math.sqrt(0.35 * 0.65 / 20_000)
    custom = ForecastSettings(stage_probabilities={**SETTINGS.stage_probabilities, "pilot": 0.0})
    none = simulate(venture(success_probability=None, stage="pilot"), custom, seed=SEED)
    assert not none.patients.any()


def test_a_later_stage_keeps_the_draws_that_already_succeeded():
    """Common random numbers: raising P only turns failures into successes, draw by draw."""
    low = simulate(venture(success_probability=0.3), seed=SEED).patients
    high = simulate(venture(success_probability=0.6), seed=SEED).patients
    succeeded = low.sum(axis=1) > 0
    assert np.array_equal(low[succeeded], high[succeeded])
    assert np.all(high.sum(axis=1) >= low.sum(axis=1))


# ---------------------------------------------------------------------------- portfolios


def pilots(n=10, **overrides):
    return [venture(key, success_probability=0.35, **overrides) for key in range(n)]


def test_a_programme_sums_draws_then_takes_percentiles():
    ventures = pilots()
    result = forecast_portfolio(ventures, seed=SEED)
    assert result.ventures is None  # per-venture summaries only when asked for
    separately = [simulate(v, seed=SEED) for v in ventures]
    summed = sum(separately)
    assert isinstance(summed, Draws)
    np.testing.assert_allclose(result.draws.patients, summed.patients, rtol=1e-12)
    # The programme's P90 is the P90 of the summed draws ...
    np.testing.assert_allclose(
        result.total.patients.p90, np.quantile(summed.patients, 0.9, axis=0), rtol=1e-12
    )
    np.testing.assert_allclose(
        result.total.patients_cumulative.p90,
        np.quantile(np.cumsum(summed.patients, axis=1), 0.9, axis=0),
        rtol=1e-12,
    )
    # ... well below the sum of the ventures' P90s, which is the P90 of nothing: independent
    # ventures do not all do well in the same draw.
    sum_of_p90 = np.sum([summarise(d).patients.p90 for d in separately], axis=0)
    assert np.all(np.array(result.total.patients.p90[1:]) < 0.8 * sum_of_p90[1:])
    # The programme's mean is the sum of the means.
    sum_of_means = np.sum([summarise(d).patients.mean for d in separately], axis=0)
    np.testing.assert_allclose(result.total.patients.mean, sum_of_means, rtol=1e-12)
    assert result.total.ventures == 10


SERIES = (
    "patients",
    "patients_cumulative",
    "qalys_discounted_cumulative",
    "savings",
    "savings_discounted_cumulative",
    "qaly_value_cumulative",
)


def test_per_venture_summaries_of_a_portfolio_equal_each_venture_forecast_alone():
    ventures = [
        *pilots(4, qalys_per_patient=(0.0, 0.02, 0.1)),
        venture(7, success_probability=0.85, savings_per_patient=(-50, 100, 400)),
        venture(8, success_probability=0.0),
        venture(9, success_probability=1.0, qalys_per_patient=0.05, savings_per_patient=200),
    ]
    result = forecast_portfolio(ventures, seed=SEED, chunk_ventures=3, per_venture=True)
    assert list(result.ventures) == [v.key for v in ventures]
    for v in ventures:
        alone = forecast(v, seed=SEED)
        mine = result.ventures[v.key]
        assert mine.inputs == (v,)
        for name in SERIES:
            a, b = getattr(alone, name), getattr(mine, name)
            assert (a is None) == (b is None), name
            if a is not None:
                # The percentiles are the very same order statistics; the means may differ
                # in the last bits (a sum in another order).
                assert (a.p10, a.p50, a.p90) == (b.p10, b.p50, b.p90), name
                np.testing.assert_allclose(a.mean, b.mean, rtol=1e-12, err_msg=name)
        assert mine.share_with_patients == alone.share_with_patients


def test_the_chunk_size_does_not_change_the_result():
    ventures = pilots(7, qalys_per_patient=(0.01, 0.02, 0.05))
    results = [
        forecast_portfolio(ventures, seed=SEED, chunk_ventures=c, per_venture=True)
        for c in (1, 3, None)
    ]
    for other in results[1:]:
        assert other.ventures == results[0].ventures
        np.testing.assert_allclose(other.draws.patients, results[0].draws.patients, rtol=1e-12)
        np.testing.assert_allclose(other.draws.qalys, results[0].draws.qalys, rtol=1e-12)


def test_successes_are_ranked_by_their_uniform():
    rng = np.random.default_rng(5)
    for n_draws in (1, 10, 10_000, 1_000_000):
        draws = np.sort(rng.choice(n_draws, size=min(n_draws, 3000), replace=False))
        u = rng.random(draws.size) * 0.4
        bits = max(1, (n_draws - 1).bit_length())
        np.testing.assert_array_equal(_rank_by(u, draws, bits), draws[np.argsort(u)])


def test_quantiles_of_successes_padded_with_zeros_match_numpy():
    rng = np.random.default_rng(3)
    for n, zeros, signed in [(50, 950, False), (500, 500, False), (900, 100, False),
                             (1000, 0, False), (1, 999, False), (3, 0, False),
                             (300, 700, True), (990, 10, True), (1, 4, True)]:  # fmt: skip
        values = rng.gamma(2.0, 100.0, size=(5, n))
        if signed:
            values -= 150.0
        values[:, : n // 10] = 0.0  # successes can reach no patient too
        padded = np.concatenate([values, np.zeros((5, zeros))], axis=1)
        expected = np.quantile(padded, (0.1, 0.5, 0.9), axis=1)
        np.testing.assert_array_equal(_quantiles_with_zeros(values, zeros), expected)


def test_a_portfolio_counts_only_the_ventures_that_give_a_benefit():
    ventures = [
        fixed_venture(1, qalys_per_patient=0.1),
        fixed_venture(2),
        fixed_venture(3, savings_per_patient=100),
    ]
    result = forecast_portfolio(ventures, seed=SEED, per_venture=True)
    one = bass_patients_by_year(0.75, 40, 250)
    np.testing.assert_allclose(result.total.patients.mean, 3 * one, rtol=1e-12)
    np.testing.assert_allclose(result.total.qalys.mean, 0.1 * one, rtol=1e-12)
    np.testing.assert_allclose(result.total.savings.mean, 100 * one, rtol=1e-12)
    assert (result.total.ventures_with_qalys, result.total.ventures_with_savings) == (1, 1)
    assert result.ventures[2].qalys is None and result.ventures[2].savings is None


# ---------------------------------------------------------------------------- reproducibility


def test_the_same_seed_gives_the_same_numbers_and_another_seed_others():
    v = venture(success_probability=0.6, qalys_per_patient=(0.01, 0.03, 0.1))
    a, b = simulate(v, seed=42), simulate(v, seed=42)
    assert np.array_equal(a.patients, b.patients) and np.array_equal(a.qalys, b.qalys)
    assert forecast(v, seed=42) == forecast(v, seed=42)
    c = simulate(v, seed=43)
    assert not np.array_equal(a.patients, c.patients)


def test_no_seed_draws_one_and_keeps_it_so_the_run_can_be_repeated():
    v = venture(success_probability=0.6)
    first = simulate(v)
    assert isinstance(first.seed, int) and 0 <= first.seed < 2**53  # survives JSON anywhere
    assert np.array_equal(simulate(v, seed=first.seed).patients, first.patients)


def test_adding_or_reordering_ventures_does_not_change_the_others_draws():
    a, b, c = venture(11, success_probability=0.35), venture(12), venture(13)
    before = forecast_portfolio([a, b], seed=SEED, per_venture=True)
    after = forecast_portfolio([c, b, a], seed=SEED, per_venture=True)
    assert after.ventures[11] == before.ventures[11]
    assert after.ventures[12] == before.ventures[12]
    # Without keys, a venture's stream is its position: appending keeps the others.
    x, y = venture(None), venture(None, success_probability=0.5)
    first = forecast_portfolio([x, y], seed=SEED, per_venture=True)
    appended = forecast_portfolio([x, y, venture(None)], seed=SEED, per_venture=True)
    assert appended.ventures[0] == first.ventures[0] and appended.ventures[1] == first.ventures[1]


def test_a_benefit_does_not_change_the_patient_draws_and_string_keys_work():
    plain = simulate(venture("4b1f-uuid", success_probability=0.5), seed=SEED)
    with_benefit = simulate(
        venture("4b1f-uuid", success_probability=0.5, savings_per_patient=(0, 50, 90)), seed=SEED
    )
    assert np.array_equal(plain.patients, with_benefit.patients)
    other = simulate(venture("other-uuid", success_probability=0.5), seed=SEED)
    assert not np.array_equal(plain.patients, other.patients)


def test_two_ventures_with_one_key_are_refused():
    with pytest.raises(ForecastInputError) as caught:
        forecast_portfolio([venture(5), venture(5)], seed=SEED)
    assert caught.value.field == "key"


# Computed with the engine as it stood before the speed work (commit 1449dbd), which is the
# stream contract of the module docstring made concrete: any change to which uniform feeds
# which draw, to the model or to the percentiles moves these by far more than the tolerance.
# The tolerance (1e-12 relative, zeros exact) only leaves room for the last bit of exp and
# log, which NumPy computes with different SIMD kernels on different CPUs.
PINNED = {
    "patients": {
        "mean": [
            335.18529277943964,
            2870.352295590534,
            7319.396930859025,
            13453.201906973522,
            21340.59208304185,
        ],
        "p10": [0.0, 270.7091890729308, 1295.5023544643338, 2685.8971906625134, 4704.5214849156255],
        "p50": [
            251.0375005703549,
            2312.831168505111,
            5848.361260025149,
            10806.748865158574,
            17092.597996322664,
        ],
        "p90": [
            775.9260659500895,
            5860.132491010075,
            15045.887731180968,
            27762.320473613974,
            44224.366279058326,
        ],
    },
    "patients_cumulative": {
        "mean": [
            335.18529277943964,
            3205.5375883699826,
            10524.934519228995,
            23978.136426202487,
            45318.728509244494,
        ],
        "p10": [0.0, 271.0743103194182, 1691.6790623615605, 4435.071861837694, 8980.99580381994],
        "p50": [
            251.0375005703549,
            2593.556153166298,
            8477.93872149095,
            19274.18886175609,
            36421.65445323693,
        ],
        "p90": [
            775.9260659500895,
            6645.98227902414,
            21642.961541365767,
            49010.97197291688,
            93106.06072811905,
        ],
    },
    "qalys_discounted_cumulative": {
        "mean": [
            6.025686027377149,
            45.09199644689147,
            135.96537624095455,
            297.6342311122621,
            548.3608053311335,
        ],
        "p10": [0.0, 0.0, 0.9564835823060651, 11.068017778766345, 34.96604059536753],
        "p50": [
            4.11480908462096,
            38.372297295476415,
            119.56161346960926,
            265.9576650782191,
            495.9426785112541,
        ],
        "p90": [
            14.873895035541008,
            96.55015473797707,
            278.8252046268008,
            596.6516381140756,
            1080.7755425897024,
        ],
    },
    "savings_discounted_cumulative": {
        "mean": [
            37546.981382398786,
            340907.32886981,
            1065206.0858716785,
            2319886.9134205836,
            4210996.080034147,
        ],
        "p10": [0.0, 0.0, 0.0, 0.0, 0.0],
        "p50": [
            25342.443893695963,
            246908.60340775014,
            754231.6223238129,
            1613996.6280283597,
            2859564.8265786045,
        ],
        "p90": [
            89375.52074651276,
            752166.0384807907,
            2379768.80096912,
            5392636.112952214,
            9922243.257978765,
        ],
    },
}
PINNED_VENTURE_CUMULATIVE_P90 = {
    101: [0.0, 0.0, 221.3615919370761, 919.3596715297282, 2238.360970925147],
    102: [
        282.1069717203617,
        4053.1668981025896,
        14112.918827837106,
        32882.374373618055,
        63185.80513177171,
    ],
    "c-uuid": [
        634.4803585322118,
        4016.5052934060677,
        11377.2674218956,
        23871.632356012386,
        43031.65327190793,
    ],
    104: [0.0, 253.1506136662467, 1140.5023155622687, 2885.819312493835, 5742.026804232694],
    105: [0.0, 20.13332674891938, 519.8486265543959, 1965.5667653431387, 4858.398991423652],
}


def pinned_ventures():
    return [
        VentureInputs(
            key=101,
            launch_delay=(0.5, 1.0, 2.5),
            market_potential=(10, 40, 150),
            patients_per_site=(100, 300, 900),
            stage="idea",
            qalys_per_patient=(0.0, 0.01, 0.05),
        ),
        VentureInputs(
            key=102,
            launch_delay=(0.25, 0.5, 1.5),
            market_potential=(200, 800, 2500),
            patients_per_site=(20, 60, 200),
            stage="pilot",
            savings_per_patient=(-40, 120, 300),
        ),
        VentureInputs(
            key="c-uuid",
            launch_delay=(0.0, 0.25, 1.0),
            market_potential=(5, 12, 30),
            patients_per_site=(1000, 2500, 6000),
            stage="scaling",
            qalys_per_patient=(0.01, 0.02, 0.04),
            savings_per_patient=(50, 80, 200),
        ),
        VentureInputs(
            key=104,
            launch_delay=1.0,
            market_potential=60,
            patients_per_site=250,
            success_probability=0.45,
        ),
        VentureInputs(
            key=105,
            launch_delay=(1.0, 2.0, 4.0),
            market_potential=(50, 100, 400),
            patients_per_site=(50, 100, 150),
            stage="evidence",
            qalys_per_patient=0.02,
        ),
    ]


@pytest.mark.parametrize("chunk_ventures", [None, 2])
def test_a_small_portfolio_gives_the_numbers_it_always_gave(chunk_ventures):
    """Five ventures x 2,000 draws, seed 42: pinned so that making the engine faster can never
    quietly change a forecast (same streams, same draws, same percentiles)."""
    result = forecast_portfolio(
        pinned_ventures(),
        ForecastSettings(draws=2000),
        seed=42,
        per_venture=True,
        chunk_ventures=chunk_ventures,
    )
    for name, pinned in PINNED.items():
        band = getattr(result.total, name)
        for row, values in pinned.items():
            assert list(getattr(band, row)) == pytest.approx(values, rel=1e-12, abs=0), (
                f"{name}.{row}"
            )
    assert result.total.share_with_patients == 0.9765
    for key, values in PINNED_VENTURE_CUMULATIVE_P90.items():
        p90 = result.ventures[key].patients_cumulative.p90
        assert list(p90) == pytest.approx(values, rel=1e-12, abs=0), key


# ---------------------------------------------------------------------------- discounting


def test_a_fixed_benefit_gives_the_discounted_sums_by_hand():
    settings = ForecastSettings(horizon_years=3, draws=100)
    v = fixed_venture(qalys_per_patient=0.2, savings_per_patient=150)
    summary = forecast(v, settings, seed=SEED)
    patients = bass_patients_by_year(0.75, 40, 250, horizon=3)
    # Year k discounted by 1/(1 + r)^(k - 1): health at 1.5%, money at 3.5%.
    qalys = patients * 0.2
    qalys_discounted = [qalys[0], qalys[1] / 1.015, qalys[2] / 1.015**2]
    savings = patients * 150
    savings_discounted = [savings[0], savings[1] / 1.035, savings[2] / 1.035**2]
    np.testing.assert_allclose(summary.qalys.mean, qalys, rtol=1e-12)
    np.testing.assert_allclose(summary.qalys_discounted.p50, qalys_discounted, rtol=1e-12)
    np.testing.assert_allclose(
        summary.qalys_discounted_cumulative.mean, np.cumsum(qalys_discounted), rtol=1e-12
    )
    np.testing.assert_allclose(summary.savings_discounted.p90, savings_discounted, rtol=1e-12)
    np.testing.assert_allclose(
        summary.savings_discounted_cumulative.p10, np.cumsum(savings_discounted), rtol=1e-12
    )
    total_qalys = sum(qalys_discounted)
    assert summary.qaly_value_cumulative.mean[-1] == pytest.approx(total_qalys * 70_000)
    assert summary.qaly_value_nice_low_cumulative.mean[-1] == pytest.approx(total_qalys * 20_000)
    assert summary.qaly_value_nice_high_cumulative.mean[-1] == pytest.approx(total_qalys * 30_000)
    assert summary.qaly_value_cumulative.p90[-1] == pytest.approx(total_qalys * 70_000)


def test_discount_factors_and_configured_rates():
    np.testing.assert_allclose(discount_factors(0.035, 3), [1, 1 / 1.035, 1 / 1.035**2])
    settings = ForecastSettings(
        horizon_years=2, draws=10, health_discount_rate=0.0, qaly_value=50_000
    )
    summary = forecast(fixed_venture(qalys_per_patient=1), settings, seed=SEED)
    patients = bass_patients_by_year(0.75, 40, 250, horizon=2)
    np.testing.assert_allclose(summary.qalys_discounted.mean, patients, rtol=1e-12)
    assert summary.qaly_value_cumulative.mean[-1] == pytest.approx(patients.sum() * 50_000)


def test_no_benefit_means_no_benefit_bands():
    summary = forecast(fixed_venture(), ForecastSettings(draws=10), seed=SEED)
    assert summary.qalys is None and summary.savings is None
    assert summary.qaly_value_cumulative is None


# ---------------------------------------------------------------------------- bad input


BAD_ESTIMATES = [
    ("launch_delay", (3, 2.5, 2), "Launch delay: the low estimate (3 years) is above the high "
     "(2 years)."),
    ("launch_delay", (1, 0.5, 2), "Launch delay: the likely estimate (0.5 years) is below the "
     "low (1 year)."),
    ("launch_delay", (0, 250, 300), "Launch delay: the high estimate (300 years) is more than "
     "100 years."),
    ("market_potential", (-5, 10, 20), "Market potential (NHS sites that could adopt): the low "
     "estimate (-5 sites) cannot be negative."),
    ("market_potential", (5, 30, 20), "Market potential (NHS sites that could adopt): the likely "
     "estimate (30 sites) is above the high (20 sites)."),
    ("patients_per_site", (1, float("nan"), 3), "Patients per site per year: the likely "
     "estimate must be a finite number (got nan)."),
    ("patients_per_site", (1, 2, float("inf")), "Patients per site per year: the high estimate "
     "must be a finite number (got inf)."),
    ("patients_per_site", (1, "many", 3), "Patients per site per year: the likely estimate "
     "must be a number (got 'many')."),
    ("savings_per_patient", (100, 50, 10), "£ saved per patient: the low estimate (£100) is "
     "above the high (£10)."),
    ("qalys_per_patient", (0.1, 0.2), "QALYs per patient: give three estimates, low, likely "
     "and high."),
]  # fmt: skip


@pytest.mark.parametrize(("field", "value", "message"), BAD_ESTIMATES)
def test_bad_estimates_are_refused_with_the_field_named(field, value, message):
    with pytest.raises(ForecastInputError) as caught:
        venture(**{field: value})
    assert caught.value.field == field
    assert caught.value.message == message == str(caught.value)


def test_a_triangular_checks_its_order_and_numbers():
    with pytest.raises(ForecastInputError, match=r"low estimate \(3\) is above the high \(2\)"):
        Triangular(3, 2.5, 2)
    with pytest.raises(ForecastInputError, match="finite"):
        Triangular(0, float("nan"), 1)
    assert Triangular(1, 1, 1).is_fixed and Triangular(0, 1, 2).mean == 1.0
    # A benefit may be negative (a product can cost more than what it replaces).
    assert venture(savings_per_patient=(-200, -50, 30)).savings_per_patient.low == -200


@pytest.mark.parametrize("probability", [-0.1, 1.2, float("nan")])
def test_a_probability_outside_zero_to_one_is_refused(probability):
    with pytest.raises(ForecastInputError) as caught:
        venture(success_probability=probability)
    assert caught.value.field == "success_probability"


def test_an_unknown_stage_is_refused():
    with pytest.raises(ForecastInputError) as caught:
        simulate(venture(success_probability=None, stage="moonshot"), seed=1)
    assert caught.value.field == "stage"
    assert "'moonshot'" in caught.value.message


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"bass_p": 0}, "bass_p"),
        ({"bass_q": 38}, "bass_q"),
        ({"bass_p": float("inf")}, "bass_p"),
        ({"horizon_years": 0}, "horizon_years"),
        ({"draws": 2.5}, "draws"),
        ({"stage_probabilities": {"idea": 1.5}}, "stage_probabilities"),
        ({"cost_discount_rate": 3.5}, "cost_discount_rate"),
        ({"health_discount_rate": -0.01}, "health_discount_rate"),
        ({"qaly_value": 0}, "qaly_value"),
        ({"nice_threshold_low": 40_000}, "nice_threshold_low"),
    ],
)
def test_bad_settings_are_refused_with_the_field_named(overrides, field):
    with pytest.raises(ForecastInputError) as caught:
        ForecastSettings(**overrides)
    assert caught.value.field == field


def test_settings_defaults_are_the_design_s():
    s = ForecastSettings()
    assert (s.bass_p, s.bass_q, s.horizon_years, s.draws) == (0.03, 0.38, 5, 10_000)
    assert s.stage_probabilities == {
        "idea": 0.10,
        "prototype": 0.20,
        "pilot": 0.35,
        "evidence": 0.60,
        "scaling": 0.85,
    }
    assert (s.cost_discount_rate, s.health_discount_rate) == (0.035, 0.015)
    assert (s.qaly_value, s.nice_threshold_low, s.nice_threshold_high) == (70_000, 20_000, 30_000)
    with pytest.raises(ForecastInputError, match=r"enter 3\.5% as 0\.035"):
        ForecastSettings(cost_discount_rate=3.5)


def test_missing_inputs_are_named_instead_of_guessed():
    v = VentureInputs(key=3, name="Sepsis Watch", launch_delay=1, stage="idea")
    assert v.missing_fields() == [
        "market potential (NHS sites that could adopt)",
        "patients per site per year",
    ]
    with pytest.raises(MissingInputsError) as caught:
        simulate(v, seed=1)
    assert caught.value.missing == v.missing_fields()
    assert caught.value.fields == ["market_potential", "patients_per_site"]
    assert caught.value.message == (
        "'Sepsis Watch' cannot be forecast yet: it needs market potential (NHS sites that "
        "could adopt) and patients per site per year."
    )
    assert VentureInputs().missing_fields() == [
        "launch delay (years)",
        "market potential (NHS sites that could adopt)",
        "patients per site per year",
        "stage or probability of reaching adoption",
    ]
    assert venture().missing_fields() == []


def test_a_portfolio_with_incomplete_ventures_lists_them_or_leaves_them_out():
    complete = venture(1, success_probability=0.5)
    incomplete = VentureInputs(key=2, name="Half done", launch_delay=1, stage="pilot")
    with pytest.raises(MissingInputsError) as caught:
        forecast_portfolio([complete, incomplete], seed=SEED)
    assert caught.value.ventures == [
        {
            "key": 2,
            "name": "Half done",
            "missing": [
                "market potential (NHS sites that could adopt)",
                "patients per site per year",
            ],
        }
    ]
    result = forecast_portfolio(
        [complete, incomplete], seed=SEED, skip_incomplete=True, per_venture=True
    )
    assert list(result.ventures) == [1]
    assert result.excluded == tuple(caught.value.ventures)
    assert result.total.patients == forecast(complete, seed=SEED).patients


def test_a_negative_or_non_integer_seed_is_refused():
    for seed in (-1, 1.5, "7"):
        with pytest.raises(ForecastInputError) as caught:
            simulate(venture(), seed=seed)
        assert caught.value.field == "seed"


# ---------------------------------------------------------------------------- stored runs


def test_a_forecast_is_json_and_comes_back_the_same():
    v = venture(
        "uuid-1",
        success_probability=None,
        stage="evidence",
        qalys_per_patient=(0.01, 0.02, 0.04),
        savings_per_patient=(-10, 40, 90),
    )
    summary = forecast(v, ForecastSettings(draws=2000), seed=SEED)
    stored = json.loads(json.dumps(summary.to_dict()))
    assert stored["seed"] == SEED
    assert stored["inputs"][0]["launch_delay"] == {"low": 0.25, "likely": 1.0, "high": 2.0}
    assert stored["settings"]["stage_probabilities"]["evidence"] == 0.6
    assert len(stored["outputs"]["patients"]["p90"]) == 5
    assert ForecastSummary.from_dict(stored) == summary
    # Re-running the stored inputs with the stored seed gives the stored outputs.
    rerun = forecast(
        VentureInputs.from_dict(stored["inputs"][0]),
        ForecastSettings.from_dict(stored["settings"]),
        seed=stored["seed"],
    )
    assert rerun == summary


def test_a_portfolio_forecast_is_json():
    result = forecast_portfolio(pilots(3), ForecastSettings(draws=500), seed=SEED, per_venture=True)
    stored = json.loads(json.dumps(result.to_dict()))
    assert [v["key"] for v in stored["ventures"]] == [0, 1, 2]
    assert len(stored["inputs"]) == 3
    assert stored["outputs"]["ventures"] == 3


# ---------------------------------------------------------------------------- prospective check


def hand_made_draws():
    settings = ForecastSettings(horizon_years=3, draws=101)
    patients = np.column_stack([np.arange(101.0), 2 * np.arange(101.0), np.zeros(101)])
    return Draws(patients=patients, settings=settings, seed=1)


def test_prospective_check_on_hand_made_numbers():
    # Year 1 draws 0..100: mean 50, P10 10, P90 90. Year 2 draws 0, 2, .., 200: mean 100,
    # P10 20, P90 180. Year 3 forecast nothing.
    check = prospective_check(hand_made_draws(), {1: 95, 2: 100, 3: 0})
    one, two, three = check.years
    assert (one.mean, one.p10, one.p50, one.p90) == (50, 10, 50, 90)
    assert (one.error, one.relative_error, one.inside_band) == (45, 0.9, False)
    assert (two.mean, two.p10, two.p90) == (100, 20, 180)
    assert (two.error, two.relative_error, two.inside_band) == (0, 0, True)
    assert (three.error, three.relative_error, three.inside_band) == (0, None, True)
    assert check.share_inside_band == pytest.approx(2 / 3)
    assert check.mean_absolute_error == 15
    json.dumps(check.to_dict())


def test_prospective_check_takes_a_summary_or_a_stored_run_and_leaves_out_missing_years():
    draws = hand_made_draws()
    stored = json.loads(json.dumps(summarise(draws).to_dict()))
    for forecast_made in (draws, summarise(draws), stored):
        check = prospective_check(forecast_made, {2: 10})
        assert [y.year for y in check.years] == [2]
        assert (check.years[0].error, check.share_inside_band) == (-90, 0.0)
    cumulative = prospective_check(draws, {2: 160}, cumulative=True)
    assert cumulative.years[0].mean == 150 and cumulative.years[0].inside_band
    empty = prospective_check(draws, {})
    assert empty.share_inside_band is None and empty.years == ()


@pytest.mark.parametrize("actuals", [{4: 10}, {0: 10}, {1: -3}, {1: float("nan")}])
def test_prospective_check_refuses_bad_actuals(actuals):
    with pytest.raises(ForecastInputError) as caught:
        prospective_check(hand_made_draws(), actuals)
    assert caught.value.field == "actuals"


def test_the_engine_is_pure_numpy():
    """The Django side calls it from views and Celery tasks; it imports no Django itself."""
    code = "import sys, metrics.forecast; print(sorted(m for m in sys.modules if 'django' in m))"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
