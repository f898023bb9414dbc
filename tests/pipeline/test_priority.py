"""The priority formula, species severity, and recomputation when a new model scores a listing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from pipeline.db import Database
from pipeline.models import ReviewItem
from pipeline.review.priority import CATEGORY_SEVERITY, cluster_factor, priority, recency, severity
from pipeline.review.species import lookup
from pipeline.scoring import score_listings
from tests.pipeline.factories import item, store

NOW = datetime(2026, 11, 29, tzinfo=timezone.utc)


def test_severity_table_and_species_facts() -> None:
    for cat in ("ivory", "rhino_horn", "pangolin", "big_cat", "primate"):
        assert severity(cat, None, []) == 1.0
    assert severity("none", None, []) == 0.0
    assert severity("bird", None, []) == CATEGORY_SEVERITY["bird"] < 1.0
    # a named species decides: CITES I / China level I / Vietnam IB -> 1.0, Appendix II -> 0.6
    assert lookup("Manis javanica").tier == 1 and severity("other_mammal", "Manis javanica", []) == 1.0
    assert lookup("Cuora trifasciata").cn_level == "Ⅱ"  # China's genus rule (闭壳龟属) reaches the species
    assert severity("bird", "Falco tinnunculus", []) == 0.6
    # an evidence term naming a listed species raises the category's value
    assert severity("reptile_amphibian", None, ["穿山甲"]) == 1.0
    assert severity("bird", None, ["tiger"]) == 1.0


def test_each_factor_moves_priority_the_documented_way() -> None:
    base = {"category": "bird", "evidence": [], "seen": NOW, "cluster_size": 1, "now": NOW}
    p = priority(0.8, **base)
    assert p == round(100 * 0.8 * (0.25 + 0.75 * 0.7) * 1.0 * 1.0, 4)
    assert priority(0.9, **base) > p  # score
    assert priority(0.8, **{**base, "category": "ivory"}) > p  # severity
    assert priority(0.8, **{**base, "seen": NOW - timedelta(days=30)}) < p  # recency
    assert recency(NOW - timedelta(days=30), NOW) == 0.75
    assert priority(0.8, **{**base, "cluster_size": 4}) == round(p * 1.5, 4)  # cluster size
    assert cluster_factor(1000) == 2.0


class Model:
    def __init__(self, version: str, score: float) -> None:
        self.version, self.score = version, score

    def predict(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"score": self.score, "flag": self.score >= 0.5, "category": "ivory", "lang": "zh",
                 "evidence": ["象牙"]} for _ in records]


def test_priority_is_recomputed_when_a_new_model_scores_the_listing(db: Database) -> None:
    store(db, item("1", title="老象牙手镯 内径56", text="家里长辈留下的老象牙手镯一只，包浆自然，懂的来"))
    score_listings(db, Model("m-1", 0.9))
    with db.session() as session:
        first = session.scalar(select(ReviewItem.priority))
    score_listings(db, Model("m-2", 0.6))  # a newer model is less sure: the item drops
    with db.session() as session:
        item_ = session.scalar(select(ReviewItem))
        assert item_.priority < first and item_.prediction.model_version == "m-2" and item_.score == 0.6
    score_listings(db, Model("m-3", 0.3))  # no longer flagged: stays queued (nothing is lost), lowest priority
    with db.session() as session:
        item_ = session.scalar(select(ReviewItem))
        assert item_.score == 0.3 and item_.state.value == "pending"
