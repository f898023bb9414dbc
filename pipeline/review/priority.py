"""Review priority: which item an analyst sees next.

    priority = 100 × S × (0.25 + 0.75 × V) × R × C          (0 … 200; higher first)

=====  ======================================================================================
S      calibrated score of the item's prediction (0 … 1): the newest model's, and within one
       model the highest over the cluster's listings
V      species severity (0 … 1), ``severity(category, species, evidence)`` below
R      recency = 0.5 + 0.5 × 2^(−age / 30 days), age = now − posted_at (first_seen when the
       site gives no date): a fresh ad counts fully, a month-old one 0.75, an old one 0.5
C      cluster size = 1 + 0.25 × log2(listings in the near-duplicate cluster), at most 2:
       an ad reposted 4 times counts 1.5×, 16 times or more 2×
=====  ======================================================================================

Each factor multiplies, so each one alone can reorder items but none can lift an item the model
thinks unlikely (S ≈ 0) to the top. Severity keeps 0.25 of the weight even at V = 0, so a
confident flag in an unlisted category is still seen.

The priority is computed when a model scores a listing of the item (``pipeline.scoring`` →
``pipeline.queue.enqueue``: a new model version, a higher score or a larger cluster), and for
pending items by ``reprioritise`` (``wildwatch queue reprioritise``), which a scheduler runs daily so
that R stays current.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from pipeline.review.species import lookup

# Severity per category when no species is known (0 … 1). 1.0 = CITES Appendix I-level: every
# traded species in the category is Appendix I (or China level Ⅰ / Vietnam IB).
CATEGORY_SEVERITY: dict[str, float] = {
    "ivory": 1.0,  # Elephas maximus I; Loxodonta africana I (II for four populations)
    "rhino_horn": 1.0,  # all Rhinocerotidae I (II for two populations)
    "pangolin": 1.0,  # all Manis I since CoP17; China level Ⅰ
    "big_cat": 1.0,  # tiger, leopard, snow / clouded leopard I
    "primate": 1.0,  # slow lorises (Nycticebus) I; China level Ⅰ; most traded primates I or II
    "bear": 1.0,  # Asiatic black bear, sun bear I (bile, paws)
    "turtle_tortoise": 0.8,  # hawksbill, sea turtles, radiated / ploughshare I; Cuora mostly II
    "bird": 0.7,  # helmeted hornbill, grey parrot I; raptors, mynas II
    "marine": 0.6,  # totoaba I; seahorses, corals, sharks II
    "reptile_amphibian": 0.6,  # mostly II
    "other_mammal": 0.6,  # mostly II (musk deer, saiga …)
    "plant_timber": 0.6,  # Dalbergia, Aquilaria mostly II (some I)
    "none": 0.0,
}
UNKNOWN_CATEGORY_SEVERITY = 0.5
# Severity of a species whose protection level is known (pipeline.review.species tiers).
TIER_SEVERITY = {1: 1.0, 2: 0.6, 3: 0.4}

RECENCY_HALF_LIFE_DAYS = 30.0
CLUSTER_WEIGHT = 0.25
CLUSTER_CAP = 2.0


def severity(category: str | None, species: str | None = None, evidence: list[str] | None = None) -> float:
    """How serious a confirmed case would be, 0 … 1.

    A named species with known facts decides (tier 1 → 1.0, 2 → 0.6, 3 → 0.4). Otherwise the
    category's table value, raised by any evidence term that names a listed species by a common
    name ("穿山甲", "tê tê java", "tiger"). The species facts come from ``pipeline.review.species``,
    the seam where the species lexicon (issue 4) plugs in.
    """
    if species:
        facts = lookup(species)
        if facts is not None and facts.tier is not None:
            return TIER_SEVERITY[facts.tier]
    base = CATEGORY_SEVERITY.get(category or "none", UNKNOWN_CATEGORY_SEVERITY)
    for term in evidence or ():
        facts = lookup(term)
        if facts is not None and facts.tier is not None:
            base = max(base, TIER_SEVERITY[facts.tier])
    return base


def recency(when: datetime | None, now: datetime | None = None) -> float:
    if when is None:
        return 0.75
    now = now or datetime.now(timezone.utc)
    age_days = max((now - when).total_seconds() / 86400.0, 0.0)
    return 0.5 + 0.5 * 2.0 ** (-age_days / RECENCY_HALF_LIFE_DAYS)


def cluster_factor(size: int) -> float:
    return min(1.0 + CLUSTER_WEIGHT * math.log2(max(size, 1)), CLUSTER_CAP)


def priority(
    score: float,
    *,
    category: str | None,
    evidence: list[str] | None = None,
    species: str | None = None,
    seen: datetime | None = None,
    cluster_size: int = 1,
    now: datetime | None = None,
) -> float:
    """The documented formula (module docstring); rounded to 4 decimals."""
    return _combine(score, severity(category, species, evidence), recency(seen, now), cluster_factor(cluster_size))


def _combine(score: float, severity_: float, recency_: float, cluster: float) -> float:
    s = min(max(float(score), 0.0), 1.0)
    return round(100.0 * s * (0.25 + 0.75 * severity_) * recency_ * cluster, 4)


def explain(
    score: float,
    *,
    category: str | None,
    evidence: list[str] | None = None,
    species: str | None = None,
    seen: datetime | None = None,
    cluster_size: int = 1,
    now: datetime | None = None,
) -> dict[str, float]:
    """The factors of ``priority`` (for the UI and ``queue next``)."""
    v, r, c = severity(category, species, evidence), recency(seen, now), cluster_factor(cluster_size)
    return {
        "score": round(float(score), 4),
        "severity": v,
        "recency": round(r, 4),
        "cluster": round(c, 4),
        "priority": _combine(score, v, r, c),
    }
