"""The review queue: flagged listings become review items (one per near-duplicate cluster);
analysts claim, decide, release, send back and change decisions. The workflow is in docs/review.md.

Functions take a ``session``; the caller owns the transaction (``with db.session() as session:``).
Every function that changes an item first takes the item's write lock — ``SELECT … FOR UPDATE``
(claims: ``FOR UPDATE SKIP LOCKED``) on PostgreSQL, a ``BEGIN IMMEDIATE`` transaction on SQLite —
so no item is handed to two analysts and no item is decided twice. A claim is a lease: once
``claimed_until`` passes, the item is claimable again and its old holder can no longer decide it.
Every claim, decision, change, send-back, assignment and policy change is written to the audit log
(``pipeline.audit``) in the same transaction. A refused operation raises ``QueueError`` with a
message for the analyst, and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from pipeline import audit
from pipeline.models import (
    Cluster,
    Decision,
    DecisionStatus,
    Label,
    Listing,
    Prediction,
    ReviewItem,
    ReviewPolicy,
    ReviewStage,
    ReviewState,
    Site,
)
from pipeline.review import priority as prio

DEFAULT_LEASE = timedelta(minutes=30)
ANY_CATEGORY = "*"  # a review_policy row for every category


class QueueError(ValueError):
    """A queue operation that cannot be done; nothing was changed."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _write_lock(session: Session) -> bool:
    """Start the transaction as a writer on SQLite (``BEGIN IMMEDIATE``; call before any other
    statement of the transaction); True on PostgreSQL (use row locks)."""
    tx = session.get_transaction()
    if tx is None or session.info.get("ww_write_tx") is not tx:
        # a transaction the caller already started keeps its mode (on SQLite its first write
        # takes the lock)
        started = tx is not None and bool(getattr(tx, "_connections", None))
        conn = session.connection() if started else session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        session.info["ww_write_tx"] = session.get_transaction()
        session.info["ww_pg"] = conn.dialect.name == "postgresql"
    return session.info["ww_pg"]


def _check_analyst(analyst: str) -> str:
    if not analyst or not analyst.strip():
        raise QueueError("an analyst name is required (-a NAME or WILDWATCH_ANALYST)")
    return analyst.strip()


def _snap(item: ReviewItem) -> dict[str, Any]:
    return {
        "state": item.state.value if item.state else None,
        "stage": item.stage.value if item.stage else None,
        "claimed_by": item.claimed_by,
        "claimed_until": item.claimed_until,
        "assigned_to": item.assigned_to,
        "priority": item.priority,
    }


def _dsnap(d: Decision) -> dict[str, Any]:
    return {
        "decision": d.id, "reviewer": d.reviewer, "label": d.label.value, "category": d.category,
        "species": d.species, "kind": d.kind, "note": d.note, "stage": d.stage.value if d.stage else None,
        "status": d.status.value if d.status else None, "supersedes": d.supersedes_id,
    }


# --------------------------------------------------------------------------------------------
# enqueue and priority


def item_priority(session: Session, item: ReviewItem, *, now: datetime | None = None) -> float:
    """``pipeline.review.priority.priority`` for ``item`` as it stands."""
    pred = item.prediction
    if pred is None:
        return item.priority
    listing = session.get(Listing, pred.listing_id)
    size = 1
    if item.cluster_id is not None:
        size = session.scalar(select(Cluster.size).where(Cluster.id == item.cluster_id)) or 1
    seen = (listing.posted_at or listing.first_seen) if listing is not None else None
    return prio.priority(pred.score, category=pred.category, evidence=pred.evidence, seen=seen,
                         cluster_size=size, now=now)


def _adopt(item: ReviewItem, prediction: Prediction) -> None:
    item.prediction = prediction
    item.score = float(prediction.score)
    item.category = prediction.category
    item.lang = prediction.lang or item.lang


def enqueue(session: Session, prediction: Prediction) -> ReviewItem | None:
    """Cluster the scored listing and keep its cluster's review item up to date.

    A flagged listing whose cluster has no item opens one; a listing of a cluster that already has
    one adds evidence to it (and a larger cluster). A pending or claimed item takes the prediction
    when it comes from another (newer) model or scores higher, and its priority is recomputed.
    Returns the item when ``prediction`` is flagged, else None.
    """
    from pipeline.dedupe import assign_cluster

    listing = prediction.listing if prediction.listing is not None else session.get(Listing, prediction.listing_id)
    member = assign_cluster(session, listing)
    item = session.scalar(select(ReviewItem).where(ReviewItem.cluster_id == member.cluster_id))
    if item is None:
        item = session.scalar(select(ReviewItem).where(ReviewItem.listing_id == listing.id))
    if item is None:
        if not prediction.flag:
            return None
        item = ReviewItem(listing_id=listing.id, cluster_id=member.cluster_id, site_id=listing.site_id,
                          state=ReviewState.pending, stage=ReviewStage.first)
        session.add(item)
        _adopt(item, prediction)
    elif item.state != ReviewState.decided:
        current = item.prediction
        if (current is None or current.id == prediction.id or current.model_version != prediction.model_version
                or prediction.score >= current.score):
            _adopt(item, prediction)
    session.flush()
    if item.state != ReviewState.decided:
        item.priority = item_priority(session, item)
    return item if prediction.flag else None


def reprioritise(session: Session, *, actor: str = "system", now: datetime | None = None) -> int:
    """Recompute the priority of every undecided item (keeps recency current); returns how many changed."""
    _write_lock(session)
    now = now or _now()
    changed = 0
    items = session.scalars(select(ReviewItem).where(ReviewItem.state != ReviewState.decided))
    for item in items:
        new = item_priority(session, item, now=now)
        if new != item.priority:
            item.priority = new
            changed += 1
    audit.append(session, actor, "queue.reprioritise", "queue", None, after={"changed": changed})
    return changed


def record_model_run(session: Session, model_version: str, *, scored: int, flagged: int, actor: str = "system") -> None:
    """Audit a scoring run; ``model.change`` when another model than the last one scored."""
    from pipeline.models import AuditEntry

    _write_lock(session)
    last = session.scalar(
        select(AuditEntry.entity_id).where(AuditEntry.action.in_(["model.change", "model.score"]))
        .order_by(AuditEntry.seq.desc()).limit(1)
    )
    action = "model.score" if last == model_version else "model.change"
    audit.append(session, actor, action, "model", model_version, before={"model_version": last},
                 after={"model_version": model_version, "scored": scored, "flagged": flagged})


# --------------------------------------------------------------------------------------------
# claiming


@dataclass(frozen=True)
class ClaimFilter:
    """What an analyst wants to work on; None means any."""

    lang: str | None = None
    category: str | None = None
    site: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    assigned_only: bool = False  # only items assigned to me

    def conditions(self, session: Session) -> list[Any]:
        from classifier import CATEGORIES, LANGS

        conds: list[Any] = []
        if self.lang is not None:
            if self.lang not in LANGS:
                raise QueueError(f"unknown language {self.lang!r}; use one of: {', '.join(LANGS)}")
            conds.append(ReviewItem.lang == self.lang)
        if self.category is not None:
            if self.category not in CATEGORIES:
                raise QueueError(f"unknown category {self.category!r}; use one of: {', '.join(CATEGORIES)}")
            conds.append(ReviewItem.category == self.category)
        if self.site is not None:
            site_id = session.scalar(select(Site.id).where(Site.name == self.site))
            if site_id is None:
                raise QueueError(f"unknown site {self.site!r}")
            conds.append(ReviewItem.site_id == site_id)
        for name, value in (("--min-score", self.min_score), ("--max-score", self.max_score)):
            if value is not None and not 0.0 <= value <= 1.0:
                raise QueueError(f"{name} must be between 0 and 1, not {value}")
        if self.min_score is not None and self.max_score is not None and self.min_score > self.max_score:
            raise QueueError(f"empty score range: {self.min_score} > {self.max_score}")
        if self.min_score is not None:
            conds.append(ReviewItem.score >= self.min_score)
        if self.max_score is not None:
            conds.append(ReviewItem.score <= self.max_score)
        return conds


_NO_FILTER = ClaimFilter()


def _eligible(analyst: str, filters: ClaimFilter) -> list[Any]:
    """Items this analyst may take: unassigned or assigned to them; never their own second review."""
    assigned = (ReviewItem.assigned_to == analyst) if filters.assigned_only else or_(
        ReviewItem.assigned_to.is_(None), ReviewItem.assigned_to == analyst
    )
    return [assigned, or_(ReviewItem.first_reviewer.is_(None), ReviewItem.first_reviewer != analyst)]


def _take(session: Session, item: ReviewItem, analyst: str, lease: timedelta, now: datetime) -> ReviewItem:
    before = _snap(item)
    reclaimed = item.state == ReviewState.claimed  # an expired lease
    item.state = ReviewState.claimed
    item.claimed_by = analyst
    item.claimed_until = now + lease
    details: dict[str, Any] = {"lease_seconds": int(lease.total_seconds())}
    if reclaimed:
        details["expired_lease_of"] = before["claimed_by"]
    audit.append(session, analyst, "claim", "review_item", item.id, before=before, after=_snap(item), **details)
    return item


_SNAP_COLUMNS = (ReviewItem.id, ReviewItem.priority, ReviewItem.state, ReviewItem.stage, ReviewItem.claimed_by,
                 ReviewItem.claimed_until, ReviewItem.assigned_to)


@lru_cache(maxsize=256)
def _claim_query(pg: bool, expired: bool, shape: tuple[bool, ...]) -> Any:
    """The candidate query for one combination of filters, built once (bind parameters for values):
    statement construction costs more than running it on a busy machine."""
    has_lang, has_cat, has_site, has_min, has_max, assigned_only = shape
    analyst = bindparam("analyst")
    # The state is a literal, not a bound parameter: only then can SQLite and PostgreSQL (generic
    # plans) prove that the partial index on pending rows applies.
    where = [
        and_(text("review_item.state = 'claimed'"),
             ReviewItem.claimed_until < bindparam("now", type_=ReviewItem.claimed_until.type))
        if expired else text("review_item.state = 'pending'"),
        (ReviewItem.assigned_to == analyst) if assigned_only
        else or_(ReviewItem.assigned_to.is_(None), ReviewItem.assigned_to == analyst),
        or_(ReviewItem.first_reviewer.is_(None), ReviewItem.first_reviewer != analyst),
    ]
    if has_lang:
        where.append(ReviewItem.lang == bindparam("lang"))
    if has_cat:
        where.append(ReviewItem.category == bindparam("category"))
    if has_site:
        where.append(ReviewItem.site_id == bindparam("site_id"))
    if has_min:
        where.append(ReviewItem.score >= bindparam("min_score"))
    if has_max:
        where.append(ReviewItem.score <= bindparam("max_score"))
    query = select(*_SNAP_COLUMNS).where(*where).order_by(ReviewItem.priority.desc(), ReviewItem.id.desc()).limit(1)
    return query.with_for_update(skip_locked=True) if pg else query


_CLAIM_UPDATE = (
    update(ReviewItem.__table__).where(ReviewItem.__table__.c.id == bindparam("item_id"))
    .values(state=bindparam("state"), claimed_by=bindparam("claimed_by"), claimed_until=bindparam("claimed_until"),
            updated_at=bindparam("updated_at"))
)


def claim_next(
    session: Session,
    analyst: str,
    *,
    lease: timedelta = DEFAULT_LEASE,
    filters: ClaimFilter | None = None,
) -> ReviewItem | None:
    """Claim the highest-priority item ``analyst`` may take (pending, or claimed with an expired
    lease), matching ``filters``; ``None`` when there is none. Ties: newest item first.

    The hot path of the queue, so Core statements built once: two indexed candidate queries (the
    partial index on pending rows; state + claimed_until for expired leases — one OR would defeat
    both indexes), one UPDATE, the audit entry, then the claimed item loaded once."""
    analyst = _check_analyst(analyst)
    if lease <= timedelta(0):
        raise QueueError("a lease must be longer than zero")
    filters = filters or ClaimFilter()
    pg = _write_lock(session)
    if filters != _NO_FILTER:
        filters.conditions(session)  # validates; raises QueueError
    now = _now()
    params: dict[str, Any] = {"analyst": analyst, "now": now}
    if filters.lang is not None:
        params["lang"] = filters.lang
    if filters.category is not None:
        params["category"] = filters.category
    if filters.site is not None:
        params["site_id"] = session.scalar(select(Site.id).where(Site.name == filters.site))
    if filters.min_score is not None:
        params["min_score"] = filters.min_score
    if filters.max_score is not None:
        params["max_score"] = filters.max_score
    shape = (filters.lang is not None, filters.category is not None, filters.site is not None,
             filters.min_score is not None, filters.max_score is not None, filters.assigned_only)
    conn = session.connection()
    candidates = [r for r in (conn.execute(_claim_query(pg, False, shape), params).first(),
                              conn.execute(_claim_query(pg, True, shape), params).first())
                  if r is not None]
    if not candidates:
        return None
    row = max(candidates, key=lambda r: (r.priority, r.id))
    until = now + lease
    conn.execute(_CLAIM_UPDATE, {"item_id": row.id, "state": ReviewState.claimed, "claimed_by": analyst,
                                    "claimed_until": until, "updated_at": now})
    before = {"state": row.state.value, "stage": row.stage.value, "claimed_by": row.claimed_by,
              "claimed_until": row.claimed_until, "assigned_to": row.assigned_to, "priority": row.priority}
    after = {**before, "state": ReviewState.claimed.value, "claimed_by": analyst, "claimed_until": until}
    details: dict[str, Any] = {"lease_seconds": int(lease.total_seconds())}
    if row.state == ReviewState.claimed:
        details["expired_lease_of"] = row.claimed_by
    item = session.get(ReviewItem, row.id, populate_existing=True)
    # last: the audit append locks the chain's head until commit
    audit.append(session, analyst, "claim", "review_item", row.id, before=before, after=after, **details)
    return item


_ITEM_BY_ID = select(ReviewItem).where(ReviewItem.id == bindparam("item_id"))
_ITEM_BY_ID_LOCKED = _ITEM_BY_ID.with_for_update()


def _locked(session: Session, item_id: int) -> ReviewItem:
    pg = _write_lock(session)
    item = session.scalar(_ITEM_BY_ID_LOCKED if pg else _ITEM_BY_ID, {"item_id": item_id})
    if item is None:
        raise QueueError(f"review item {item_id} does not exist")
    return item


def claim(session: Session, item_id: int, analyst: str, *, lease: timedelta = DEFAULT_LEASE) -> ReviewItem:
    """Claim one particular item (the web UI's "review this one")."""
    analyst = _check_analyst(analyst)
    item = _locked(session, item_id)
    now = _now()
    if item.state == ReviewState.decided:
        raise QueueError(f"review item {item_id} is already decided")
    if item.state == ReviewState.claimed and item.claimed_until is not None and item.claimed_until >= now:
        who = "you" if item.claimed_by == analyst else item.claimed_by
        raise QueueError(f"review item {item_id} is held by {who} until {item.claimed_until:%Y-%m-%d %H:%M} UTC")
    if item.assigned_to is not None and item.assigned_to != analyst:
        raise QueueError(f"review item {item_id} is assigned to {item.assigned_to}")
    if item.first_reviewer == analyst:
        raise QueueError(f"review item {item_id} awaits a second review by another analyst than you")
    _take(session, item, analyst, lease, now)
    session.flush()
    return item


def _held(session: Session, item_id: int, analyst: str) -> ReviewItem:
    """The item, locked, if ``analyst`` holds an unexpired lease on it; else a clear QueueError."""
    analyst = _check_analyst(analyst)
    item = _locked(session, item_id)
    if item.state == ReviewState.decided:
        final = _final(item)
        by = f" ({final.label.value} by {final.reviewer})" if final else ""
        raise QueueError(f"review item {item_id} is already decided{by}; "
                         "to change a decision use: wildwatch queue change")
    if item.state != ReviewState.claimed or item.claimed_by != analyst:
        if item.state == ReviewState.pending and item.stage == ReviewStage.second and item.first_reviewer == analyst:
            raise QueueError(f"review item {item_id} awaits a second review by another analyst")
        holder = f"held by {item.claimed_by}" if item.state == ReviewState.claimed else "not claimed"
        raise QueueError(f"review item {item_id} is {holder}; claim it first (queue next)")
    if item.claimed_until is not None and item.claimed_until < _now():
        raise QueueError(
            f"your lease on review item {item_id} expired at {item.claimed_until:%Y-%m-%d %H:%M:%S} UTC; "
            "claim it again"
        )
    return item


def release(session: Session, item_id: int, analyst: str) -> ReviewItem:
    """Give a held item back to the queue undecided (its stage and assignment stay)."""
    item = _held(session, item_id, analyst)
    before = _snap(item)
    item.state = ReviewState.pending
    item.claimed_by = None
    item.claimed_until = None
    audit.append(session, analyst, "release", "review_item", item.id, before=before, after=_snap(item))
    session.flush()
    return item


# --------------------------------------------------------------------------------------------
# decisions


def _validate(label: str, category: str | None, species: str | None, kind: str | None) -> tuple[Label, str | None, str | None]:
    from classifier import CATEGORIES
    from classifier.labels import NEGATIVE_KINDS, POSITIVE_KINDS
    from pipeline.review.species import canonical

    try:
        label_enum = Label(label)
    except ValueError:
        raise QueueError(f"unknown label {label!r}; use one of: {', '.join(l.value for l in Label)}") from None
    if category is not None:
        if category not in CATEGORIES:
            raise QueueError(f"unknown category {category!r}; use one of: {', '.join(CATEGORIES)}")
        if label_enum == Label.illegal and category == "none":
            raise QueueError("an illegal listing needs a wildlife category, not 'none'")
    name = None
    if species is not None and species.strip():
        name = canonical(species)
        if name is None:
            raise QueueError(f"unknown species {species!r}: give a scientific name or a common name from "
                             "the species lists (CITES, China 2021, Vietnam decrees)")
    if kind is not None:
        allowed = {Label.illegal: POSITIVE_KINDS, Label.legal: NEGATIVE_KINDS,
                   Label.not_wildlife: NEGATIVE_KINDS}.get(label_enum, ())
        if kind not in allowed:
            raise QueueError(f"kind {kind!r} does not fit label {label_enum.value}"
                             + (f"; use one of: {', '.join(allowed)}" if allowed else ""))
    return label_enum, category, name


_POLICY_QUERY = select(ReviewPolicy.category, ReviewPolicy.two_person).where(
    or_(ReviewPolicy.category == bindparam("category"), ReviewPolicy.category == bindparam("any"))
)


def two_person_required(session: Session, category: str | None) -> bool:
    """Whether decisions in ``category`` need a second analyst (``review_policy``; ``*`` = all)."""
    rows = dict(session.connection().execute(_POLICY_QUERY, {"category": category or "none", "any": ANY_CATEGORY}).all())
    if (category or "none") in rows:
        return bool(rows[category or "none"])
    return bool(rows.get(ANY_CATEGORY, False))


def set_policy(session: Session, category: str, *, two_person: bool, actor: str) -> ReviewPolicy:
    from classifier import CATEGORIES

    actor = _check_analyst(actor)
    if category != ANY_CATEGORY and category not in CATEGORIES:
        raise QueueError(f"unknown category {category!r}; use one of: {', '.join(CATEGORIES)} or '*'")
    _write_lock(session)
    row = session.get(ReviewPolicy, category)
    before = {"two_person": row.two_person} if row else None
    if row is None:
        row = ReviewPolicy(category=category)
        session.add(row)
    row.two_person, row.updated_by = two_person, actor
    audit.append(session, actor, "policy.set", "review_policy", category, before=before,
                 after={"two_person": two_person})
    session.flush()
    return row


def policies(session: Session) -> dict[str, bool]:
    return dict(session.execute(select(ReviewPolicy.category, ReviewPolicy.two_person)).all())


def _final(item: ReviewItem) -> Decision | None:
    for d in reversed(item.decisions):
        if d.status == DecisionStatus.final:
            return d
    return None


def _latest(item: ReviewItem, status: DecisionStatus) -> Decision | None:
    for d in reversed(item.decisions):
        if d.status == status:
            return d
    return None


def _record(
    session: Session, item: ReviewItem, analyst: str, label: Label, category: str | None, species: str | None,
    kind: str | None, note: str | None, *, supersedes: Decision | None, action: str,
) -> Decision:
    """Add a first / correction / changed decision: final, or proposed when two people must agree."""
    two = label != Label.escalate and two_person_required(session, category or item.category)
    before = _snap(item)
    now = _now()
    values = {
        "review_item_id": item.id, "reviewer": analyst, "label": label, "category": category, "species": species,
        "kind": kind, "note": note, "stage": item.stage if item.stage != ReviewStage.second else ReviewStage.first,
        "status": DecisionStatus.proposed if two else DecisionStatus.final,
        "supersedes_id": supersedes.id if supersedes else None, "decided_at": now,
    }
    if session.dirty:
        session.flush()  # earlier ORM changes (a superseded / returned decision) go first
    conn = session.connection()
    decision_id = conn.execute(_DECISION_INSERT, values).scalar_one()
    if two:
        state, stage, first, holder = ReviewState.pending, ReviewStage.second, analyst, None
    else:
        state, stage, first, holder = ReviewState.decided, item.stage, None, analyst
    conn.execute(_ITEM_DECIDED, {"item_id": item.id, "state": state, "stage": stage, "first_reviewer": first,
                                    "claimed_by": holder, "updated_at": now})
    after = {**before, "state": state.value, "stage": stage.value, "claimed_by": holder, "claimed_until": None,
             "assigned_to": None}
    dsnap = {"decision": decision_id, "reviewer": analyst, "label": label.value, "category": category,
             "species": species, "kind": kind, "note": note, "stage": values["stage"].value,
             "status": values["status"].value, "supersedes": values["supersedes_id"]}
    session.expire(item)
    decision = session.get(Decision, decision_id)
    # last: the audit append locks the chain's head until commit
    audit.append(session, analyst, action, "review_item", item.id, before=before, after={**after, **dsnap})
    return decision


_DECISION_INSERT = insert(Decision.__table__).returning(Decision.__table__.c.id)
_ITEM_DECIDED = (
    update(ReviewItem.__table__).where(ReviewItem.__table__.c.id == bindparam("item_id"))
    .values(state=bindparam("state"), stage=bindparam("stage"), first_reviewer=bindparam("first_reviewer"),
            claimed_by=bindparam("claimed_by"), claimed_until=None, assigned_to=None, return_note=None,
            updated_at=bindparam("updated_at"))
)


def decide(
    session: Session,
    item_id: int,
    analyst: str,
    label: str,
    *,
    category: str | None = None,
    species: str | None = None,
    kind: str | None = None,
    note: str | None = None,
) -> Decision:
    """Record ``analyst``'s decision on an item they hold.

    First review (or a correction): the decision is final, or — when the category has the
    two-person rule and the label is not ``escalate`` — proposed, and the item waits for a second
    analyst. Second review: the second analyst confirms the proposal (same label; category and
    species default to the proposal's) or escalates; to disagree, send it back (``send_back``).
    """
    label_enum, category, species = _validate(label, category, species, kind)
    item = _held(session, item_id, analyst)
    if item.stage == ReviewStage.second:
        proposal = _latest(item, DecisionStatus.proposed)
        if proposal is None:  # pragma: no cover - stage second always has a proposal
            raise QueueError(f"review item {item_id} has no proposed decision to review")
        if label_enum not in (proposal.label, Label.escalate):
            raise QueueError(
                f"review item {item_id}: {proposal.reviewer} proposed {proposal.label.value}; a second review "
                f"confirms it ({proposal.label.value}) or escalates — to disagree, send it back with a note "
                "(wildwatch queue send-back)"
            )
        before = _snap(item)
        decision = Decision(
            review_item_id=item.id, reviewer=analyst, label=label_enum,
            category=category if category is not None else proposal.category,
            species=species if species is not None else proposal.species,
            kind=kind if kind is not None else proposal.kind, note=note, stage=ReviewStage.second,
            status=DecisionStatus.final, supersedes_id=proposal.id,
        )
        session.add(decision)
        proposal.status = DecisionStatus.confirmed
        item.state, item.claimed_until, item.first_reviewer = ReviewState.decided, None, None
        session.flush()
        audit.append(session, analyst, "decide.second", "review_item", item.id, before=before,
                     after={**_snap(item), **_dsnap(decision)})
        return decision
    supersedes = _latest(item, DecisionStatus.returned) if item.stage == ReviewStage.correction else None
    return _record(session, item, analyst, label_enum, category, species, kind, note,
                   supersedes=supersedes, action="decide" if supersedes is None else "decide.correction")


def send_back(session: Session, item_id: int, analyst: str, note: str) -> ReviewItem:
    """Send a decision back to its author for correction, with a note saying why.

    Works on an item in second review that ``analyst`` holds (the proposal goes back), and on a
    decided item (its final decision goes back; not by its own author, who can ``change`` it)."""
    analyst = _check_analyst(analyst)
    if not note or not note.strip():
        raise QueueError("say why it goes back: a note is required")
    item = _locked(session, item_id)
    if item.state == ReviewState.decided:
        target = _final(item)
        if target is None:  # pragma: no cover
            raise QueueError(f"review item {item_id} has no final decision")
        if target.reviewer == analyst:
            raise QueueError(f"review item {item_id}: this is your own decision; change it with: wildwatch queue change")
    else:
        item = _held(session, item_id, analyst)
        if item.stage != ReviewStage.second:
            raise QueueError(f"review item {item_id} is not awaiting a second review; nothing to send back")
        target = _latest(item, DecisionStatus.proposed)
    before = {**_snap(item), **_dsnap(target)}
    target.status = DecisionStatus.returned
    item.state, item.stage = ReviewState.pending, ReviewStage.correction
    item.assigned_to, item.return_note = target.reviewer, note
    item.claimed_by = item.claimed_until = item.first_reviewer = None
    session.flush()
    audit.append(session, analyst, "send_back", "review_item", item.id, before=before,
                 after={**_snap(item), "decision": target.id, "status": target.status.value}, note=note)
    return item


def change_decision(
    session: Session,
    item_id: int,
    analyst: str,
    label: str,
    *,
    category: str | None = None,
    species: str | None = None,
    kind: str | None = None,
    note: str | None = None,
) -> Decision:
    """Change a decided item's decision. Only the analyst who made it (or whose proposal it
    confirmed) may; the old decision stays, marked ``superseded``. Under the two-person rule the
    change is a new proposal that a second analyst must confirm."""
    analyst = _check_analyst(analyst)
    label_enum, category, species = _validate(label, category, species, kind)
    item = _locked(session, item_id)
    if item.state != ReviewState.decided:
        raise QueueError(f"review item {item_id} is not decided yet; decide it with: wildwatch queue decide")
    current = _final(item)
    if current is None:  # pragma: no cover
        raise QueueError(f"review item {item_id} has no final decision")
    authors = {current.reviewer}
    if current.supersedes_id is not None:
        confirmed = session.get(Decision, current.supersedes_id)
        if confirmed is not None and confirmed.status == DecisionStatus.confirmed:
            authors.add(confirmed.reviewer)
    if analyst not in authors:
        raise QueueError(f"review item {item_id} was decided by {' and '.join(sorted(authors))}; only they can "
                         "change it (others: wildwatch queue send-back)")
    current.status = DecisionStatus.superseded
    item.stage = ReviewStage.first
    return _record(session, item, analyst, label_enum, category, species, kind, note,
                   supersedes=current, action="change")


def assign(session: Session, item_id: int, actor: str, to: str | None) -> ReviewItem:
    """Assign an undecided, unclaimed item to an analyst (``to=None`` unassigns)."""
    actor = _check_analyst(actor)
    item = _locked(session, item_id)
    if item.state == ReviewState.decided:
        raise QueueError(f"review item {item_id} is already decided")
    if item.state == ReviewState.claimed and item.claimed_until and item.claimed_until >= _now():
        raise QueueError(f"review item {item_id} is held by {item.claimed_by}; assign it after they release it")
    if to is not None and item.first_reviewer == to:
        raise QueueError(f"review item {item_id} needs a second reviewer other than {to}")
    before = _snap(item)
    item.assigned_to = to.strip() if to else None
    audit.append(session, actor, "assign", "review_item", item.id, before=before, after=_snap(item))
    session.flush()
    return item


# --------------------------------------------------------------------------------------------
# reading


def list_items(
    session: Session,
    *,
    state: str | None = None,
    stage: str | None = None,
    filters: ClaimFilter | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ReviewItem]:
    query = select(ReviewItem).order_by(ReviewItem.priority.desc(), ReviewItem.id.desc()).limit(limit).offset(offset)
    if state:
        try:
            query = query.where(ReviewItem.state == ReviewState(state))
        except ValueError:
            raise QueueError(f"unknown state {state!r}; use pending, claimed or decided") from None
    if stage:
        try:
            query = query.where(ReviewItem.stage == ReviewStage(stage))
        except ValueError:
            raise QueueError(f"unknown stage {stage!r}; use first, second or correction") from None
    if filters is not None:
        conds = filters.conditions(session)
        if filters.assigned_only:
            raise QueueError("list shows every analyst's items; filter by assignment with --assigned-to")
        query = query.where(*conds)
    return list(session.scalars(query))


def history(session: Session, item_id: int) -> list[dict[str, Any]]:
    """Every decision on the item, oldest first, with its status."""
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise QueueError(f"review item {item_id} does not exist")
    return [{**_dsnap(d), "decided_at": d.decided_at.isoformat()} for d in item.decisions]


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


def stats(session: Session) -> dict[str, Any]:
    """Queue state for ``wildwatch queue stats``: by state / stage / category, leases, decisions."""
    now = _now()
    by_stage = {f"{st.value}/{sg.value}": n for st, sg, n in session.execute(
        select(ReviewItem.state, ReviewItem.stage, func.count()).group_by(ReviewItem.state, ReviewItem.stage)
    ).all()}
    pending_by_category = dict(session.execute(
        select(ReviewItem.category, func.count()).where(ReviewItem.state == ReviewState.pending)
        .group_by(ReviewItem.category)
    ).all())
    expired = session.scalar(select(func.count()).select_from(ReviewItem).where(
        ReviewItem.state == ReviewState.claimed, ReviewItem.claimed_until < now))
    labels = {l.value: n for l, n in session.execute(
        select(Decision.label, func.count()).where(Decision.status == DecisionStatus.final).group_by(Decision.label)
    ).all()}
    by_reviewer = dict(session.execute(
        select(Decision.reviewer, func.count()).where(Decision.status == DecisionStatus.final)
        .group_by(Decision.reviewer)
    ).all())
    oldest = session.scalar(select(func.min(ReviewItem.created_at)).where(ReviewItem.state == ReviewState.pending))
    clusters = session.scalar(select(func.count()).select_from(Cluster).where(Cluster.size > 1))
    return {
        "items": counts(session).as_dict(),
        "by_state_stage": by_stage,
        "pending_by_category": {k or "?": v for k, v in pending_by_category.items()},
        "expired_leases": expired,
        "final_decisions_by_label": labels,
        "final_decisions_by_reviewer": by_reviewer,
        "oldest_pending": oldest.isoformat() if oldest else None,
        "clusters_with_reposts": clusters,
        "two_person_rule": policies(session),
    }
