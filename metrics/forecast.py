"""The Patient Impact forecast engine (DESIGN §8): pure NumPy, no Django, no database.

The model, per venture and per Monte Carlo draw:

* success ~ Bernoulli(P), P the probability of reaching adoption (set by the stage);
* launch delay d, market potential M (NHS sites that could adopt) and patients per adopting
  site per year n are drawn from their triangular (low, likely, high) distributions;
* sites adopted t years from now: A(t) = M·F(t - d), F the Bass cumulative adoption curve
  F(t) = (1 - e^-(p+q)t) / (1 + (q/p)·e^-(p+q)t) for t > 0 and 0 for t ≤ 0 (:func:`bass_cdf`);
* patients reached in forecast year k (k = 1 … horizon, year 1 being the twelve months from the
  forecast date): n · ∫_{k-1}^{k} A(t) dt = n·M·(G(k - d) - G(k - 1 - d)), integrated EXACTLY
  with the closed form G(x) = ∫_0^x F = x + (1/q)·ln((1 + b·e^-(p+q)x) / (1 + b)), b = q/p,
  for x > 0 and 0 otherwise (:func:`bass_integral`; the tests check it against quadrature);
* zero patients in a draw that does not succeed;
* where a benefit per patient is given (QALYs and/or £ saved, each triangular, drawn once per
  draw), the benefit in year k is patients in year k x benefit per patient.

Conventions:

* Discounting (HM Treasury Green Book): year k is discounted by 1/(1 + r)^(k - 1), i.e. the
  first forecast year is the Green Book's year 0 (undiscounted), the second its year 1, and so
  on. £ saved uses the cost rate (3.5% by default), QALYs the health rate (1.5%); the money
  value of QALYs is the discounted QALYs x £70,000 (Green Book), shown beside the NICE
  threshold range (£20,000 and £30,000 per QALY).
* Percentiles are NumPy's default ('linear', Hyndman & Fan type 7) over the draws. A
  portfolio (a programme or a cohort) SUMS THE DRAWS venture by venture and then takes
  percentiles; the sum of the ventures' percentiles is not a percentile of anything.
* Random streams: each venture has its own, derived from the run's seed and the venture's
  ``key``: ``Generator(PCG64(SeedSequence(seed, spawn_key=(key, 0))))`` gives first one
  uniform u_i per draw (the draw succeeds when u_i < P), then one (delay, sites, patients per
  site) triple per success, and ``spawn_key=(key, 1)`` one (QALYs, £) pair per success; the
  r-th triple and pair go to the success with the r-th smallest u. For an integer key this is
  exactly ``SeedSequence(seed).spawn(n)[key].spawn(2)[i]``. A venture's draws therefore
  depend only on (seed, key, its own inputs, settings): adding, removing or reordering other
  ventures never changes them, and giving a venture a benefit does not change its patients.
  Use a stable key (the venture's primary key or UUID); a key left as None means the
  venture's position in the list. String keys are hashed (SHA-256, first 128 bits).
* Common random numbers: the streams are read as prefixes and the successes ranked by u, so
  with a higher P (a later stage) the draws that succeeded before still succeed, with exactly
  the same inputs; a venture's forecast moves because its inputs moved, not with noise. And
  only successes draw inputs: at the early stages most draws fail.
* Triangular draws use the inverse CDF of the uniform draws, so a fixed value (low = likely =
  high, which ``Generator.triangular`` rejects) is sampled as exactly that constant.

The work goes through the ventures in chunks (bounded memory), each simulated in halves so that
its arrays stay in cache. Within a part, one venture at a time (vectorised over its draws)
draws its successes and inputs, all five triangular estimates through one inverse CDF; then
the Bass arithmetic, the heavy part, is vectorised over the part's successful draws of all its
ventures at once; a chunk's draws are summed from zero and then added to the portfolio's
(grouping the additions by chunk, whatever the parts); per-venture percentiles, when asked
for, partition or sort only a venture's successful draws. The arrays are reused from part to
part (fresh multi-MiB arrays cost a page fault per 4 KiB), and the element-by-element choices
are made with bit masks rather than branches. None of this changes a number: the draws are
bit-for-bit those of the straightforward version (tests pin a small portfolio's outputs).
"""

from __future__ import annotations

import hashlib
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.random import PCG64, Generator, SeedSequence

__all__ = [
    "DEFAULT_STAGE_PROBABILITIES",
    "QUANTILES",
    "STAGES",
    "Band",
    "Draws",
    "ForecastInputError",
    "ForecastSettings",
    "ForecastSummary",
    "MissingInputsError",
    "PortfolioForecast",
    "ProspectiveCheck",
    "Triangular",
    "VentureInputs",
    "YearCheck",
    "bass_cdf",
    "bass_integral",
    "bass_patients_by_year",
    "discount_factors",
    "forecast",
    "forecast_portfolio",
    "prospective_check",
    "simulate",
    "summarise",
]

# The venture stages of cohort.models.VentureStage, named here so this module needs no Django.
STAGES = ("idea", "prototype", "pilot", "evidence", "scaling")
DEFAULT_STAGE_PROBABILITIES = {
    "idea": 0.10,
    "prototype": 0.20,
    "pilot": 0.35,
    "evidence": 0.60,
    "scaling": 0.85,
}
QUANTILES = (0.10, 0.50, 0.90)
FORMAT_VERSION = 1


class ForecastInputError(ValueError):
    """An input the forecast cannot use; ``field`` names it, ``message`` says why in words."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class MissingInputsError(ForecastInputError):
    """Inputs are missing: ``missing`` lists them in words, ``fields`` by attribute name."""

    def __init__(
        self,
        message: str,
        *,
        fields: Sequence[str],
        missing: Sequence[str],
        ventures: Sequence[Mapping[str, Any]] = (),
    ):
        super().__init__("inputs", message)
        self.fields = list(fields)
        self.missing = list(missing)
        # For a portfolio: each incomplete venture's key, name and missing inputs.
        self.ventures = [dict(v) for v in ventures]


# ---------------------------------------------------------------------------- formatting


def _number(x: float) -> str:
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:,.6g}"


def _quantity(x: float, unit: tuple[str, str] | str | None) -> str:
    if unit == "£":
        return f"-£{_number(-x)}" if x < 0 else f"£{_number(x)}"
    if unit is None:
        return _number(x)
    singular, plural = unit
    return f"{_number(x)} {singular if x == 1 else plural}"


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _as_float(value: Any, field: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal | np.number):
        raise ForecastInputError(field, f"{what} must be a number (got {value!r}).")
    x = float(value)
    if not math.isfinite(x):
        raise ForecastInputError(field, f"{what} must be a finite number (got {value}).")
    return x


# ---------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _FieldSpec:
    label: str  # starts a message: "Launch delay: ..."
    missing: str  # in a list of what is missing
    unit: tuple[str, str] | str | None
    minimum: float | None = 0.0
    maximum: float | None = None


_VENTURE_FIELDS = {
    # A delay beyond the horizon just forecasts nothing; 100 years catches a typo and keeps
    # e^((p+q)·d) far from overflow.
    "launch_delay": _FieldSpec("Launch delay", "launch delay (years)", ("year", "years"), 0, 100),
    "market_potential": _FieldSpec(
        "Market potential (NHS sites that could adopt)",
        "market potential (NHS sites that could adopt)",
        ("site", "sites"),
    ),
    "patients_per_site": _FieldSpec(
        "Patients per site per year", "patients per site per year", ("patient", "patients")
    ),
    # A benefit may be negative: a product can cost more per patient than what it replaces.
    "qalys_per_patient": _FieldSpec(
        "QALYs per patient", "QALYs per patient", ("QALY", "QALYs"), None
    ),
    "savings_per_patient": _FieldSpec("£ saved per patient", "£ saved per patient", "£", None),
}
_GENERIC_FIELD = _FieldSpec("Estimate", "estimate", None, None)
_REQUIRED = ("launch_delay", "market_potential", "patients_per_site")
_PROBABILITY_MISSING = "stage or probability of reaching adoption"


def _check_triangular(low: Any, likely: Any, high: Any, field: str, spec: _FieldSpec):
    lo = _as_float(low, field, f"{spec.label}: the low estimate")
    mode = _as_float(likely, field, f"{spec.label}: the likely estimate")
    hi = _as_float(high, field, f"{spec.label}: the high estimate")

    def q(x):
        return _quantity(x, spec.unit)

    if lo > hi:
        raise ForecastInputError(
            field, f"{spec.label}: the low estimate ({q(lo)}) is above the high ({q(hi)})."
        )
    if mode < lo:
        raise ForecastInputError(
            field, f"{spec.label}: the likely estimate ({q(mode)}) is below the low ({q(lo)})."
        )
    if mode > hi:
        raise ForecastInputError(
            field, f"{spec.label}: the likely estimate ({q(mode)}) is above the high ({q(hi)})."
        )
    if spec.minimum is not None and lo < spec.minimum:
        raise ForecastInputError(
            field, f"{spec.label}: the low estimate ({q(lo)}) cannot be negative."
        )
    if spec.maximum is not None and hi > spec.maximum:
        raise ForecastInputError(
            field,
            f"{spec.label}: the high estimate ({q(hi)}) is more than {q(spec.maximum)}.",
        )
    return lo, mode, hi


@dataclass(frozen=True)
class Triangular:
    """A (low, likely, high) estimate: the triangular distribution with that minimum, mode and
    maximum; mean (low + likely + high) / 3. ``Triangular(x, x, x)`` is the fixed value x.

    Raises :class:`ForecastInputError` unless low ≤ likely ≤ high, all finite. Signs and
    ranges that depend on what is estimated are checked by :class:`VentureInputs`.
    """

    low: float
    likely: float
    high: float

    def __post_init__(self):
        values = _check_triangular(self.low, self.likely, self.high, "estimate", _GENERIC_FIELD)
        for name, value in zip(("low", "likely", "high"), values, strict=True):
            object.__setattr__(self, name, value)

    @classmethod
    def fixed(cls, value: float) -> Triangular:
        return cls(value, value, value)

    @property
    def mean(self) -> float:
        return (self.low + self.likely + self.high) / 3

    @property
    def is_fixed(self) -> bool:
        return self.low == self.high

    def to_dict(self) -> dict[str, float]:
        return {"low": self.low, "likely": self.likely, "high": self.high}

    @classmethod
    def from_dict(cls, data: Mapping[str, float]) -> Triangular:
        return cls(data["low"], data["likely"], data["high"])


def _triangular_field(value: Any, field: str) -> Triangular | None:
    """Accepts a Triangular, a (low, likely, high) sequence, a number (fixed) or None, and
    checks it with the field's name and rules."""
    if value is None:
        return None
    spec = _VENTURE_FIELDS[field]
    if isinstance(value, Triangular):
        values = (value.low, value.likely, value.high)
    elif isinstance(value, Mapping):
        values = (value.get("low"), value.get("likely"), value.get("high"))
    elif isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 3:
            raise ForecastInputError(
                field, f"{spec.label}: give three estimates, low, likely and high."
            )
        values = tuple(value)
    else:
        values = (value, value, value)
    return Triangular(*_check_triangular(*values, field, spec))


@dataclass(frozen=True)
class ForecastSettings:
    """A programme's forecast settings (DESIGN §8); the defaults are the design's.

    ``bass_p`` (innovation) and ``bass_q`` (imitation) shape the adoption curve; ``horizon_years``
    and ``draws`` size the run; ``stage_probabilities`` give the probability that a venture at
    each stage reaches adoption; the discount rates are yearly (Green Book: 3.5% for costs and
    money, 1.5% for health effects); ``qaly_value`` is £ per QALY (Green Book, £70,000) and the
    NICE threshold range (£20,000 to £30,000) is reported beside it.
    """

    bass_p: float = 0.03
    bass_q: float = 0.38
    horizon_years: int = 5
    draws: int = 10_000
    stage_probabilities: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_STAGE_PROBABILITIES)
    )
    cost_discount_rate: float = 0.035
    health_discount_rate: float = 0.015
    qaly_value: float = 70_000.0
    nice_threshold_low: float = 20_000.0
    nice_threshold_high: float = 30_000.0

    MAX_DRAWS = 1_000_000
    MAX_HORIZON = 50
    MAX_RATE = 0.2

    def __post_init__(self):
        set_ = object.__setattr__
        for name, label in (("bass_p", "Bass p (innovation)"), ("bass_q", "Bass q (imitation)")):
            x = _as_float(getattr(self, name), name, label)
            # Published values are well below 1; above 1 is almost always a percentage typed
            # as a whole number (38 for 0.38).
            if not 0 < x <= 1:
                raise ForecastInputError(
                    name, f"{label}: must be above 0 and at most 1 (got {_number(x)})."
                )
            set_(self, name, x)
        for name, label, top in (
            ("horizon_years", "Horizon", self.MAX_HORIZON),
            ("draws", "Number of draws", self.MAX_DRAWS),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ForecastInputError(name, f"{label}: must be a whole number (got {value!r}).")
            if not 1 <= value <= top:
                raise ForecastInputError(
                    name, f"{label}: must be from 1 to {_number(top)} (got {_number(value)})."
                )
            set_(self, name, int(value))
        if not isinstance(self.stage_probabilities, Mapping) or not self.stage_probabilities:
            raise ForecastInputError(
                "stage_probabilities", "Stage probabilities: give a probability for each stage."
            )
        probabilities = {}
        for stage, value in self.stage_probabilities.items():
            label = f"Probability of reaching adoption at the {stage} stage"
            x = _as_float(value, "stage_probabilities", label)
            if not 0 <= x <= 1:
                raise ForecastInputError(
                    "stage_probabilities", f"{label}: {_number(x)} is outside 0 to 1."
                )
            probabilities[str(stage)] = x
        set_(self, "stage_probabilities", probabilities)
        for name, label in (
            ("cost_discount_rate", "Cost discount rate"),
            ("health_discount_rate", "Health discount rate"),
        ):
            x = _as_float(getattr(self, name), name, label)
            if not 0 <= x <= self.MAX_RATE:
                raise ForecastInputError(
                    name,
                    f"{label}: {_number(x)} is not a yearly rate from 0 to {self.MAX_RATE} "
                    f"(enter 3.5% as 0.035).",
                )
            set_(self, name, x)
        for name, label in (
            ("qaly_value", "Value of a QALY"),
            ("nice_threshold_low", "NICE threshold (low)"),
            ("nice_threshold_high", "NICE threshold (high)"),
        ):
            x = _as_float(getattr(self, name), name, label)
            if x <= 0:
                raise ForecastInputError(name, f"{label}: must be more than £0.")
            set_(self, name, x)
        if self.nice_threshold_low > self.nice_threshold_high:
            raise ForecastInputError(
                "nice_threshold_low",
                f"NICE threshold: the low (£{_number(self.nice_threshold_low)}) is above the "
                f"high (£{_number(self.nice_threshold_high)}).",
            )

    def probability_for_stage(self, stage: str) -> float:
        try:
            return self.stage_probabilities[stage]
        except KeyError:
            known = ", ".join(self.stage_probabilities)
            raise ForecastInputError(
                "stage", f"Stage: '{stage}' has no probability of reaching adoption ({known})."
            ) from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "bass_p": self.bass_p,
            "bass_q": self.bass_q,
            "horizon_years": self.horizon_years,
            "draws": self.draws,
            "stage_probabilities": dict(self.stage_probabilities),
            "cost_discount_rate": self.cost_discount_rate,
            "health_discount_rate": self.health_discount_rate,
            "qaly_value": self.qaly_value,
            "nice_threshold_low": self.nice_threshold_low,
            "nice_threshold_high": self.nice_threshold_high,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ForecastSettings:
        return cls(**data)


@dataclass(frozen=True)
class VentureInputs:
    """One venture's forecast inputs.

    Each estimate may be a :class:`Triangular`, a (low, likely, high) sequence or mapping, a
    single number (a fixed value) or None (not given yet). The probability of reaching
    adoption is ``success_probability`` when given, otherwise the settings' probability for
    ``stage``. Launch delay, market potential, patients per site and one of stage or
    probability are required to forecast (:meth:`missing_fields`); QALYs and £ saved per
    patient are optional. ``key`` chooses the venture's random stream (see the module
    docstring): pass something stable such as the venture's id.
    """

    key: int | str | None = None
    name: str = ""
    launch_delay: Triangular | None = None
    market_potential: Triangular | None = None
    patients_per_site: Triangular | None = None
    qalys_per_patient: Triangular | None = None
    savings_per_patient: Triangular | None = None
    stage: str | None = None
    success_probability: float | None = None

    def __post_init__(self):
        for name in _VENTURE_FIELDS:
            object.__setattr__(self, name, _triangular_field(getattr(self, name), name))
        if self.success_probability is not None:
            label = "Probability of reaching adoption"
            x = _as_float(self.success_probability, "success_probability", label)
            if not 0 <= x <= 1:
                raise ForecastInputError(
                    "success_probability", f"{label}: {_number(x)} is outside 0 to 1."
                )
            object.__setattr__(self, "success_probability", x)
        key = self.key
        if key is not None and (
            isinstance(key, bool)
            or not isinstance(key, numbers.Integral | str)
            or (isinstance(key, numbers.Integral) and key < 0)
        ):
            raise ForecastInputError(
                "key", f"Key: must be a whole number from 0, or a string (got {key!r})."
            )

    def missing_fields(self) -> list[str]:
        """What must still be given before this venture can be forecast, in words; [] when
        nothing is missing."""
        return [_describe_missing(name) for name in self._missing_names()]

    def _missing_names(self) -> list[str]:
        names = [name for name in _REQUIRED if getattr(self, name) is None]
        if self.success_probability is None and not self.stage:
            names.append("success_probability")
        return names

    def probability(self, settings: ForecastSettings) -> float:
        if self.success_probability is not None:
            return self.success_probability
        if not self.stage:
            raise self._missing_error()
        return settings.probability_for_stage(self.stage)

    def _missing_error(self) -> MissingInputsError:
        names = self._missing_names()
        missing = [_describe_missing(name) for name in names]
        who = f"'{self.name}'" if self.name else "This venture"
        return MissingInputsError(
            f"{who} cannot be forecast yet: it needs {_join(missing)}.",
            fields=names,
            missing=missing,
        )

    def check_complete(self, settings: ForecastSettings) -> float:
        """Raises MissingInputsError naming what is missing; returns the probability."""
        if self._missing_names():
            raise self._missing_error()
        return self.probability(settings)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "name": self.name}
        for name in _VENTURE_FIELDS:
            value = getattr(self, name)
            data[name] = None if value is None else value.to_dict()
        data["stage"] = self.stage
        data["success_probability"] = self.success_probability
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VentureInputs:
        return cls(**data)


def _describe_missing(name: str) -> str:
    if name == "success_probability":
        return _PROBABILITY_MISSING
    return _VENTURE_FIELDS[name].missing


# ---------------------------------------------------------------------------- Bass diffusion


def bass_cdf(t: Any, p: float = 0.03, q: float = 0.38) -> Any:
    """F(t) = (1 - e^-(p+q)t) / (1 + (q/p)·e^-(p+q)t) for t > 0, 0 for t ≤ 0: the share of
    the market that has adopted t years after launch. Vectorised over t."""
    t = np.maximum(np.asarray(t, dtype=float), 0.0)
    e = np.exp(-(p + q) * t)
    result = (1.0 - e) / (1.0 + (q / p) * e)
    return float(result) if result.ndim == 0 else result


def bass_integral(x: Any, p: float = 0.03, q: float = 0.38) -> Any:
    """G(x) = ∫_0^x F(t) dt = x + (1/q)·ln((1 + b·e^-(p+q)x) / (1 + b)), b = q/p, for x > 0
    and 0 for x ≤ 0: adopter-years per unit of market in the first x years after launch.

    (d/dx of the closed form is 1 - (p+q)·b·e/(q·(1 + b·e)) = (1 - e)/(1 + b·e) = F(x), with
    e = e^-(p+q)x, and it is 0 at x = 0.)"""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    b = q / p
    result = x + (np.log(1.0 + b * np.exp(-(p + q) * x)) - np.log(1.0 + b)) / q
    # Exactly 0 before launch, and never the -1e-16 that rounding can leave just after it.
    result = np.where(x > 0, np.maximum(result, 0.0), 0.0)
    return float(result) if result.ndim == 0 else result


def bass_patients_by_year(
    launch_delay: float,
    market_potential: float,
    patients_per_site: float,
    *,
    p: float = 0.03,
    q: float = 0.38,
    horizon: int = 5,
) -> np.ndarray:
    """Deterministic patients reached in years 1..horizon: n·M·(G(k - d) - G(k - 1 - d))."""
    k = np.arange(horizon + 1, dtype=float)
    g = bass_integral(k - launch_delay, p, q)
    return patients_per_site * market_potential * np.maximum(np.diff(g), 0.0)


def discount_factors(rate: float, horizon: int) -> np.ndarray:
    """1/(1 + r)^(k - 1) for forecast years k = 1..horizon (year 1 undiscounted)."""
    return 1.0 / (1.0 + rate) ** np.arange(horizon, dtype=float)


# ---------------------------------------------------------------------------- draws


@dataclass(frozen=True, eq=False)
class Draws:
    """Per-draw results of one venture or the sum of several, each array shaped
    (draws, horizon): column k - 1 is forecast year k. ``patients`` are patients reached in the
    year; ``qalys`` and ``savings`` the undiscounted QALYs gained and £ saved in the year (None
    when no venture summed here gives that benefit). Add Draws (``a + b`` or ``sum(...)``) to
    build a portfolio: draws are summed draw by draw."""

    patients: np.ndarray
    settings: ForecastSettings
    qalys: np.ndarray | None = None
    savings: np.ndarray | None = None
    seed: int | None = None
    inputs: tuple[VentureInputs, ...] = ()

    def __post_init__(self):
        shape = (self.settings.draws, self.settings.horizon_years)
        for name in ("patients", "qalys", "savings"):
            value = getattr(self, name)
            if value is None:
                continue
            value = np.asarray(value, dtype=float)
            if value.shape != shape:
                raise ForecastInputError(
                    name, f"Draws: {name} is shaped {value.shape}, the settings ask for {shape}."
                )
            object.__setattr__(self, name, value)
        object.__setattr__(self, "inputs", tuple(self.inputs))

    def __add__(self, other: Draws) -> Draws:
        if not isinstance(other, Draws):
            return NotImplemented
        if other.settings != self.settings:
            raise ForecastInputError("settings", "Draws made with different settings.")
        if other.seed != self.seed:
            raise ForecastInputError("seed", "Draws made with different seeds.")
        return Draws(
            patients=self.patients + other.patients,
            settings=self.settings,
            qalys=_add_optional(self.qalys, other.qalys),
            savings=_add_optional(self.savings, other.savings),
            seed=self.seed,
            inputs=self.inputs + other.inputs,
        )

    def __radd__(self, other: Any) -> Draws:
        if isinstance(other, int) and other == 0:  # so that sum(list_of_draws) works
            return self
        return NotImplemented


def _add_optional(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None if b is None else b.copy()
    return a.copy() if b is None else a + b


# ---------------------------------------------------------------------------- summaries


@dataclass(frozen=True)
class Band:
    """Per forecast year (index k - 1 for year k): the mean and the P10, P50 and P90."""

    mean: tuple[float, ...]
    p10: tuple[float, ...]
    p50: tuple[float, ...]
    p90: tuple[float, ...]

    @classmethod
    def of(cls, mean: np.ndarray, quantiles: np.ndarray) -> Band:
        return cls(*(tuple(np.asarray(row, dtype=float).tolist()) for row in (mean, *quantiles)))

    def scaled(self, factors: Any) -> Band:
        """Each year multiplied by a positive factor (or per-year factors): the percentiles of
        c·X are c times those of X, so discounting and valuing need no new percentiles."""
        f = np.broadcast_to(np.asarray(factors, dtype=float), (len(self.mean),))
        return Band(*(tuple((np.asarray(row) * f).tolist()) for row in self._rows()))

    def _rows(self):
        return (self.mean, self.p10, self.p50, self.p90)

    def to_dict(self) -> dict[str, list[float]]:
        return {
            "mean": list(self.mean),
            "p10": list(self.p10),
            "p50": list(self.p50),
            "p90": list(self.p90),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Sequence[float]]) -> Band:
        return cls(*(tuple(float(x) for x in data[k]) for k in ("mean", "p10", "p50", "p90")))


_BANDS = (
    "patients",
    "patients_cumulative",
    "qalys",
    "qalys_discounted",
    "qalys_discounted_cumulative",
    "qaly_value_cumulative",
    "qaly_value_nice_low_cumulative",
    "qaly_value_nice_high_cumulative",
    "savings",
    "savings_discounted",
    "savings_discounted_cumulative",
)


@dataclass(frozen=True)
class ForecastSummary:
    """A forecast's outputs for one venture or a portfolio, with what made it (settings, seed,
    inputs) so a stored run can be explained and re-run.

    Bands, per forecast year: ``patients`` reached in the year and ``patients_cumulative``
    since the forecast date; where some venture gives a benefit, ``qalys`` (undiscounted, in
    the year), ``qalys_discounted`` (health rate), ``qalys_discounted_cumulative``, and its
    value in £ at the Green Book's value of a QALY and at the NICE threshold range
    (``qaly_value*_cumulative`` = discounted cumulative QALYs x £ per QALY); ``savings`` (£,
    undiscounted), ``savings_discounted`` (cost rate) and ``savings_discounted_cumulative``.
    A portfolio's benefit counts only the ventures that give one (``ventures_with_qalys``,
    ``ventures_with_savings``). ``share_with_patients`` is the share of draws that reach any
    patient within the horizon.
    """

    settings: ForecastSettings
    seed: int | None
    inputs: tuple[VentureInputs, ...]
    ventures: int
    share_with_patients: float
    patients: Band
    patients_cumulative: Band
    ventures_with_qalys: int = 0
    ventures_with_savings: int = 0
    qalys: Band | None = None
    qalys_discounted: Band | None = None
    qalys_discounted_cumulative: Band | None = None
    qaly_value_cumulative: Band | None = None
    qaly_value_nice_low_cumulative: Band | None = None
    qaly_value_nice_high_cumulative: Band | None = None
    savings: Band | None = None
    savings_discounted: Band | None = None
    savings_discounted_cumulative: Band | None = None

    @property
    def years(self) -> list[int]:
        return list(range(1, self.settings.horizon_years + 1))

    def outputs_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "years": self.years,
            "draws": self.settings.draws,
            "ventures": self.ventures,
            "ventures_with_qalys": self.ventures_with_qalys,
            "ventures_with_savings": self.ventures_with_savings,
            "share_with_patients": self.share_with_patients,
        }
        for name in _BANDS:
            band = getattr(self, name)
            data[name] = None if band is None else band.to_dict()
        return data

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: {"version", "seed", "settings", "inputs", "outputs"}."""
        return {
            "version": FORMAT_VERSION,
            "seed": self.seed,
            "settings": self.settings.to_dict(),
            "inputs": [v.to_dict() for v in self.inputs],
            "outputs": self.outputs_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ForecastSummary:
        outputs = data["outputs"]
        bands = {
            name: None if outputs.get(name) is None else Band.from_dict(outputs[name])
            for name in _BANDS
        }
        return cls(
            settings=ForecastSettings.from_dict(data["settings"]),
            seed=data.get("seed"),
            inputs=tuple(VentureInputs.from_dict(v) for v in data.get("inputs", ())),
            ventures=outputs["ventures"],
            share_with_patients=outputs["share_with_patients"],
            ventures_with_qalys=outputs.get("ventures_with_qalys", 0),
            ventures_with_savings=outputs.get("ventures_with_savings", 0),
            **bands,
        )


def _cumulative(x: np.ndarray, axis: int) -> np.ndarray:
    """np.cumsum over the (short) years axis, year by year: the same sums in the same order,
    but NumPy's accumulate along a short axis of a wide array is many times slower."""
    out = np.array(x, dtype=float, copy=True)
    view = np.moveaxis(out, axis, 0)
    for k in range(1, view.shape[0]):
        view[k] += view[k - 1]
    return out


def _band(x: np.ndarray) -> Band:
    """Band of a (draws, years) array."""
    return Band.of(x.mean(axis=0), np.quantile(x, QUANTILES, axis=0))


def _benefit_bands(
    settings: ForecastSettings,
    qalys: Band | None,
    qalys_dc: Band | None,
    savings: Band | None,
    savings_dc: Band | None,
) -> dict[str, Band | None]:
    bands: dict[str, Band | None] = dict.fromkeys(_BANDS[2:])
    h = settings.horizon_years
    if qalys is not None and qalys_dc is not None:
        bands["qalys"] = qalys
        bands["qalys_discounted"] = qalys.scaled(discount_factors(settings.health_discount_rate, h))
        bands["qalys_discounted_cumulative"] = qalys_dc
        bands["qaly_value_cumulative"] = qalys_dc.scaled(settings.qaly_value)
        bands["qaly_value_nice_low_cumulative"] = qalys_dc.scaled(settings.nice_threshold_low)
        bands["qaly_value_nice_high_cumulative"] = qalys_dc.scaled(settings.nice_threshold_high)
    if savings is not None and savings_dc is not None:
        bands["savings"] = savings
        bands["savings_discounted"] = savings.scaled(
            discount_factors(settings.cost_discount_rate, h)
        )
        bands["savings_discounted_cumulative"] = savings_dc
    return bands


def _count_benefits(inputs: Sequence[VentureInputs], draws: Draws) -> tuple[int, int]:
    if inputs:
        return (
            sum(v.qalys_per_patient is not None for v in inputs),
            sum(v.savings_per_patient is not None for v in inputs),
        )
    return int(draws.qalys is not None), int(draws.savings is not None)


def summarise(draws: Draws) -> ForecastSummary:
    """Mean and P10/P50/P90 per year of each series of ``draws`` (a venture or a portfolio)."""
    s = draws.settings
    h = s.horizon_years
    qalys = qalys_dc = savings = savings_dc = None
    if draws.qalys is not None:
        qalys = _band(draws.qalys)
        health = discount_factors(s.health_discount_rate, h)
        qalys_dc = _band(_cumulative(draws.qalys * health, axis=1))
    if draws.savings is not None:
        savings = _band(draws.savings)
        costs = discount_factors(s.cost_discount_rate, h)
        savings_dc = _band(_cumulative(draws.savings * costs, axis=1))
    with_qalys, with_savings = _count_benefits(draws.inputs, draws)
    return ForecastSummary(
        settings=s,
        seed=draws.seed,
        inputs=draws.inputs,
        ventures=max(len(draws.inputs), 1),
        share_with_patients=float(np.mean(draws.patients.sum(axis=1) > 0)),
        patients=_band(draws.patients),
        patients_cumulative=_band(_cumulative(draws.patients, axis=1)),
        ventures_with_qalys=with_qalys,
        ventures_with_savings=with_savings,
        **_benefit_bands(s, qalys, qalys_dc, savings, savings_dc),
    )


def _lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    # NumPy's own interpolation (numpy.quantile's _lerp), so the results match it bit for bit.
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def _quantiles_with_zeros(
    values: np.ndarray, n_zeros: int, nonnegative: bool | None = None
) -> np.ndarray:
    """QUANTILES along axis 1 of ``values`` (years, n) joined by ``n_zeros`` zero draws, without
    building the joined array: a venture's failed draws are zeros, often most of them, so only
    its successful draws are partitioned or sorted. Same results as numpy.quantile ('linear').
    ``nonnegative`` says the values cannot be negative (None: look)."""
    years, n = values.shape
    total = n + n_zeros
    if n == 0:
        return np.zeros((len(QUANTILES), years))
    positions = []
    for q in QUANTILES:
        h = (total - 1) * q
        lo = math.floor(h)
        positions.append((lo, min(lo + 1, total - 1), h - lo))

    if nonnegative or (nonnegative is None and (values >= 0).all()):
        # Sorted, the joined draws are the zeros then the sorted values.
        needed = sorted({j - n_zeros for lo, hi, _ in positions for j in (lo, hi) if j >= n_zeros})
        stats: dict[int, np.ndarray] = {}
        if needed and needed[-1] - needed[0] <= 1:
            # Typical of the early stages: only the P90 is above the zeros. One selection
            # (and a minimum for its neighbour) is quicker than a sort.
            k = needed[0]
            part = np.partition(values, k, axis=1)
            stats[k] = part[:, k]
            if len(needed) == 2:
                stats[k + 1] = part[:, k + 1 :].min(axis=1)
        elif needed:
            ordered = np.sort(values, axis=1)
            stats = {k: ordered[:, k] for k in needed}
        zeros = np.zeros(years)

        def order_statistic(j: int) -> np.ndarray:
            return zeros if j < n_zeros else stats[j - n_zeros]

    else:
        # A benefit can be negative: the zeros sit between the negative and the other values.
        ordered = np.sort(values, axis=1)
        negatives = (ordered < 0).sum(axis=1)

        def order_statistic(j: int) -> np.ndarray:
            below = ordered[:, min(j, n - 1)]
            above = ordered[:, min(max(j - n_zeros, 0), n - 1)]
            return np.where(j < negatives, below, np.where(j < negatives + n_zeros, 0.0, above))

    return np.array([_lerp(order_statistic(lo), order_statistic(hi), t) for lo, hi, t in positions])


# ---------------------------------------------------------------------------- simulation


def _stream_key(key: int | str) -> int:
    if isinstance(key, str):
        return int.from_bytes(hashlib.sha256(key.encode()).digest()[:16], "big")
    return int(key)


def _fresh_seed() -> int:
    # 53 bits, so that the seed survives JSON in any client (JavaScript numbers are doubles).
    return int(SeedSequence().generate_state(1, np.uint64)[0]) >> 11


def _check_seed(seed: int | None) -> int:
    if seed is None:
        return _fresh_seed()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ForecastInputError("seed", f"Seed: must be a whole number from 0 (got {seed!r}).")
    return int(seed)


@dataclass
class _Chunk:
    """Results of a chunk of ventures on their successful draws only, grouped by venture
    (``counts`` successes each, in block order): ``draw`` is the draw each column belongs to,
    the arrays are shaped (years, successes)."""

    counts: np.ndarray
    draw: np.ndarray
    patients: np.ndarray
    qalys: np.ndarray | None
    savings: np.ndarray | None


@dataclass(frozen=True)
class _Resolved:
    venture: VentureInputs
    key: int | str  # the venture's key, or its position in the list when it has none
    stream: int  # the spawn key of its random streams
    probability: float


class _Workspace:
    """Arrays reused from one chunk to the next. Fresh arrays for every chunk (a few MiB each)
    came from the system zeroed and were faulted in page by page, which cost more than some of
    the arithmetic done in them."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, n: int, rows: int | None = None, dtype: Any = float) -> np.ndarray:
        """Uninitialised: n elements, or rows x n (a view of the first n columns)."""
        array = self._arrays.get(name)
        if array is None or array.shape[-1] < n or array.dtype != dtype:
            # A little headroom, so that a slightly bigger next chunk does not reallocate.
            size = n + n // 8
            array = np.empty((size,) if rows is None else (rows, size), dtype)
            self._arrays[name] = array
        return array[:n] if rows is None else array[:, :n]

    def full(self, name: str, n: int, value: float) -> np.ndarray:
        """n elements equal to ``value``, filled again only when the array is reallocated."""
        array = self._arrays.get(name)
        if array is None or array.size < n:
            array = self._arrays[name] = np.full(n + n // 8, value)
        return array[:n]


def _triangular_parameters(estimates: Sequence[Triangular | None]) -> np.ndarray:
    """For :func:`_triangular_rows`: shaped (5, len(estimates), 1), per estimate the
    threshold (likely - low)/(high - low), the products (high - low)(likely - low) and
    (high - low)(high - likely) under the square roots, low and high. A fixed value v (or a
    missing benefit, v = 0) gets (0, 0, 0, v, v): every u takes the upper branch, and
    v - √((1 - u)·0) is exactly v."""
    rows = []
    for e in estimates:
        if e is None or e.is_fixed:
            value = 0.0 if e is None else e.low
            rows.append((0.0, 0.0, 0.0, value, value))
        else:
            low, likely, high = e.low, e.likely, e.high
            span = high - low
            rows.append(
                ((likely - low) / span, span * (likely - low), span * (high - likely), low, high)
            )
    return np.array(rows, dtype=float).T[:, :, None].copy()


def _triangular(u: np.ndarray, estimate: Triangular | None) -> np.ndarray:
    """Inverse CDF of the triangular distribution at the uniforms ``u``:
    x = low + √(u·(high - low)(likely - low)) when u < (likely - low)/(high - low),
    else high - √((1 - u)·(high - low)(high - likely)). A fixed value (low = high) is exactly
    that value; a missing benefit is exactly 0."""
    u = np.ascontiguousarray(u, dtype=float).reshape(1, -1)
    out = np.empty(u.shape)
    scratch = (np.empty(u.size, np.int64), np.empty(u.size), np.empty(u.size))
    _triangular_rows(out, u, _triangular_parameters([estimate]), *scratch)
    return out.reshape(-1)


def _triangular_rows(
    out: np.ndarray,
    u: np.ndarray,
    parameters: np.ndarray,
    mask: np.ndarray,
    below: np.ndarray,
    root: np.ndarray,
) -> None:
    """:func:`_triangular` of several estimates at once, each row of ``u`` (k, m, contiguous)
    with the estimate of the same row of ``parameters`` (from :func:`_triangular_parameters`),
    written into ``out``: the same operations on the same numbers, a few calls per venture for
    all its inputs and benefits rather than a few per input.

    ``mask`` (int64), ``below`` and ``root`` are flat scratch of at least k·m elements,
    preallocated: arrays made fresh (by np.where, say) cost a page fault per 4 KiB once past
    glibc's mmap threshold. The lower branch is where u - threshold is negative (exactly when
    u < threshold: a difference of doubles is never rounded to zero), its sign bit spread over
    the word by an arithmetic shift; the branches are then chosen element by element with bit
    operations (b ^ ((a ^ b) & mask) is a where the mask is all ones, b where it is zero): an
    exact choice of the very same doubles, without the mispredicted branch per element that
    made np.where and np.putmask the slowest steps here."""
    k, m = u.shape
    threshold, lower_product, upper_product, low, high = parameters
    mask = mask[: k * m].reshape(k, m)
    below = below[: k * m].reshape(k, m)
    root = root[: k * m].reshape(k, m)
    np.subtract(u, threshold, out=mask.view(np.float64))
    np.right_shift(mask, 63, out=mask)  # all ones on the lower branch, else zero
    np.multiply(u, lower_product, out=below)
    np.subtract(1.0, u, out=root)
    root *= upper_product
    root_bits, below_bits = root.view(np.int64), below.view(np.int64)
    np.bitwise_xor(below_bits, root_bits, out=below_bits)
    below_bits &= mask
    root_bits ^= below_bits  # root = where(lower, u·lower_product, (1 - u)·upper_product)
    np.sqrt(root, out=root)
    np.subtract(high, root, out=below)
    root += low
    np.bitwise_xor(root_bits, below_bits, out=root_bits)
    root_bits &= mask
    # out = where(lower, low + root, high - root)
    np.bitwise_xor(below_bits, root_bits, out=out.view(np.int64))


def _rank_by(
    u: np.ndarray, draws: np.ndarray, draw_bits: int, out: np.ndarray | None = None
) -> np.ndarray:
    """``draws`` ordered by ``u`` (uniforms in [0, 1)). Sorts one uint64 per draw, the top bits
    of u above the draw's number, which is quicker than an argsort; u equal in their top
    64 - draw_bits bits (about one chance in 10^8 a run) are ordered by draw number. Written
    into ``out`` (intp) when given."""
    keys = (u * float(1 << (64 - draw_bits))).astype(np.uint64)
    keys <<= np.uint64(draw_bits)
    keys |= draws.view(np.uint64) if draws.dtype == np.intp else draws.astype(np.uint64)
    keys.sort()
    if out is None:
        out = np.empty(keys.size, np.intp)
    np.bitwise_and(keys, np.uint64((1 << draw_bits) - 1), out=out.view(np.uint64))
    return out


def _simulate_chunk(
    block: Sequence[_Resolved],
    settings: ForecastSettings,
    seed: int,
    work: _Workspace | None = None,
) -> _Chunk:
    """Simulates a chunk of ventures; see _Chunk for the layout of the result. Its arrays live
    in ``work`` (when given), so they are only good until the next chunk.

    Per venture, its adoption stream first gives one uniform u_i per draw (success when
    u_i < P), then one (delay, sites, patients per site) triple per success, and its benefit
    stream one (QALYs, £) pair per success; the r-th triple and pair go to the success with the
    r-th smallest u. Streams are consumed as prefixes, so with a higher P the draws that already
    succeeded keep exactly their inputs (common random numbers), and no uniform is drawn for a
    failed draw (most draws, at the early stages).
    """
    work = work or _Workspace()
    n_draws, horizon = settings.draws, settings.horizon_years
    capacity = len(block) * n_draws  # every draw a success, at worst
    counts = np.zeros(len(block), dtype=np.intp)
    draw = work.get("draw", capacity, dtype=np.intp)
    # Rows: launch delay, sites, patients per site, QALYs and £ per patient (0 when not given).
    values = work.get("values", capacity, rows=5)
    with_qalys = any(r.venture.qalys_per_patient is not None for r in block)
    with_savings = any(r.venture.savings_per_patient is not None for r in block)
    estimates = _triangular_parameters(
        [
            e
            for r in block
            for e in (
                r.venture.launch_delay,
                r.venture.market_potential,
                r.venture.patients_per_site,
                r.venture.qalys_per_patient,
                r.venture.savings_per_patient,
            )
        ]
    ).reshape(5, len(block), 5, 1)
    u = work.get("u", n_draws)
    triples, pairs = work.get("triples", 3 * n_draws), work.get("pairs", 2 * n_draws)
    uniforms = work.get("uniforms", 5 * n_draws)
    scratch = (
        work.get("mask", 5 * n_draws, dtype=np.int64),
        work.get("below", 5 * n_draws),
        work.get("root", 5 * n_draws),
    )
    draw_bits = max(1, (n_draws - 1).bit_length())
    n = 0
    # The loop over ventures works on one venture's draws at a time, which stay in the CPU's
    # cache; the arithmetic over years below is vectorised over the whole chunk.
    for j, r in enumerate(block):
        rng = Generator(PCG64(SeedSequence(seed, spawn_key=(r.stream, 0))))
        rng.random(out=u)
        hits = (u < r.probability).nonzero()[0]
        m = hits.size
        if m == 0:
            continue
        counts[j] = m
        v, part = r.venture, slice(n, n + m)
        _rank_by(u[hits], hits, draw_bits, out=draw[part])
        benefit = v.qalys_per_patient is not None or v.savings_per_patient is not None
        k = 5 if benefit else 3
        rows = uniforms[: k * m].reshape(k, m)
        drawn = triples[: 3 * m].reshape(m, 3)
        rng.random(out=drawn)
        rows[:3] = drawn.T
        if benefit:
            rng = Generator(PCG64(SeedSequence(seed, spawn_key=(r.stream, 1))))
            drawn = pairs[: 2 * m].reshape(m, 2)
            rng.random(out=drawn)
            rows[3:] = drawn.T
        elif with_qalys or with_savings:
            values[3:, part] = 0.0
        _triangular_rows(values[:k, part], rows, estimates[:, j, :k], *scratch)
        n += m

    draw = draw[:n]
    delay, scale = values[0, :n], np.multiply(values[1, :n], values[2, :n], out=values[1, :n])
    patients = _bass_patients(
        delay, scale, settings.bass_p, settings.bass_q, horizon, work, consume=True
    )
    qalys = savings = None
    if with_qalys:
        qalys = np.multiply(patients, values[3, :n], out=work.get("qalys", n, horizon))
    if with_savings:
        savings = np.multiply(patients, values[4, :n], out=work.get("savings", n, horizon))
    return _Chunk(counts, draw, patients, qalys, savings)


def _bass_patients(
    delay: np.ndarray,
    scale: np.ndarray,
    p: float,
    q: float,
    horizon: int,
    work: _Workspace | None = None,
    consume: bool = False,
) -> np.ndarray:
    """Patients in years 1..horizon, shaped (horizon, draws): scale·(G(k - d) - G(k - 1 - d)),
    G the closed-form integral of F (see bass_integral). With ``consume``, ``delay`` and
    ``scale`` are overwritten (used as scratch); the result lives in ``work`` when given.

    Computed as (scale/q)·(H(k - d) - H(k - 1 - d)) with H(x) = q·x + ln(1 + b·e^-(p+q)x) for
    x ≥ 0 (= q·G(x) + ln(1 + b)); b·e^-(p+q)(k-d) is b·e^-(p+q)(1-d) times e^-(p+q)(k-1), one
    exp per draw rather than one per draw and year, and capped at b where k ≤ d, so that
    H(k - d) there is exactly H(0), by the very same operations, and the year exactly 0."""
    work = work or _Workspace()
    if not consume:
        delay, scale = delay.copy(), scale.copy()
    a, b = p + q, q / p
    step = math.exp(-a)
    n = delay.size
    be = work.get("bass_be", n)
    np.subtract(1.0, delay, out=be)
    be *= -a
    np.exp(be, out=be)
    be *= b
    per_unit = np.divide(scale, q, out=scale)
    qd = np.multiply(delay, q, out=delay)
    patients = work.get("patients", n, horizon)
    previous, h = work.get("bass_previous", n), work.get("bass_h", n)
    previous.fill(1.0 + b)
    np.log(previous, out=previous)  # H(0)
    tmp = work.get("bass_tmp", n)
    # np.maximum and np.minimum against arrays of the constant: the same results, but NumPy's
    # loop for an array against a scalar is more than twice as slow.
    zeros, caps = work.full("bass_zeros", n, 0.0), work.full(f"bass_b={b!r}", n, b)
    for k in range(1, horizon + 1):
        np.subtract(q * k, qd, out=h)
        np.maximum(h, zeros, out=h)
        np.minimum(be, caps, out=tmp)
        tmp += 1.0
        np.log(tmp, out=tmp)
        h += tmp
        np.maximum(h, previous, out=h)  # H never decreases; rounding could say otherwise
        np.subtract(h, previous, out=patients[k - 1])
        patients[k - 1] *= per_unit
        previous, h = h, previous
        if k < horizon:
            be *= step
    return patients


def _resolve(
    ventures: Sequence[VentureInputs], settings: ForecastSettings, skip_incomplete: bool
) -> tuple[list[_Resolved], list[dict[str, Any]]]:
    """Checks keys and completeness; returns the ventures to simulate and those left out."""
    resolved: list[_Resolved] = []
    incomplete: list[dict[str, Any]] = []
    seen: set[int] = set()
    for index, v in enumerate(ventures):
        if not isinstance(v, VentureInputs):
            raise ForecastInputError("ventures", f"Ventures: item {index} is not VentureInputs.")
        key = index if v.key is None else v.key
        stream = _stream_key(key)
        if stream in seen:
            raise ForecastInputError(
                "key",
                f"Key: two ventures share the key {key!r}, so they would share their random "
                "draws; give each venture its own key.",
            )
        seen.add(stream)
        try:
            probability = v.check_complete(settings)
        except MissingInputsError as error:
            incomplete.append(
                {"key": key, "name": v.name, "missing": error.missing, "message": error.message}
            )
            continue
        resolved.append(_Resolved(v, key, stream, probability))
    if incomplete and not skip_incomplete:
        missing = list(dict.fromkeys(m for e in incomplete for m in e["missing"]))
        raise MissingInputsError(
            " ".join(e["message"] for e in incomplete),
            fields=list(dict.fromkeys(f for v in ventures for f in v._missing_names())),
            missing=missing,
            ventures=[{k: e[k] for k in ("key", "name", "missing")} for e in incomplete],
        )
    return resolved, [{k: e[k] for k in ("key", "name", "missing")} for e in incomplete]


def _chunk_size(settings: ForecastSettings, requested: int | None) -> int:
    if requested is not None:
        return max(1, int(requested))
    # Live per venture and draw: a uniform and a flag (9 bytes); per success, in the worst case
    # (every draw succeeds, both benefits): 9 float64 inputs and temporaries and three
    # (years,) results. 32 MiB per chunk keeps the peak far below the 1 GiB budget and the
    # arrays small enough to stay in cache, yet long enough for NumPy to be fast.
    return max(1, (32 << 20) // _bytes_per_venture(settings))


def _simulation_size(settings: ForecastSettings, chunk: int) -> int:
    """Ventures simulated at once within a chunk: half the chunk's budget (16 MiB), so that the
    Bass arithmetic's arrays stay in a 2 MiB L2 cache at the usual success rates (a third
    quicker than 32 MiB at once on the benchmark). The chunk still sets how the draws are
    grouped when summed (see forecast_portfolio)."""
    return max(1, min(chunk, (16 << 20) // _bytes_per_venture(settings)))


def _bytes_per_venture(settings: ForecastSettings) -> int:
    return settings.draws * (9 + 8 * (9 + 3 * settings.horizon_years))


def _to_full(values: np.ndarray, draw: np.ndarray, n_draws: int) -> np.ndarray:
    full = np.zeros((n_draws, values.shape[0]))
    full[draw] = values.T
    return full


def simulate(
    venture: VentureInputs, settings: ForecastSettings | None = None, *, seed: int | None = None
) -> Draws:
    """The per-draw results of one venture, arrays shaped (draws, years). ``seed`` None draws a
    fresh seed, kept in the result. Raises MissingInputsError when inputs are missing."""
    settings = settings or ForecastSettings()
    seed = _check_seed(seed)
    resolved, _ = _resolve([venture], settings, False)
    chunk = _simulate_chunk(resolved, settings, seed)
    n = settings.draws
    return Draws(
        patients=_to_full(chunk.patients, chunk.draw, n),
        settings=settings,
        qalys=None if chunk.qalys is None else _to_full(chunk.qalys, chunk.draw, n),
        savings=None if chunk.savings is None else _to_full(chunk.savings, chunk.draw, n),
        seed=seed,
        inputs=(venture,),
    )


def forecast(
    venture: VentureInputs, settings: ForecastSettings | None = None, *, seed: int | None = None
) -> ForecastSummary:
    """summarise(simulate(venture, settings, seed=seed))."""
    return summarise(simulate(venture, settings, seed=seed))


@dataclass(frozen=True)
class PortfolioForecast:
    """A programme's or cohort's forecast: ``total`` from the summed draws, ``draws`` those
    summed draws (to add portfolios or check against actuals), ``ventures`` each venture's own
    summary by key (None when not asked for), ``excluded`` the ventures left out for missing
    inputs, with what they miss."""

    total: ForecastSummary
    draws: Draws
    ventures: dict[int | str, ForecastSummary] | None
    excluded: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the total's inputs, seed and settings once, then the outputs."""
        data = self.total.to_dict()
        data["excluded"] = [dict(e) for e in self.excluded]
        if self.ventures is not None:
            data["ventures"] = [
                {"key": key, "outputs": summary.outputs_dict()}
                for key, summary in self.ventures.items()
            ]
        return data


def forecast_portfolio(
    ventures: Iterable[VentureInputs],
    settings: ForecastSettings | None = None,
    *,
    seed: int | None = None,
    per_venture: bool = False,
    skip_incomplete: bool = False,
    chunk_ventures: int | None = None,
) -> PortfolioForecast:
    """Forecast a portfolio: each venture's draws are simulated (its own stream, see the module
    docstring), summed draw by draw into the portfolio's draws, and the percentiles taken from
    the sums. Works through the ventures in chunks (``chunk_ventures``; by default sized to
    about 32 MiB) so memory stays bounded whatever the number of ventures.

    ``per_venture`` also summarises each venture (the same as ``forecast(venture)`` with the
    same seed), at about twice the cost of the total alone (see benchmarks/forecast.py).
    Ventures with missing inputs raise MissingInputsError listing every one of them, or, with
    ``skip_incomplete``, are left out and listed in ``excluded``.
    """
    settings = settings or ForecastSettings()
    seed = _check_seed(seed)
    resolved, excluded = _resolve(list(ventures), settings, skip_incomplete)
    kept = [r.venture for r in resolved]
    n_draws, horizon = settings.draws, settings.horizon_years
    total_patients = np.zeros((horizon, n_draws))
    with_qalys = any(v.qalys_per_patient is not None for v in kept)
    with_savings = any(v.savings_per_patient is not None for v in kept)
    total_qalys = np.zeros((horizon, n_draws)) if with_qalys else None
    total_savings = np.zeros((horizon, n_draws)) if with_savings else None
    summaries: dict[int | str, ForecastSummary] | None = {} if per_venture else None
    health = discount_factors(settings.health_discount_rate, horizon)[:, None]
    costs = discount_factors(settings.cost_discount_rate, horizon)[:, None]

    size = _chunk_size(settings, chunk_ventures)
    step = _simulation_size(settings, size)
    work = _Workspace()
    # (name of the chunk's array, programme total, the chunk's sum)
    series = [
        (name, total, np.empty((horizon, n_draws)))
        for name, total in (
            ("patients", total_patients),
            ("qalys", total_qalys),
            ("savings", total_savings),
        )
        if total is not None
    ]
    for start in range(0, len(resolved), size):
        # A chunk's draws are summed from zero, venture after venture, then added to the
        # total; np.add.at (an indexed loop) does exactly what np.bincount did, in the same
        # order, a third quicker. The chunk is simulated in smaller parts (cache), which does
        # not change those sums: a part without a benefit only leaves out additions of 0.
        for _, _, chunk_sum in series:
            chunk_sum.fill(0.0)
        for part in range(start, min(start + size, len(resolved)), step):
            block = resolved[part : min(part + step, start + size)]
            chunk = _simulate_chunk(block, settings, seed, work)
            for name, _, chunk_sum in series:
                values = getattr(chunk, name)
                if values is not None:
                    for k in range(horizon):
                        np.add.at(chunk_sum[k], chunk.draw, values[k])
            if summaries is None:
                continue
            ends = np.cumsum(chunk.counts)
            for j, r in enumerate(block):
                lo, hi = int(ends[j] - chunk.counts[j]), int(ends[j])
                summaries[r.key] = _venture_summary(
                    r.venture, chunk, lo, hi, settings, seed, health, costs
                )
        for _, total, chunk_sum in series:
            total += chunk_sum

    draws = Draws(
        patients=total_patients.T.copy(),
        settings=settings,
        qalys=None if total_qalys is None else total_qalys.T.copy(),
        savings=None if total_savings is None else total_savings.T.copy(),
        seed=seed,
        inputs=tuple(kept),
    )
    total = summarise(draws)
    return PortfolioForecast(total, draws, summaries, tuple(excluded))


def _venture_summary(
    venture: VentureInputs,
    chunk: _Chunk,
    lo: int,
    hi: int,
    settings: ForecastSettings,
    seed: int,
    health: np.ndarray,
    costs: np.ndarray,
) -> ForecastSummary:
    n_draws = settings.draws
    zeros = n_draws - (hi - lo)

    def band(values: np.ndarray, nonnegative: bool | None = None) -> Band:
        # The mean over all draws: failed draws add zero to the sum.
        quantiles = _quantiles_with_zeros(values, zeros, nonnegative)
        return Band.of(values.sum(axis=1) / n_draws, quantiles)

    patients = chunk.patients[:, lo:hi]
    qalys = qalys_dc = savings = savings_dc = None
    if venture.qalys_per_patient is not None and chunk.qalys is not None:
        values = chunk.qalys[:, lo:hi]
        qalys, qalys_dc = band(values), band(_cumulative(values * health, axis=0))
    if venture.savings_per_patient is not None and chunk.savings is not None:
        values = chunk.savings[:, lo:hi]
        savings, savings_dc = band(values), band(_cumulative(values * costs, axis=0))
    return ForecastSummary(
        settings=settings,
        seed=seed,
        inputs=(venture,),
        ventures=1,
        share_with_patients=float(np.count_nonzero(patients.sum(axis=0) > 0) / n_draws),
        patients=band(patients, True),
        patients_cumulative=band(_cumulative(patients, axis=0), True),
        ventures_with_qalys=int(qalys is not None),
        ventures_with_savings=int(savings is not None),
        **_benefit_bands(settings, qalys, qalys_dc, savings, savings_dc),
    )


# ---------------------------------------------------------------------------- prospective check


@dataclass(frozen=True)
class YearCheck:
    """One forecast year set against what was actually reached: error = actual - mean,
    relative error = error / mean (None when the mean is 0), inside = P10 ≤ actual ≤ P90."""

    year: int
    actual: float
    mean: float
    p10: float
    p50: float
    p90: float
    error: float
    relative_error: float | None
    inside_band: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ProspectiveCheck:
    """Actuals against the forecast made before them, year by year; ``share_inside_band`` is
    the share of the years checked whose actual fell inside the P10-P90 band (None when no year
    was checked), ``mean_absolute_error`` the mean of |error|."""

    years: tuple[YearCheck, ...]
    share_inside_band: float | None
    mean_absolute_error: float | None
    cumulative: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "cumulative": self.cumulative,
            "years": [y.to_dict() for y in self.years],
            "share_inside_band": self.share_inside_band,
            "mean_absolute_error": self.mean_absolute_error,
        }


def prospective_check(
    forecast: ForecastSummary | Draws | Mapping[str, Any],
    actuals_by_year: Mapping[int, float],
    *,
    cumulative: bool = False,
) -> ProspectiveCheck:
    """Set verified actual patients reached against a forecast made before them.

    ``forecast`` is a ForecastSummary, the Draws behind one, or a stored ``to_dict()``;
    ``actuals_by_year`` maps forecast year (1 = the first twelve months after the forecast
    date) to patients reached in that year, or since the forecast date when ``cumulative``.
    Years without an actual are left out, not counted as zero."""
    if isinstance(forecast, Draws):
        forecast = summarise(forecast)
    elif isinstance(forecast, Mapping):
        forecast = ForecastSummary.from_dict(forecast)
    band = forecast.patients_cumulative if cumulative else forecast.patients
    horizon = forecast.settings.horizon_years
    checks = []
    for year in sorted(actuals_by_year):
        if isinstance(year, bool) or not isinstance(year, numbers.Integral):
            raise ForecastInputError("actuals", f"Actuals: year {year!r} is not a whole number.")
        if not 1 <= year <= horizon:
            raise ForecastInputError(
                "actuals", f"Actuals: year {year} is outside the forecast's years 1 to {horizon}."
            )
        actual = _as_float(actuals_by_year[year], "actuals", f"Actuals: year {year}")
        if actual < 0:
            raise ForecastInputError(
                "actuals", f"Actuals: year {year} has a negative number of patients."
            )
        i = year - 1
        mean = band.mean[i]
        error = actual - mean
        checks.append(
            YearCheck(
                year=int(year),
                actual=actual,
                mean=mean,
                p10=band.p10[i],
                p50=band.p50[i],
                p90=band.p90[i],
                error=error,
                relative_error=error / mean if mean else None,
                inside_band=band.p10[i] <= actual <= band.p90[i],
            )
        )
    share = sum(c.inside_band for c in checks) / len(checks) if checks else None
    mae = sum(abs(c.error) for c in checks) / len(checks) if checks else None
    return ProspectiveCheck(tuple(checks), share, mae, cumulative)
