"""The case workflow: filters, two-person rule, send back, changing a decision, and bad input."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from pipeline import queue
from pipeline.db import Database
from pipeline.models import (
    AuditEntry,
    Decision,
    DecisionStatus,
    ReviewItem,
    ReviewStage,
    ReviewState,
)
from tests.pipeline.factories import bulk_queue, queue_items


def _claim(db: Database, analyst: str, **filters) -> ReviewItem | None:
    with db.session() as session:
        return queue.claim_next(session, analyst, filters=queue.ClaimFilter(**filters))


def _decide(db: Database, item_id: int, analyst: str, label: str, **kw) -> Decision:
    with db.session() as session:
        return queue.decide(session, item_id, analyst, label, **kw)


def _snapshot(db: Database) -> tuple:
    """Everything a refused operation must leave alone."""
    with db.session() as session:
        items = session.execute(select(ReviewItem.id, ReviewItem.state, ReviewItem.stage, ReviewItem.claimed_by,
                                       ReviewItem.claimed_until, ReviewItem.assigned_to)
                                .order_by(ReviewItem.id)).all()
        decisions = session.execute(select(Decision.id, Decision.status).order_by(Decision.id)).all()
        entries = session.scalar(select(func.count()).select_from(AuditEntry))
        return items, decisions, entries


def test_claim_filters_language_category_site_score_and_assignment(db: Database) -> None:
    bulk_queue(db, 30, site="a", categories=("ivory", "pangolin"), langs=("zh", "vi", "en"))
    bulk_queue(db, 5, site="b", categories=("bird",), langs=("en",))
    got = _claim(db, "lan", lang="vi", category="pangolin")
    assert (got.lang, got.category) == ("vi", "pangolin")
    got = _claim(db, "lan", site="b")
    assert got.category == "bird"
    got = _claim(db, "lan", min_score=0.7, max_score=0.75)
    assert 0.7 <= got.score <= 0.75
    assert _claim(db, "lan", category="rhino_horn") is None
    with db.session() as session:
        target = session.scalar(select(ReviewItem.id).where(ReviewItem.state == ReviewState.pending)
                                .order_by(ReviewItem.priority).limit(1))
        queue.assign(session, target, "lead", "minh")
    assert _claim(db, "minh", assigned_only=True).id == target  # lowest priority, but assigned to minh
    assert _claim(db, "minh", assigned_only=True) is None
    for bad, message in [({"lang": "fr"}, "unknown language"), ({"category": "unicorn"}, "unknown category"),
                         ({"site": "nowhere"}, "unknown site"), ({"min_score": 1.5}, "between 0 and 1"),
                         ({"min_score": 0.8, "max_score": 0.2}, "empty score range")]:
        with pytest.raises(queue.QueueError, match=message):
            _claim(db, "lan", **bad)


def test_an_item_assigned_to_someone_else_is_not_claimed(db: Database) -> None:
    ids = queue_items(db, 1)
    with db.session() as session:
        queue.assign(session, ids[0], "lead", "minh")
    assert _claim(db, "lan") is None
    assert _claim(db, "minh").id == ids[0]


def test_two_person_rule_needs_a_second_analyst_who_confirms(db: Database) -> None:
    ids = queue_items(db, 1)  # category ivory
    with db.session() as session:
        queue.set_policy(session, "ivory", two_person=True, actor="lead")
    item_id = _claim(db, "lan").id
    d1 = _decide(db, item_id, "lan", "illegal", category="ivory", species="Elephas maximus", note="carved tusk")
    assert d1.status is DecisionStatus.proposed
    # the first analyst cannot do the second review
    assert _claim(db, "lan") is None
    with pytest.raises(queue.QueueError, match="second review by another analyst"):
        _decide(db, item_id, "lan", "illegal")
    assert _claim(db, "minh").id == item_id
    with pytest.raises(queue.QueueError, match="send it back"):
        _decide(db, item_id, "minh", "legal")
    d2 = _decide(db, item_id, "minh", "illegal")
    assert d2.status is DecisionStatus.final and d2.species == "Elephas maximus" and d2.category == "ivory"
    with db.session() as session:
        item = session.get(ReviewItem, ids[0])
        assert item.state is ReviewState.decided
        assert [(d.reviewer, d.status.value) for d in item.decisions] == [("lan", "confirmed"), ("minh", "final")]


def test_send_back_for_correction_goes_to_the_first_analyst(db: Database) -> None:
    queue_items(db, 1)
    with db.session() as session:
        queue.set_policy(session, "*", two_person=True, actor="lead")
    item_id = _claim(db, "lan").id
    _decide(db, item_id, "lan", "legal", note="resin")
    assert _claim(db, "minh").id == item_id
    with pytest.raises(queue.QueueError, match="note is required"), db.session() as session:
        queue.send_back(session, item_id, "minh", "")
    with db.session() as session:
        queue.send_back(session, item_id, "minh", "Schreger lines visible: this is ivory")
    assert _claim(db, "minh") is None  # it is lan's now
    got = _claim(db, "lan", assigned_only=True)
    assert got.id == item_id and got.stage is ReviewStage.correction
    assert got.return_note.startswith("Schreger")
    d = _decide(db, item_id, "lan", "illegal", category="ivory")
    assert d.status is DecisionStatus.proposed and d.stage is ReviewStage.correction  # still two-person
    assert _claim(db, "minh").id == item_id
    _decide(db, item_id, "minh", "illegal")
    with db.session() as session:
        statuses = [d.status.value for d in session.get(ReviewItem, item_id).decisions]
        assert statuses == ["returned", "confirmed", "final"]


def test_changing_a_decision_keeps_the_history(db: Database) -> None:
    queue_items(db, 1)
    item_id = _claim(db, "lan").id
    _decide(db, item_id, "lan", "legal", kind="substitute")
    with pytest.raises(queue.QueueError, match="only they can change"), db.session() as session:
        queue.change_decision(session, item_id, "minh", "illegal", category="ivory")
    with db.session() as session:
        queue.change_decision(session, item_id, "lan", "illegal", category="ivory", species=None,
                              note="looked again: real ivory")
    with db.session() as session:
        hist = queue.history(session, item_id)
        assert [(h["label"], h["status"]) for h in hist] == [("legal", "superseded"), ("illegal", "final")]
        assert hist[1]["supersedes"] == hist[0]["decision"]
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == str(item_id))
                                  .order_by(AuditEntry.seq)).all()
        assert actions == ["claim", "decide", "change"]
    # someone else disagrees: they send it back to lan instead
    with db.session() as session:
        queue.send_back(session, item_id, "minh", "the photo shows resin seams")
    assert _claim(db, "lan").id == item_id


@pytest.mark.parametrize(
    ("who", "label", "kw", "message"),
    [
        ("minh", "illegal", {}, "held by lan"),
        ("lan", "definitely_bad", {}, "unknown label"),
        ("lan", "illegal", {"category": "unicorn"}, "unknown category"),
        ("lan", "illegal", {"category": "none"}, "needs a wildlife category"),
        ("lan", "illegal", {"species": "Unicornis magicus"}, "unknown species"),
        ("lan", "legal", {"kind": "slang"}, "does not fit label"),
        ("", "illegal", {}, "analyst name is required"),
    ],
)
def test_bad_decisions_get_clear_errors_and_change_nothing(db: Database, who, label, kw, message) -> None:
    queue_items(db, 1)
    item_id = _claim(db, "lan").id
    before = _snapshot(db)
    with pytest.raises(queue.QueueError, match=message):
        _decide(db, item_id, who, label, **kw)
    assert _snapshot(db) == before


def test_second_decide_expired_lease_and_unknown_item_change_nothing(db: Database) -> None:
    queue_items(db, 2)
    first = _claim(db, "lan").id
    _decide(db, first, "lan", "illegal", category="ivory", species="Elephas maximus")
    before = _snapshot(db)
    with pytest.raises(queue.QueueError, match="already decided .illegal by lan"):
        _decide(db, first, "lan", "legal")
    with pytest.raises(queue.QueueError, match="does not exist"):
        _decide(db, 999_999, "lan", "legal")
    with pytest.raises(queue.QueueError, match="not claimed"):
        _decide(db, first + 1 if first == 1 else first - 1, "lan", "legal")
    assert _snapshot(db) == before

    second = _claim(db, "lan").id
    with db.session() as session:
        session.execute(update(ReviewItem).where(ReviewItem.id == second)
                        .values(claimed_until=datetime.now(timezone.utc) - timedelta(seconds=1)))
    before = _snapshot(db)
    with pytest.raises(queue.QueueError, match="lease on review item .* expired"):
        _decide(db, second, "lan", "illegal")
    with pytest.raises(queue.QueueError, match="expired"), db.session() as session:
        queue.release(session, second, "lan")
    assert _snapshot(db) == before
    # and it is claimable again, by anyone
    again = _claim(db, "minh")
    assert again.id == second and again.claimed_by == "minh"


def test_claim_a_particular_item_and_release(db: Database) -> None:
    ids = queue_items(db, 3)
    with db.session() as session:
        got = queue.claim(session, ids[0], "lan", lease=timedelta(minutes=5))
        assert got.claimed_by == "lan"
    with pytest.raises(queue.QueueError, match="held by lan"), db.session() as session:
        queue.claim(session, ids[0], "minh")
    with db.session() as session:
        queue.release(session, ids[0], "lan")
    with db.session() as session:
        assert queue.claim(session, ids[0], "minh").claimed_by == "minh"


def test_stats_and_escalate_skips_the_two_person_rule(db: Database) -> None:
    queue_items(db, 3)
    with db.session() as session:
        queue.set_policy(session, "ivory", two_person=True, actor="lead")
    item_id = _claim(db, "lan").id
    assert _decide(db, item_id, "lan", "escalate", note="needs the lead").status is DecisionStatus.final
    with db.session() as session:
        s = queue.stats(session)
    assert s["items"] == {"pending": 2, "claimed": 0, "decided": 1}
    assert s["final_decisions_by_label"] == {"escalate": 1}
    assert s["two_person_rule"] == {"ivory": True}


def test_migration_0002_gives_existing_review_items_a_cluster_and_filters(tmp_path) -> None:
    """A database at 0001 with a queued item upgrades: one-listing cluster, lang/category/score filled."""
    from pipeline.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO site (id, name, created_at) VALUES (1, 's', '2026-01-01 00:00:00')")
        conn.exec_driver_sql(
            "INSERT INTO listing (id, site_id, external_id, url, title, first_seen, last_seen, content_hash, extras) "
            "VALUES (1, 1, 'x', 'http://127.0.0.1/x', 'old ivory', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 'h', '{}')")
        conn.exec_driver_sql(
            "INSERT INTO prediction (id, listing_id, model_version, score, flag, category, lang, evidence, created_at) "
            "VALUES (1, 1, 'm', 0.8, 1, 'ivory', 'en', '[]', '2026-01-01 00:00:00')")
        conn.exec_driver_sql(
            "INSERT INTO review_item (id, listing_id, prediction_id, priority, state, created_at, updated_at) "
            "VALUES (1, 1, 1, 0.8, 'pending', '2026-01-01 00:00:00', '2026-01-01 00:00:00')")
    engine.dispose()
    db = Database(url)
    with db.session() as session:
        got = queue.claim_next(session, "lan", filters=queue.ClaimFilter(lang="en", category="ivory", min_score=0.7))
        assert got.id == 1 and got.cluster.size == 1 and got.stage is ReviewStage.first
    with db.session() as session:
        queue.decide(session, 1, "lan", "illegal", category="ivory")
    db.dispose()


def test_item_view_and_reprioritise(db: Database) -> None:
    from pipeline.review import api

    ids = queue_items(db, 2)
    with db.session() as session:
        view = api.item_view(session, ids[0])
        assert view["why"]["severity"] == 1.0 and len(view["listings"]) == 1
        assert view["listings"][0]["snapshots"][0]["sha256"]
        session.execute(update(ReviewItem).values(priority=0.0))
    with db.session() as session:
        assert api.reprioritise(session) == 2
    with db.session() as session:
        assert session.get(ReviewItem, ids[0]).priority == api.item_view(session, ids[0])["why"]["priority"]
