"""Benchmark: the Patient Impact forecast of a programme of 1,300 ventures (issue #7 asks for
under 2 seconds and under 1 GiB for 1,300 ventures x 10,000 draws x 5 years).

    uv run --frozen python -m benchmarks.forecast       # or: make bench

Pure NumPy (metrics/forecast.py), so no database is involved. Builds 1,300 synthetic ventures
with a realistic spread of stages and inputs, then times `forecast_portfolio` three times
for the programme total alone and three times with every venture's own summary as well, and
measures peak memory with tracemalloc (NumPy reports its arrays to it) and the growth of the
process's peak resident set. Writes a Markdown table to benchmarks/results/forecast.md.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

VENTURES = int(os.environ.get("BENCH_VENTURES", 1300))
RUNS = 5
SEED = 2016
TARGET_SECONDS = 2.0
TARGET_BYTES = 1 << 30
# A cohort's ventures are mostly early: a spread like the first CEP cohort's.
STAGE_MIX = {"idea": 0.30, "prototype": 0.25, "pilot": 0.20, "evidence": 0.15, "scaling": 0.10}


def build(rng: np.random.Generator):
    from metrics.forecast import VentureInputs

    stages = rng.choice(list(STAGE_MIX), size=VENTURES, p=list(STAGE_MIX.values()))
    ventures = []
    for i, stage in enumerate(stages):
        # Later stages launch sooner; some scaling ventures are already launched (delay 0).
        first = {"idea": 1.5, "prototype": 1.0, "pilot": 0.5, "evidence": 0.25, "scaling": 0.0}
        low = first[stage] * rng.uniform(0.5, 1.5)
        delay = (low, low + rng.uniform(0.25, 1.0), low + rng.uniform(1.0, 3.0))
        # NHS sites that could adopt: a few trusts to thousands of GP practices (log-normal).
        likely = float(np.clip(rng.lognormal(np.log(60), 1.2), 3, 6000))
        sites = (likely * rng.uniform(0.2, 0.6), likely, likely * rng.uniform(1.5, 3.0))
        per_site_likely = float(rng.lognormal(np.log(300), 1.0))
        per_site = (per_site_likely * 0.3, per_site_likely, per_site_likely * 3)
        qalys = (0.0, 0.01, 0.05) if rng.random() < 0.6 else None
        # About one in five costs more per patient than what it replaces at the low end.
        saving = float(rng.uniform(20, 500))
        savings = (-saving * 0.3 if rng.random() < 0.2 else 0.0, saving, saving * 2.5)
        ventures.append(
            VentureInputs(
                key=i,
                name=f"Venture {i}",
                launch_delay=delay,
                market_potential=sites,
                patients_per_site=per_site,
                qalys_per_patient=qalys,
                savings_per_patient=savings if rng.random() < 0.7 else None,
                stage=str(stage),
            )
        )
    # A few with fixed inputs (low = likely = high), as staff may enter a known figure.
    for i in range(0, VENTURES, 100):
        v = ventures[i]
        ventures[i] = VentureInputs(
            key=v.key,
            name=v.name,
            launch_delay=v.launch_delay.likely,
            market_potential=v.market_potential.likely,
            patients_per_site=v.patients_per_site.likely,
            stage=v.stage,
        )
    return ventures


def machine() -> str:
    """CPU model, cores and RAM, where the system says (Linux: /proc)."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        memory = f", {ram:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        memory = ""
    return f"{model} ({platform.machine()}), {os.cpu_count()} CPUs{memory}"


def maxrss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from metrics.forecast import ForecastSettings, forecast_portfolio

    settings = ForecastSettings()  # the design's defaults: 10,000 draws, 5 years
    ventures = build(np.random.default_rng(SEED))
    rss_before = maxrss_bytes()

    rows = {}
    results = {}
    for per_venture in (False, True):
        wall, cpu = [], []
        for _ in range(RUNS):
            started, started_cpu = time.perf_counter(), time.process_time()
            results[per_venture] = forecast_portfolio(
                ventures, settings, seed=SEED, per_venture=per_venture
            )
            wall.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        rows[per_venture] = (wall, cpu)
    rss_growth = maxrss_bytes() - rss_before

    peaks = {}
    for per_venture in (False, True):
        tracemalloc.start()
        forecast_portfolio(ventures, settings, seed=SEED, per_venture=per_venture)
        peaks[per_venture] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

    # The point of summing draws: the programme's P90 against the sum of the ventures' P90s.
    with_ventures = results[True]
    total = with_ventures.total
    sum_of_p90 = sum(s.patients_cumulative.p90[-1] for s in with_ventures.ventures.values())
    sum_of_means = sum(s.patients_cumulative.mean[-1] for s in with_ventures.ventures.values())
    assert abs(sum_of_means - total.patients_cumulative.mean[-1]) <= 1e-9 * sum_of_means
    stages = {s: sum(v.stage == s for v in ventures) for s in STAGE_MIX}

    def row(label, per_venture):
        wall, cpu = rows[per_venture]
        median = statistics.median(wall)
        met = median < TARGET_SECONDS and peaks[per_venture] < TARGET_BYTES
        # The target is the programme forecast; per-venture summaries are opt-in.
        target = (
            "none (opt-in)"
            if per_venture
            else f"under {TARGET_SECONDS:.0f} s and 1 GiB: {'met' if met else 'MISSED'}"
        )
        return (
            f"| {label} | {min(wall):.2f} | {median:.2f} | {statistics.median(cpu):.2f} | "
            f"{peaks[per_venture] / 2**20:,.0f} | {target} |"
        )

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        "# Patient Impact forecast benchmark",
        "",
        f"{VENTURES:,} ventures x {settings.draws:,} draws x {settings.horizon_years} years, "
        f"{RUNS} runs each; stages "
        + ", ".join(f"{s} {n}" for s, n in stages.items())
        + f"; {sum(v.qalys_per_patient is not None for v in ventures)} with QALYs, "
        f"{sum(v.savings_per_patient is not None for v in ventures)} with £ saved.",
        f"Machine: {machine()}, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, {platform.system()} "
        f"{platform.release()}; run {time.strftime('%Y-%m-%d %H:%M %Z')}, load average "
        f"during the run {load} (the CPUs are shared, so wall time includes waiting for them; "
        "CPU time is this process's own, though a busy neighbour slows it too).",
        "",
        "| `forecast_portfolio` | Best (s) | Median (s) | CPU, median (s) | Peak traced "
        "memory (MiB) | Target |",
        "|---|---:|---:|---:|---:|---|",
        row("programme total (draws summed venture by venture)", False),
        row("programme total and each venture's own summary", True),
        "",
        f"Peak resident set grew by {rss_growth / 2**20:,.0f} MiB over all the timed runs.",
        f"Cumulative patients by year {settings.horizon_years}: programme mean "
        f"{total.patients_cumulative.mean[-1]:,.0f} (= the sum of the ventures' means), "
        f"programme P90 {total.patients_cumulative.p90[-1]:,.0f}, against "
        f"{sum_of_p90:,.0f} for the sum of the ventures' P90s, which is not a percentile of "
        "anything.",
        "",
        "How: a first version drew every input for every draw and gathered the successes from "
        "arrays of all ventures x draws (3.3 s for the total under the same load). Now each "
        "venture draws inputs only for its successful draws (ranked by their success uniform "
        "with one uint64 sort, which keeps common random numbers across stages), one venture "
        "at a time while its draws sit in the CPU's cache, all five triangular estimates "
        "through one inverse CDF whose branches are chosen with bit masks (np.where and "
        "np.putmask mispredict a branch per element); the Bass integral is the closed form "
        "with one exp per draw and one log per draw and year, vectorised over half a chunk of "
        "ventures (its arrays then stay in L2) with in-place operations on arrays reused from "
        "part to part (fresh multi-MiB arrays cost a page fault per 4 KiB), clipped against "
        "arrays rather than scalars (NumPy's scalar loop is twice as slow); each chunk's draws "
        "are summed from zero with `np.add.at`, a third quicker than `np.bincount` and the "
        "same additions in the same order, then added to the programme's. "
        "Per-venture percentiles partition or sort only a venture's successful draws (its "
        "failures are zeros), with a single selection when only the P90 is above them; "
        "cumulative sums go year by year (`np.cumsum` along a short axis was the slowest step). "
        "Everything is float64: float32 inputs were tried and saved nothing measurable. None "
        "of this changes a number: the outputs are bit-for-bit those of the version before "
        "(tests pin a small portfolio's).",
        "",
        "Before and after that last round (December 2026, same machine, the two versions' "
        "benchmarks run alternately three times each under load 3.0-3.2): programme total "
        "0.54-0.88 s median wall and 0.53-0.56 s CPU before, 0.41-0.58 s wall and "
        "0.36-0.39 s CPU after (a third less CPU); with each venture's summary 1.04-1.75 s "
        "wall and 1.04-1.11 s CPU before, 0.87-0.99 s and 0.84-0.92 s after; peak traced "
        "memory 25 and 32 MiB before, 21 and 27 MiB after. The 2.09 s median recorded "
        "earlier for the code before was taken under load 5.7 (and a different kernel build, "
        "so perhaps another VM) and counted 2.08 s of CPU, four times what the same code "
        "takes here at load 3: on these shared CPUs the neighbours move the figures more than "
        "the code does, hence alternate runs.",
        "",
    ]
    report = "\n".join(lines)
    out = Path(__file__).resolve().parent / "results" / "forecast.md"
    out.write_text(report)
    print(report)
    print(f"Written to {out}")
    met = statistics.median(rows[False][0]) < TARGET_SECONDS and peaks[False] < TARGET_BYTES
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
