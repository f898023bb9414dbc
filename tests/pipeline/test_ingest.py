import hashlib

from sqlalchemy import func, select

from pipeline.db import Database
from pipeline.ingest import Outcome, get_or_create_site, snapshot_body, store_item
from pipeline.models import Listing, Snapshot
from tests.pipeline.factories import item, store


def _count(db: Database, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_storing_the_same_listing_twice_keeps_one_listing_and_one_snapshot(db: Database) -> None:
    first, again = store(db, item("42"), item("42"))
    assert first == again
    assert _count(db, Listing) == 1
    assert _count(db, Snapshot) == 1


def test_same_external_id_on_two_sites_is_two_listings(db: Database) -> None:
    store(db, item("42", site="a"), item("42", site="b"))
    assert _count(db, Listing) == 2


def test_changed_content_keeps_history_of_snapshots(db: Database) -> None:
    store(db, item("7", text="price 100"))
    with db.session() as session:
        site = get_or_create_site(session, "s1")
        outcome = store_item(session, site, item("7", text="price 80, must go")).outcome
    assert outcome is Outcome.changed
    with db.session() as session:
        listing = session.scalar(select(Listing))
        assert listing.text == "price 80, must go"
        assert [s.content_hash != listing.content_hash for s in listing.snapshots] == [True, False]


def test_snapshot_keeps_the_raw_bytes_with_their_sha256(db: Database) -> None:
    raw = "<html><meta charset=gbk>象牙</html>".encode("gbk")
    store(db, item("9", body=raw))
    with db.session() as session:
        snap = session.scalar(select(Snapshot))
        assert snapshot_body(snap) == raw
        assert snap.sha256 == hashlib.sha256(raw).hexdigest()
        assert snap.size == len(raw)
        assert snap.headers["Content-Type"].startswith("text/html")
