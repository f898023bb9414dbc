"""Scoring stored listings with a classifier model, and queueing what it flags.

Listings are stored first (``pipeline.ingest``) and scored afterwards, in batches, each batch its
own transaction: if the model fails, what was scored stays scored, the rest stays stored and
unscored, and ``wildwatch rescore`` picks it up later.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import exists, func, select

from pipeline.db import Database
from pipeline.models import Listing, Prediction, ReviewItem
from pipeline.queue import enqueue, record_model_run


class ScoringModel(Protocol):
    version: str

    def predict(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]: ...


@dataclass
class ScoreSummary:
    model_version: str
    scored: int = 0
    flagged: int = 0
    queued: int = 0
    by_category: Counter[str] = field(default_factory=Counter)


def unscored_ids(db: Database, model_version: str, *, all_listings: bool = False) -> list[int]:
    with db.session() as session:
        query = select(Listing.id).order_by(Listing.id)
        if not all_listings:
            scored = exists().where(Prediction.listing_id == Listing.id, Prediction.model_version == model_version)
            query = query.where(~scored)
        return list(session.scalars(query))


def score_listings(
    db: Database,
    model: ScoringModel,
    *,
    all_listings: bool = False,
    batch_size: int = 256,
    on_batch: Callable[[int], None] | None = None,
) -> ScoreSummary:
    """Score every listing that ``model`` has not scored yet (or all of them) and queue the flagged."""
    summary = ScoreSummary(model.version)
    ids = unscored_ids(db, model.version, all_listings=all_listings)
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        with db.session() as session:
            # a writer from the start on SQLite (clusters and queue items are read, then written)
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            listings = list(session.scalars(select(Listing).where(Listing.id.in_(batch)).order_by(Listing.id)))
            outputs = model.predict([{"title": l.title or "", "text": l.text or ""} for l in listings])
            for listing, out in zip(listings, outputs, strict=True):
                prediction = session.scalar(
                    select(Prediction).where(
                        Prediction.listing_id == listing.id, Prediction.model_version == model.version
                    )
                )
                if prediction is None:
                    prediction = Prediction(listing_id=listing.id, model_version=model.version)
                    session.add(prediction)
                prediction.score = float(out["score"])
                prediction.flag = bool(out["flag"])
                prediction.category = str(out["category"])
                prediction.lang = out.get("lang")
                prediction.evidence = list(out.get("evidence") or [])
                listing.lang = out.get("lang") or listing.lang
                session.flush()
                summary.scored += 1
                if prediction.flag:
                    summary.flagged += 1
                    summary.by_category[prediction.category] += 1
                # every scored listing joins its near-duplicate cluster; the cluster's review item
                # is opened (flagged) or re-prioritised (pipeline.queue.enqueue)
                if enqueue(session, prediction) is not None:
                    summary.queued += 1
        if on_batch:
            on_batch(len(batch))
    if summary.scored:
        with db.session() as session:
            record_model_run(session, summary.model_version, scored=summary.scored, flagged=summary.flagged)
    return summary


def database_stats(db: Database) -> dict[str, Any]:
    """Counts for ``wildwatch stats --json``: one JSON object."""
    from pipeline.models import CrawlRun, Site, Snapshot
    from pipeline.queue import counts

    with db.session() as session:
        count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
        flagged_listings = session.scalar(
            select(func.count(func.distinct(Prediction.listing_id))).where(Prediction.flag.is_(True))
        )
        per_site = dict(
            session.execute(
                select(Site.name, func.count(Listing.id)).join(Listing, Listing.site_id == Site.id).group_by(Site.name)
            ).all()
        )
        return {
            "sites": count(Site),
            "crawl_runs": count(CrawlRun),
            "listings": count(Listing),
            "listings_by_site": per_site,
            "snapshots": count(Snapshot),
            "predictions": count(Prediction),
            "flagged": flagged_listings,
            "review_items": count(ReviewItem),
            "review_items_by_state": counts(session).as_dict(),
        }
