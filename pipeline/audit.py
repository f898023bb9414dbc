"""The audit log: an append-only, hash-chained record of every claim, decision, change, export and
model change — who, when, what, before and after.

Each entry stores ``payload``, the canonical JSON of everything it says (seq, time, actor, action,
entity, before, after, details), ``prev_hash`` (the previous entry's hash; 64 zeros for the first)
and ``hash = sha256(prev_hash + "\\n" + payload)``. ``verify`` recomputes the chain: an edited,
deleted, inserted or reordered entry breaks it at that point. The chain's tail is kept in
``audit_head`` (one row, locked by every append, so entries form one line even with many writers);
a truncated tail shows as a head mismatch. Record the head hash that ``wildwatch audit`` prints
somewhere else (a ticket, an e-mail) to anchor it: then even someone who can rewrite the whole
table cannot rewrite history unnoticed.

The database refuses UPDATE and DELETE on ``audit_log`` (a trigger, migration 0002_review); the
chain is what catches someone who drops the trigger.

``append`` runs in the caller's transaction: the entry commits with the change it records or not
at all. Callers on SQLite must hold the write lock (``BEGIN IMMEDIATE``), as the queue does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from pipeline.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return str(value)


def chain_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


def append(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: object = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    **details: Any,
) -> dict[str, Any]:
    """Add one entry at the end of the chain (in the caller's transaction).

    Core statements, not the ORM unit of work: this runs in every claim and decision. Bumping the
    head's ``seq`` first takes its row lock (PostgreSQL) and returns the previous hash."""
    conn = session.connection()
    row = conn.execute(_BUMP).first()
    if row is None:  # a database migrated without the seed row
        conn.execute(insert(AuditHead.__table__).values(id=1, seq=1, hash=GENESIS))
        seq, prev = 1, GENESIS
    else:
        seq, prev = row
    at = datetime.now(timezone.utc)
    eid = None if entity_id is None else str(entity_id)
    payload = _canonical({
        "seq": seq, "at": at, "actor": actor, "action": action, "entity": entity, "entity_id": eid,
        "before": before, "after": after, "details": details or None,
    })
    digest = chain_hash(prev, payload)
    values = {"seq": seq, "at": at, "actor": actor, "action": action, "entity": entity, "entity_id": eid,
              "payload": payload, "prev_hash": prev, "hash": digest}
    conn.execute(_INSERT, values)
    conn.execute(_SET_HASH, {"new_hash": digest})
    return values


_HEAD = AuditHead.__table__
# bumping seq takes the head's row lock (PostgreSQL) and returns the previous entry's hash
_BUMP = update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + 1).returning(_HEAD.c.seq, _HEAD.c.hash)
_INSERT = insert(AuditEntry.__table__)
_SET_HASH = update(_HEAD).where(_HEAD.c.id == 1).values(hash=bindparam("new_hash"))


@dataclass
class Verification:
    ok: bool
    entries: int
    head_hash: str
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "head_hash": self.head_hash, "problems": self.problems}


MAX_PROBLEMS = 50


def verify(session: Session, *, batch: int = 5000) -> Verification:
    """Recompute the chain from the first entry; report every break (up to ``MAX_PROBLEMS``)."""
    problems: list[str] = []
    prev, expected_seq, count = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = list(session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last_seq).order_by(AuditEntry.seq).limit(batch)
        ))
        if not rows:
            break
        for e in rows:
            count += 1
            if e.seq != expected_seq:
                problems.append(f"entry {expected_seq} is missing (next is {e.seq})")
            if e.prev_hash != prev:
                problems.append(f"entry {e.seq}: prev_hash does not match entry {e.seq - 1}'s hash")
            if chain_hash(e.prev_hash, e.payload) != e.hash:
                problems.append(f"entry {e.seq}: hash does not match its content (edited)")
            try:
                data = json.loads(e.payload)
            except ValueError:
                problems.append(f"entry {e.seq}: payload is not JSON")
                data = {}
            at = e.at.astimezone(timezone.utc).isoformat() if e.at else None
            shown = {"seq": e.seq, "at": at, "actor": e.actor, "action": e.action, "entity": e.entity,
                     "entity_id": e.entity_id}
            for key, value in shown.items():
                if data.get(key) != value:
                    problems.append(f"entry {e.seq}: column {key} differs from the hashed payload (edited)")
            prev, expected_seq, last_seq = e.hash, e.seq + 1, e.seq
            if len(problems) >= MAX_PROBLEMS:
                break
        session.expunge_all()
        if len(problems) >= MAX_PROBLEMS:
            break
    head = session.get(AuditHead, 1)
    if head is not None and len(problems) < MAX_PROBLEMS and (head.seq != last_seq or head.hash != prev):
        problems.append(
            f"chain head says entry {head.seq} ({head.hash[:12]}…) but the log ends at entry {last_seq} "
            f"({prev[:12]}…): entries were removed or added outside the log"
        )
    return Verification(ok=not problems, entries=count, head_hash=prev, problems=problems)


def entries(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    entity: str | None = None,
    entity_id: object = None,
    limit: int = 50,
) -> list[AuditEntry]:
    """The newest entries first, filtered."""
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action.like(f"{action}%"))
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == str(entity_id))
    return list(session.scalars(query))


def iter_payloads(session: Session) -> Iterator[dict[str, Any]]:
    for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        yield json.loads(e.payload)
