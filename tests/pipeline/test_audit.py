"""The audit log: every action recorded with before/after, the chain verifies, tampering is found."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pipeline import audit, queue
from pipeline.db import Database
from pipeline.models import AuditEntry
from tests.pipeline.factories import queue_items


def _work(db: Database) -> int:
    queue_items(db, 3)
    with db.session() as session:
        item_id = queue.claim_next(session, "lan").id
    with db.session() as session:
        queue.decide(session, item_id, "lan", "illegal", category="ivory", note="tusk")
    with db.session() as session:
        queue.change_decision(session, item_id, "lan", "legal", note="resin after all")
    with db.session() as session:
        other = queue.claim_next(session, "minh").id
    with db.session() as session:
        queue.release(session, other, "minh")
    return item_id


def test_every_action_is_recorded_with_who_what_before_after_and_the_chain_verifies(db: Database) -> None:
    item_id = _work(db)
    with db.session() as session:
        rows = audit.entries(session, limit=100)
        assert [e.action for e in reversed(rows)] == ["claim", "decide", "change", "claim", "release"]
        change = json.loads(rows[2].payload)
        assert change["actor"] == "lan" and change["entity_id"] == str(item_id)
        assert change["before"]["state"] == "decided"
        assert change["after"]["label"] == "legal" and change["after"]["status"] == "final"
        result = audit.verify(session)
    assert result.ok and result.entries == 5 and result.problems == []


def test_the_database_refuses_to_edit_or_delete_audit_entries(db: Database) -> None:
    _work(db)
    for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log WHERE seq = 2"):
        with pytest.raises(DBAPIError, match="append-only"), db.session() as session:
            session.execute(text(sql))


def _drop_guard(db: Database) -> None:
    """What someone with full database rights could do first."""
    with db.session() as session:
        if db.engine.dialect.name == "postgresql":
            session.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        else:
            session.execute(text("DROP TRIGGER audit_log_no_update"))
            session.execute(text("DROP TRIGGER audit_log_no_delete"))


@pytest.mark.parametrize(
    ("tamper", "finding"),
    [
        # rewrite what a decision said, keep the stored hash
        ("UPDATE audit_log SET payload = replace(payload, '\"label\":\"illegal\"', '\"label\":\"legal\"') WHERE seq = 2",
         "entry 2: hash does not match its content"),
        # change a column shown to users, leave the payload
        ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", "entry 3: column actor differs"),
        # remove an entry from the middle
        ("DELETE FROM audit_log WHERE seq = 3", "entry 3 is missing"),
        # remove the newest entry (the head still remembers it)
        ("DELETE FROM audit_log WHERE seq = 5", "chain head says entry 5"),
    ],
)
def test_tampering_is_detected(db: Database, tamper: str, finding: str) -> None:
    _work(db)
    _drop_guard(db)
    with db.session() as session:
        session.execute(text(tamper))
    with db.session() as session:
        result = audit.verify(session)
    assert not result.ok
    assert any(finding in p for p in result.problems), result.problems


def test_recomputing_the_hash_of_an_edited_entry_breaks_the_next_link(db: Database) -> None:
    _work(db)
    _drop_guard(db)
    with db.session() as session:
        entry = session.get(AuditEntry, 2)
        forged = entry.payload.replace('"note":"tusk"', '"note":"nothing"')
        session.execute(text("UPDATE audit_log SET payload = :p, hash = :h WHERE seq = 2"),
                        {"p": forged, "h": audit.chain_hash(entry.prev_hash, forged)})
    with db.session() as session:
        result = audit.verify(session)
    assert any("entry 3: prev_hash does not match" in p for p in result.problems)
