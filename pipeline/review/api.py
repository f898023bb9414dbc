"""The Python API the web UI (and the CLI) call. Plain functions over a ``session`` whose
transaction the caller owns (``with db.session() as session:``); results are ``ReviewItem`` /
``Decision`` rows or plain dicts ready for a template or JSON.

    from pipeline.review import api
    with db.session() as s:
        item = api.claim_next(s, "lan", filters=api.ClaimFilter(lang="vi", category="pangolin"))
        view = api.item_view(s, item.id)          # everything the review page shows
    with db.session() as s:
        api.decide(s, item.id, "lan", "illegal", category="pangolin", species="Manis javanica", note="…")

Errors a user can cause are ``QueueError`` (queue) or ``ExportError`` (exports): show the message.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.audit import Verification
from pipeline.audit import entries as audit_entries
from pipeline.audit import verify as verify_audit
from pipeline.exports import ExportError, export_cases, export_labels, label_records
from pipeline.models import Cluster, ClusterMember, Listing, ReviewItem
from pipeline.queue import (
    DEFAULT_LEASE,
    ClaimFilter,
    QueueError,
    assign,
    change_decision,
    claim,
    claim_next,
    counts,
    decide,
    history,
    list_items,
    policies,
    release,
    reprioritise,
    send_back,
    set_policy,
    stats,
)
from pipeline.review.priority import explain, severity

__all__ = [
    "DEFAULT_LEASE", "ClaimFilter", "ExportError", "QueueError", "Verification", "assign", "audit_entries",
    "change_decision", "claim", "claim_next", "counts", "decide", "export_cases", "export_labels", "history",
    "item_row", "item_view", "label_records", "list_items", "policies", "release", "reprioritise", "send_back",
    "set_policy", "severity", "stats", "verify_audit",
]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def item_row(item: ReviewItem) -> dict[str, Any]:
    """One line of a queue listing."""
    listing = item.listing
    return {
        "id": item.id,
        "state": item.state.value,
        "stage": item.stage.value if item.stage else "first",
        "priority": item.priority,
        "score": round(item.score, 4) if item.score is not None else None,
        "category": item.category,
        "lang": item.lang,
        "site": listing.site.name,
        "title": listing.title,
        "url": listing.url,
        "cluster": item.cluster_id,
        "cluster_size": item.cluster.size if item.cluster is not None else 1,
        "claimed_by": item.claimed_by,
        "claimed_until": _iso(item.claimed_until),
        "assigned_to": item.assigned_to,
    }


def item_view(session: Session, item_id: int) -> dict[str, Any]:
    """Everything the review page shows: the item, why it ranks where it does, every listing of its
    cluster (each its own evidence, with snapshots), the prediction and the decision history."""
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise QueueError(f"review item {item_id} does not exist")
    view = item_row(item)
    pred = item.prediction
    rep = item.listing
    size = session.scalar(select(Cluster.size).where(Cluster.id == item.cluster_id)) if item.cluster_id else 1
    view["why"] = explain(
        pred.score if pred else 0.0, category=pred.category if pred else None,
        evidence=pred.evidence if pred else None, seen=rep.posted_at or rep.first_seen, cluster_size=size or 1,
    )
    view["prediction"] = ({"model_version": pred.model_version, "score": pred.score, "category": pred.category,
                           "lang": pred.lang, "evidence": pred.evidence} if pred else None)
    view["return_note"] = item.return_note
    view["first_reviewer"] = item.first_reviewer
    member_ids: list[int] = [item.listing_id]
    similarity: dict[int, float] = {item.listing_id: 1.0}
    if item.cluster_id is not None:
        for m in session.scalars(select(ClusterMember).where(ClusterMember.cluster_id == item.cluster_id)):
            similarity[m.listing_id] = m.similarity
            if m.listing_id not in member_ids:
                member_ids.append(m.listing_id)
    view["listings"] = []
    for listing in session.scalars(select(Listing).where(Listing.id.in_(member_ids)).order_by(Listing.id)):
        view["listings"].append({
            "id": listing.id, "site": listing.site.name, "url": listing.url, "title": listing.title,
            "text": listing.text, "price": listing.price_raw, "seller": listing.seller, "location": listing.location,
            "posted_at": _iso(listing.posted_at), "first_seen": _iso(listing.first_seen),
            "last_seen": _iso(listing.last_seen), "lang": listing.lang, "similarity": similarity.get(listing.id),
            "snapshots": [{"id": s.id, "sha256": s.sha256, "fetched_at": _iso(s.fetched_at), "status": s.status,
                           "size": s.size} for s in listing.snapshots],
        })
    view["decisions"] = history(session, item.id)
    return view
