"""The review queue: flagged listings become review items; analysts claim, decide, release.

Functions take a ``session``; the caller owns the transaction (``with db.session() as session:``).
Claiming is safe under concurrency: ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, and on
SQLite a ``BEGIN IMMEDIATE`` transaction (one writer at a time), so no item is handed to two
analysts. A claim is a lease: once ``claimed_until`` passes, the item is claimable again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from pipeline.models import Decision, Label, Prediction, ReviewItem, ReviewState

DEFAULT_LEASE = timedelta(minutes=30)


class QueueError(ValueError):
    """A queue operation that cannot be done; nothing was changed."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def priority_for(prediction: Prediction) -> float:
    """Higher first. For now the calibrated score; species severity, recency and cluster size follow."""
    return round(float(prediction.score), 6)


def enqueue(session: Session, prediction: Prediction) -> ReviewItem | None:
    """Put a flagged listing in the queue (once per listing); refresh the priority of a pending item."""
    if not prediction.flag:
        return None
    item = session.scalar(select(ReviewItem).where(ReviewItem.listing_id == prediction.listing_id))
    if item is None:
        item = ReviewItem(
            listing_id=prediction.listing_id, prediction_id=prediction.id, priority=priority_for(prediction)
        )
        session.add(item)
    elif item.state == ReviewState.pending:
        item.prediction_id = prediction.id
        item.priority = priority_for(prediction)
    return item


def _claimable(now: datetime):  # noqa: ANN202 - SQL expression
    return or_(
        ReviewItem.state == ReviewState.pending,
        and_(ReviewItem.state == ReviewState.claimed, ReviewItem.claimed_until < now),
    )


def claim_next(session: Session, analyst: str, *, lease: timedelta = DEFAULT_LEASE) -> ReviewItem | None:
    """Claim the highest-priority claimable item for ``analyst``; ``None`` when the queue is empty."""
    if not analyst.strip():
        raise QueueError("an analyst name is required")
    conn = session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    now = _now()
    query = (
        select(ReviewItem)
        .where(_claimable(now))
        .order_by(ReviewItem.priority.desc(), ReviewItem.id)
        .limit(1)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    item = session.scalar(query)
    if item is None:
        return None
    item.state = ReviewState.claimed
    item.claimed_by = analyst
    item.claimed_until = now + lease
    session.flush()
    return item


def _held(session: Session, item_id: int, analyst: str) -> ReviewItem:
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    query = select(ReviewItem).where(ReviewItem.id == item_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    item = session.scalar(query)
    if item is None:
        raise QueueError(f"review item {item_id} does not exist")
    if item.state == ReviewState.decided:
        raise QueueError(f"review item {item_id} is already decided")
    if item.state != ReviewState.claimed or item.claimed_by != analyst:
        holder = f"held by {item.claimed_by}" if item.state == ReviewState.claimed else "not claimed"
        raise QueueError(f"review item {item_id} is {holder}; claim it first (queue next)")
    if item.claimed_until is not None and item.claimed_until < _now():
        raise QueueError(f"your lease on review item {item_id} expired at {item.claimed_until:%Y-%m-%d %H:%M} UTC; claim it again")
    return item


def decide(
    session: Session,
    item_id: int,
    analyst: str,
    label: str,
    *,
    category: str | None = None,
    note: str | None = None,
) -> Decision:
    """Record ``analyst``'s decision on an item they hold."""
    try:
        label_enum = Label(label)
    except ValueError:
        raise QueueError(f"unknown label {label!r}; use one of: {', '.join(l.value for l in Label)}") from None
    if category is not None:
        from classifier import CATEGORIES

        if category not in CATEGORIES:
            raise QueueError(f"unknown category {category!r}; use one of: {', '.join(CATEGORIES)}")
    item = _held(session, item_id, analyst)
    decision = Decision(review_item_id=item.id, reviewer=analyst, label=label_enum, category=category, note=note)
    session.add(decision)
    item.state = ReviewState.decided
    item.claimed_until = None
    session.flush()
    return decision


def release(session: Session, item_id: int, analyst: str) -> ReviewItem:
    """Give a held item back to the queue undecided."""
    item = _held(session, item_id, analyst)
    item.state = ReviewState.pending
    item.claimed_by = None
    item.claimed_until = None
    return item


def list_items(session: Session, *, state: str | None = None, limit: int = 50) -> list[ReviewItem]:
    query = select(ReviewItem).order_by(ReviewItem.priority.desc(), ReviewItem.id).limit(limit)
    if state:
        query = query.where(ReviewItem.state == ReviewState(state))
    return list(session.scalars(query))


@dataclass(frozen=True)
class QueueCounts:
    pending: int = 0
    claimed: int = 0
    decided: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"pending": self.pending, "claimed": self.claimed, "decided": self.decided}


def counts(session: Session) -> QueueCounts:
    rows = session.execute(select(ReviewItem.state, func.count()).group_by(ReviewItem.state)).all()
    return QueueCounts(**{state.value: n for state, n in rows})
