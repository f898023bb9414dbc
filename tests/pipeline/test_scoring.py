"""The order of the pipeline: stored first, scored after; a failing model loses nothing."""

from typing import Any

import pytest
from sqlalchemy import func, select

from pipeline.db import Database
from pipeline.models import Listing, Prediction, ReviewItem
from pipeline.scoring import database_stats, score_listings
from tests.pipeline.factories import item, store


class KeywordModel:
    """A stand-in model: flags titles that mention ivory."""

    version = "kw-1"

    def predict(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for r in records:
            hit = "象牙" in r["title"] or "ivory" in r["title"]
            out.append({"score": 0.9 if hit else 0.1, "flag": hit, "category": "ivory" if hit else "none",
                        "lang": "zh", "evidence": ["象牙"] if hit else []})
        return out


class BrokenModel(KeywordModel):
    version = "broken-1"

    def predict(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raise RuntimeError("model exploded")


def _count(db: Database, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_classifier_error_leaves_listings_stored_and_unscored_and_rescore_scores_them(db: Database) -> None:
    store(db, item("1", title="象牙手镯"), item("2", title="iPhone 12"))
    with pytest.raises(RuntimeError, match="exploded"):
        score_listings(db, BrokenModel())
    assert _count(db, Listing) == 2
    assert _count(db, Prediction) == 0

    summary = score_listings(db, KeywordModel())
    assert (summary.scored, summary.flagged, summary.queued) == (2, 1, 1)
    # Already scored by this model: nothing to do the second time.
    assert score_listings(db, KeywordModel()).scored == 0
    stats = database_stats(db)
    assert stats["listings"] == 2 and stats["predictions"] == 2 and stats["flagged"] == 1
    assert stats["review_items_by_state"] == {"pending": 1, "claimed": 0, "decided": 0}


def test_flagged_listing_is_queued_once_even_when_scored_by_two_models(db: Database) -> None:
    store(db, item("1", title="象牙手镯"))
    score_listings(db, KeywordModel())

    class NewerModel(KeywordModel):
        version = "kw-2"

    score_listings(db, NewerModel())
    assert _count(db, Prediction) == 2
    assert _count(db, ReviewItem) == 1


def test_failure_midway_keeps_the_batches_already_scored(db: Database) -> None:
    store(db, *(item(str(i), title=f"象牙 {i}") for i in range(5)))

    class FailsOnSecondBatch(KeywordModel):
        version = "flaky-1"
        calls = 0

        def predict(self, records):
            type(self).calls += 1
            if self.calls == 2:
                raise RuntimeError("out of memory")
            return super().predict(records)

    with pytest.raises(RuntimeError):
        score_listings(db, FailsOnSecondBatch(), batch_size=2)
    assert _count(db, Prediction) == 2
    assert score_listings(db, KeywordModel()).scored == 5
