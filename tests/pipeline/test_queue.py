import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from pipeline import queue
from pipeline.db import Database
from pipeline.models import Decision, ReviewItem, ReviewState
from tests.pipeline.factories import queue_items


def test_next_claims_the_highest_priority_item_with_a_lease(db: Database) -> None:
    queue_items(db, 5)
    with db.session() as session:
        item = queue.claim_next(session, "lan")
        top = session.scalar(select(func.max(ReviewItem.priority)))
        assert item.priority == top
        assert item.state is ReviewState.claimed and item.claimed_by == "lan"
        assert item.claimed_until > datetime.now(timezone.utc) + timedelta(minutes=29)


def test_decide_records_the_decision_and_closes_the_item(db: Database) -> None:
    queue_items(db, 2)
    with db.session() as session:
        item_id = queue.claim_next(session, "lan").id
    with db.session() as session:
        queue.decide(session, item_id, "lan", "illegal", category="ivory", note="tusk carving")
    with db.session() as session:
        item = session.get(ReviewItem, item_id)
        assert item.state is ReviewState.decided
        assert [(d.reviewer, d.label.value, d.category) for d in item.decisions] == [("lan", "illegal", "ivory")]


@pytest.mark.parametrize(
    ("who", "label", "message"),
    [("minh", "illegal", "held by lan"), ("lan", "definitely_bad", "unknown label")],
)
def test_bad_decisions_get_clear_errors_and_change_nothing(db: Database, who: str, label: str, message: str) -> None:
    queue_items(db, 1)
    with db.session() as session:
        item_id = queue.claim_next(session, "lan").id
    with pytest.raises(queue.QueueError, match=message), db.session() as session:
        queue.decide(session, item_id, who, label)
    with db.session() as session:
        assert session.get(ReviewItem, item_id).state is ReviewState.claimed
        assert session.scalar(select(func.count()).select_from(Decision)) == 0


def test_second_decide_and_unknown_category_are_refused(db: Database) -> None:
    queue_items(db, 1)
    with db.session() as session:
        item_id = queue.claim_next(session, "lan").id
    with pytest.raises(queue.QueueError, match="unknown category"), db.session() as session:
        queue.decide(session, item_id, "lan", "illegal", category="unicorn")
    with db.session() as session:
        queue.decide(session, item_id, "lan", "legal")
    with pytest.raises(queue.QueueError, match="already decided"), db.session() as session:
        queue.decide(session, item_id, "lan", "illegal")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Decision)) == 1


def test_an_expired_lease_returns_the_item_and_its_holder_can_no_longer_decide(db: Database) -> None:
    queue_items(db, 1)
    with db.session() as session:
        item_id = queue.claim_next(session, "lan").id
        session.execute(
            update(ReviewItem).values(claimed_until=datetime.now(timezone.utc) - timedelta(seconds=1))
        )
    with pytest.raises(queue.QueueError, match="expired"), db.session() as session:
        queue.decide(session, item_id, "lan", "illegal")
    with db.session() as session:
        again = queue.claim_next(session, "minh")
        assert again.id == item_id and again.claimed_by == "minh"


def test_release_puts_the_item_back(db: Database) -> None:
    queue_items(db, 1)
    with db.session() as session:
        item_id = queue.claim_next(session, "lan").id
    with db.session() as session:
        queue.release(session, item_id, "lan")
    with db.session() as session:
        assert queue.claim_next(session, "minh").id == item_id


def test_concurrent_analysts_never_get_the_same_item(db: Database, db_url: str) -> None:
    n_items, n_workers = 60, 4 if db_url.startswith("sqlite") else 8
    queue_items(db, n_items)
    decided: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def analyst(name: str) -> None:
        try:
            while True:
                with db.session() as session:
                    item = queue.claim_next(session, name)
                    if item is None:
                        return
                    item_id = item.id
                with db.session() as session:
                    queue.decide(session, item_id, name, "legal")
                with lock:
                    decided.append(item_id)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=analyst, args=(f"a{i}",)) for i in range(n_workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(decided) == sorted(set(decided)) and len(decided) == n_items
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Decision)) == n_items
