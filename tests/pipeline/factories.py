"""Small builders for pipeline tests."""

from __future__ import annotations

from datetime import datetime, timezone

from crawlers.items import ListingItem
from pipeline.db import Database
from pipeline.ingest import get_or_create_site, store_item
from pipeline.models import Prediction
from pipeline.queue import enqueue


def item(external_id: str = "1", title: str = "老象牙手镯", text: str = "懂的来", **kw) -> ListingItem:
    body = kw.pop("body", f"<html><h1>{title}</h1><p>{text}</p></html>".encode())
    return ListingItem(
        site=kw.pop("site", "s1"), url=kw.pop("url", f"http://127.0.0.1/item/{external_id}"),
        external_id=external_id, title=title, text=text, body=body,
        headers={"Content-Type": "text/html; charset=utf-8"}, fetched_at=datetime.now(timezone.utc), **kw,
    )


def store(db: Database, *items: ListingItem) -> list[int]:
    ids = []
    with db.session() as session:
        for it in items:
            site = get_or_create_site(session, it.site)
            ids.append(store_item(session, site, it).listing_id)
    return ids


def queue_items(db: Database, n: int, *, site: str = "s1") -> list[int]:
    """Store ``n`` listings, each with a flagged prediction, and queue them; return review item ids."""
    ids = store(db, *(item(str(i), title=f"listing {i}", site=site) for i in range(n)))
    review_ids = []
    with db.session() as session:
        for i, listing_id in enumerate(ids):
            pred = Prediction(listing_id=listing_id, model_version="t", score=0.5 + (i % 50) / 100,
                              flag=True, category="ivory", evidence=[])
            session.add(pred)
            session.flush()
            review_ids.append(enqueue(session, pred))
        session.flush()
        return [r.id for r in review_ids]
