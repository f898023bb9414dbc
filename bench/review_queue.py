"""Review-queue latency at scale: claim-next and decide vs. a bare SELECT … LIMIT 1, same run.

    python bench/review_queue.py [--listings 1000000] [--pending 100000] [--decided 50000] [--n 500]
                          [--backends sqlite,postgresql] [--pg-url postgresql://postgres@127.0.0.1:5432/test]

For each backend: a fresh database (a temporary SQLite file; a new PostgreSQL database, dropped
afterwards) is migrated, filled with ``--listings`` listings (bulk insert; COPY on PostgreSQL),
``--pending`` pending review items and ``--decided`` decided ones, and analysed. Then one analyst
claims and decides ``--n`` items, each operation its own transaction through the same code the CLI
uses (``pipeline.queue.claim_next`` / ``decide``, audit entries included), timed with commit. The
baselines run through the same session machinery (``db.session()``, one transaction each):

* ``bare``:  ``SELECT id FROM review_item LIMIT 1``
* ``top``:   ``SELECT id FROM review_item WHERE state = 'pending' ORDER BY priority DESC, id DESC LIMIT 1``

It prints median and p95 (ms) and the ratios claim / bare, decide / bare, claim / top: what the
queue logic (locking, lease, audit chain, ORM object) costs over reading one row.
Not part of the test suite.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse
import hashlib
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy import create_engine, insert, text

from pipeline import queue
from pipeline.db import Database
from pipeline.models import Listing, ReviewItem, Site

CHUNK = 20_000


def _listing_rows(site_id: int, start: int, stop: int, now: datetime) -> list[dict]:
    return [{"site_id": site_id, "external_id": str(i), "url": f"http://127.0.0.1/b/{i}", "title": f"listing {i}",
             "text": "bench text", "first_seen": now, "last_seen": now,
             "content_hash": hashlib.sha1(str(i).encode()).hexdigest(), "extras": {}} for i in range(start, stop)]


def fill(db: Database, n_listings: int, n_pending: int, n_decided: int) -> float:
    started = time.perf_counter()
    now = datetime.now(timezone.utc)
    pg = db.engine.dialect.name == "postgresql"
    with db.session() as session:
        site_id = session.scalar(insert(Site).values(name="bench", created_at=now).returning(Site.id))
    if pg:
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy("COPY listing (site_id, external_id, url, title, text, first_seen, last_seen, "
                          "content_hash, extras) FROM STDIN") as copy:
                for i in range(n_listings):
                    copy.write_row((site_id, str(i), f"http://127.0.0.1/b/{i}", f"listing {i}", "bench text", now, now,
                                    hashlib.sha1(str(i).encode()).hexdigest(), "{}"))
            first_id = cur.execute("SELECT min(id) FROM listing").fetchone()[0]
            n_items = n_pending + n_decided
            with cur.copy("COPY review_item (listing_id, priority, state, stage, score, category, lang, site_id, "
                          "created_at, updated_at) FROM STDIN") as copy:
                for k in range(n_items):
                    state = "pending" if k < n_pending else "decided"
                    copy.write_row((first_id + k * (n_listings // n_items), float((k * 7919) % 100_000) / 1000,
                                    state, "first", 0.5 + (k % 50) / 100, "ivory", "zh", site_id, now, now))
            raw.commit()
        finally:
            raw.close()
    else:
        with db.session() as session:
            for start in range(0, n_listings, CHUNK):
                session.execute(insert(Listing), _listing_rows(site_id, start, min(start + CHUNK, n_listings), now))
            first_id = session.scalar(text("SELECT min(id) FROM listing"))
            n_items = n_pending + n_decided
            rows = []
            for k in range(n_items):
                rows.append({"listing_id": first_id + k * (n_listings // n_items),
                             "priority": float((k * 7919) % 100_000) / 1000,
                             "state": "pending" if k < n_pending else "decided", "stage": "first",
                             "score": 0.5 + (k % 50) / 100, "category": "ivory", "lang": "zh", "site_id": site_id,
                             "created_at": now, "updated_at": now})
                if len(rows) == CHUNK:
                    session.execute(insert(ReviewItem), rows)
                    rows = []
            if rows:
                session.execute(insert(ReviewItem), rows)
    with db.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return time.perf_counter() - started


def timed(n: int, fn: Callable[[int], None]) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
    return out


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(round(0.95 * len(xs))) - 1)]


def run(db: Database, n: int) -> dict[str, list[float]]:
    bare_sql = text("SELECT id FROM review_item LIMIT 1")
    top_sql = text("SELECT id FROM review_item WHERE state = 'pending' ORDER BY priority DESC, id DESC LIMIT 1")

    def bare(_: int) -> None:
        with db.session() as s:
            s.execute(bare_sql).first()

    def top(_: int) -> None:
        with db.session() as s:
            s.execute(top_sql).first()

    claimed: list[int] = []

    def claim(_: int) -> None:
        with db.session() as s:
            claimed.append(queue.claim_next(s, "bench").id)

    def decide(i: int) -> None:
        with db.session() as s:
            queue.decide(s, claimed[i], "bench", "legal")

    for f in (bare, top):  # warm up caches and the connection pool
        timed(20, f)
    # interleave so that machine load affects every series alike
    results: dict[str, list[float]] = {"bare": [], "top": [], "claim": [], "decide": []}
    for i in range(n):
        results["bare"] += timed(1, bare)
        results["top"] += timed(1, top)
        results["claim"] += timed(1, claim)
        results["decide"] += timed(1, lambda _, i=i: decide(i))
    return results


def report(name: str, results: dict[str, list[float]]) -> None:
    med = {k: statistics.median(v) for k, v in results.items()}
    q95 = {k: p95(v) for k, v in results.items()}
    print(f"\n{name}")
    print(f"  {'operation':<40} {'median ms':>10} {'p95 ms':>9} {'median / bare':>14}")
    labels = {"bare": "bare SELECT id … LIMIT 1", "top": "indexed top pending (SELECT … LIMIT 1)",
              "claim": "claim-next (queue.claim_next)", "decide": "decide (queue.decide)"}
    for k in ("bare", "top", "claim", "decide"):
        print(f"  {labels[k]:<40} {med[k]:>10.3f} {q95[k]:>9.3f} {med[k] / med['bare']:>13.1f}x")
    print(f"  ratios: claim/bare {med['claim'] / med['bare']:.1f}x (p95 {q95['claim'] / q95['bare']:.1f}x), "
          f"decide/bare {med['decide'] / med['bare']:.1f}x (p95 {q95['decide'] / q95['bare']:.1f}x), "
          f"claim/top {med['claim'] / med['top']:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--decided", type=int, default=50_000)
    parser.add_argument("--n", type=int, default=500, help="claims + decisions timed (and baseline queries)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print(f"bench/review_queue.py: {args.listings:,} listings, {args.pending:,} pending + {args.decided:,} decided review "
          f"items, {args.n} timed operations of each kind")
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                db = Database(f"sqlite:///{tmp}/bench.db")
                secs = fill(db, args.listings, args.pending, args.decided)
                print(f"\nsqlite: filled in {secs:.0f}s")
                report("SQLite (WAL, file in a temporary folder)", run(db, args.n))
                db.dispose()
        elif backend == "postgresql":
            name = f"ww_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                db = Database(args.pg_url.rsplit("/", 1)[0] + f"/{name}")
                secs = fill(db, args.listings, args.pending, args.decided)
                print(f"\npostgresql: filled in {secs:.0f}s")
                report("PostgreSQL (local server, FOR UPDATE SKIP LOCKED)", run(db, args.n))
                db.dispose()
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
        else:
            raise SystemExit(f"unknown backend {backend!r}")


if __name__ == "__main__":
    main()
