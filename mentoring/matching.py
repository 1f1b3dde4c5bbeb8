"""Proposing mentors for fellows: the best total fit under each mentor's capacity.

The fit of a fellow and a mentor is a small, explainable score:

* 3 when a sector of the fellow's ventures is one the mentor knows;
* 2 for each of the fellow's stated needs (up to two) that the mentor's expertise covers;
* 1 when both are in the same NHS England region.

Each mentor becomes as many "slots" as they have free places, and SciPy's
`linear_sum_assignment` (the Hungarian method) picks the assignment of fellows to slots with
the highest total fit: a global optimum, so an early fellow never takes the mentor a later one
needs more. Pairs staff excluded are never chosen; pairs they locked are kept as they are.
The scores are computed with NumPy matrix products, so 1,300 fellows against 400 mentors
take about a second (see benchmarks/matching.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from cohort.models import NHSRegion, Sector

SECTOR_WEIGHT = 3
NEED_WEIGHT = 2
MAX_NEEDS_COUNTED = 2
REGION_WEIGHT = 1
# Cost of a pair staff excluded: far above any real fit, so it is chosen only when a fellow
# has no other slot left, and then dropped (the fellow stays unmatched).
FORBIDDEN = 10_000.0

# What fellows ask for help with, and the words that show it in a need or in a mentor's
# expertise. Matching reads words, not categories, so fellows write needs in their own terms.
TOPICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "investment": ("raising investment", ("invest", "fundrais", "funding", "finance", "round")),
    "regulation": (
        "regulation and clinical safety",
        ("regulat", "ukca", "ce mark", "mhra", "clinical safety", "compliance"),
    ),
    "evidence": ("pilots and evidence", ("pilot", "evidence", "trial", "evaluat", "outcome")),
    "procurement": (
        "NHS procurement and market access",
        ("procure", "market access", "commission", "buy", "health economic"),
    ),
    "leadership": ("leadership and teams", ("leader", "team", "hiring")),
    "business": ("business planning", ("business plan", "financial model", "strategy", "model")),
    "product": ("product and digital design", ("product", "digital", "software", "user")),
    "partnerships": ("partnerships", ("partnership", "partner", "collaborat")),
}
TOPIC_KEYS = list(TOPICS)
SECTOR_KEYS = list(Sector.values)
REGION_KEYS = list(NHSRegion.values)


def topics_in(text: str) -> set[str]:
    text = (text or "").lower()
    return {key for key, (_, words) in TOPICS.items() if any(w in text for w in words)}


@dataclass(frozen=True)
class FellowProfile:
    key: int
    sectors: frozenset[str]
    needs: frozenset[str]
    region: str = ""


@dataclass(frozen=True)
class MentorProfile:
    key: int
    sectors: frozenset[str]
    expertise: frozenset[str]
    region: str = ""
    free_places: int = 0


@dataclass
class Proposal:
    fellow: int
    mentor: int
    score: int
    reasons: list[str] = field(default_factory=list)


@dataclass
class MatchResult:
    proposals: list[Proposal]
    unmatched: list[int]  # fellow keys left without a mentor

    @property
    def total_fit(self) -> int:
        return sum(p.score for p in self.proposals)


def _indicator(items: list[frozenset[str]] | list[str], keys: list[str]) -> np.ndarray:
    """Rows of 0/1 over `keys`: which of them each item has."""
    index = {key: i for i, key in enumerate(keys)}
    matrix = np.zeros((len(items), len(keys)), dtype=np.float32)
    for row, values in enumerate(items):
        for value in [values] if isinstance(values, str) else values:
            if value in index:
                matrix[row, index[value]] = 1.0
    return matrix


def fit_matrix(fellows: list[FellowProfile], mentors: list[MentorProfile]) -> np.ndarray:
    """The fit of every fellow with every mentor (one row per fellow, one column per mentor)."""
    shared_sector = (
        _indicator([f.sectors for f in fellows], SECTOR_KEYS)
        @ _indicator([m.sectors for m in mentors], SECTOR_KEYS).T
    ) > 0
    needs_met = np.minimum(
        _indicator([f.needs for f in fellows], TOPIC_KEYS)
        @ _indicator([m.expertise for m in mentors], TOPIC_KEYS).T,
        MAX_NEEDS_COUNTED,
    )
    same_region = (
        _indicator([f.region for f in fellows], REGION_KEYS)
        @ _indicator([m.region for m in mentors], REGION_KEYS).T
    )
    return SECTOR_WEIGHT * shared_sector + NEED_WEIGHT * needs_met + REGION_WEIGHT * same_region


def explain(fellow: FellowProfile, mentor: MentorProfile) -> tuple[int, list[str]]:
    """The fit of one pair and why, in words for staff and for the two people."""
    reasons = []
    score = 0
    shared = sorted(fellow.sectors & mentor.sectors)
    if shared:
        score += SECTOR_WEIGHT
        labels = ", ".join(Sector(s).label.lower() for s in shared)
        reasons.append(f"Shared sector: {labels}.")
    met = sorted(fellow.needs & mentor.expertise)[:MAX_NEEDS_COUNTED]
    for topic in met:
        score += NEED_WEIGHT
        reasons.append(f"The mentor's expertise covers what the fellow needs: {TOPICS[topic][0]}.")
    if fellow.region and fellow.region == mentor.region:
        score += REGION_WEIGHT
        reasons.append(f"Both in {NHSRegion(fellow.region).label}.")
    if not reasons:
        reasons.append("No particular overlap: proposed to use the mentor's free place.")
    return score, reasons


def propose(
    fellows: list[FellowProfile],
    mentors: list[MentorProfile],
    excluded: set[tuple[int, int]] = frozenset(),
) -> MatchResult:
    """The assignment of fellows to mentors' free places with the highest total fit."""
    slots = np.repeat(np.arange(len(mentors)), [max(m.free_places, 0) for m in mentors])
    if not fellows or not len(slots):
        return MatchResult(proposals=[], unmatched=[f.key for f in fellows])
    fit = fit_matrix(fellows, mentors)
    cost = -fit.astype(np.float64)
    if excluded:
        fellow_index = {f.key: i for i, f in enumerate(fellows)}
        mentor_index = {m.key: j for j, m in enumerate(mentors)}
        for fellow_key, mentor_key in excluded:
            i, j = fellow_index.get(fellow_key), mentor_index.get(mentor_key)
            if i is not None and j is not None:
                cost[i, j] = FORBIDDEN
    rows, columns = linear_sum_assignment(cost[:, slots])
    proposals, matched = [], set()
    for i, column in zip(rows.tolist(), columns.tolist(), strict=True):
        j = int(slots[column])
        if cost[i, j] >= FORBIDDEN:
            continue
        score, reasons = explain(fellows[i], mentors[j])
        proposals.append(Proposal(fellows[i].key, mentors[j].key, score, reasons))
        matched.add(i)
    unmatched = [f.key for i, f in enumerate(fellows) if i not in matched]
    return MatchResult(proposals=proposals, unmatched=unmatched)
