"""Small builders for pipeline tests."""

from __future__ import annotations

from datetime import datetime, timezone

from crawlers.items import ListingItem
from pipeline.db import Database
from pipeline.ingest import get_or_create_site, store_item
from pipeline.models import Prediction
from pipeline.queue import enqueue
from sqlalchemy import select


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


_WORDS = ("tusk bangle carving scale horn bone skin claw tooth bile paw shell casque feather cub "
          "parrot loris gecko coral timber resin powder cup bead comb pendant figure box wine cake").split()


def distinct_text(i: int) -> str:
    """Text that no other ``i`` comes near (so test listings are not near-duplicates)."""
    import random

    rng = random.Random(i)
    return " ".join(rng.choice(_WORDS) + str(rng.randrange(1000)) for _ in range(12))


def queue_items(db: Database, n: int, *, site: str = "s1") -> list[int]:
    """Store ``n`` listings, each with a flagged prediction, and queue them; return review item ids."""
    ids = store(db, *(item(str(i), title=f"listing {i}", text=distinct_text(i), site=site) for i in range(n)))
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


def bulk_queue(db: Database, n: int, *, site: str = "bulk", categories: tuple[str, ...] = ("ivory", "pangolin"),
               langs: tuple[str, ...] = ("zh", "vi", "en")) -> None:
    """``n`` pending review items fast (Core bulk inserts; no clustering): for queue load tests."""
    import hashlib

    from sqlalchemy import insert

    from pipeline.models import Listing, ReviewItem, ReviewState, Site

    now = datetime.now(timezone.utc)
    with db.session() as session:
        site_id = session.scalar(insert(Site).values(name=site, created_at=now).returning(Site.id))
        chunk = 2000
        for start in range(0, n, chunk):
            rows = [{"site_id": site_id, "external_id": str(i), "url": f"http://127.0.0.1/{site}/{i}",
                     "title": f"bulk {i}", "text": None, "first_seen": now, "last_seen": now,
                     "content_hash": hashlib.sha256(str(i).encode()).hexdigest(), "extras": {}}
                    for i in range(start, min(start + chunk, n))]
            session.execute(insert(Listing), rows)
        ids = list(session.scalars(select(Listing.id).where(Listing.site_id == site_id).order_by(Listing.id)))
        for start in range(0, n, chunk):
            session.execute(insert(ReviewItem), [
                {"listing_id": lid, "priority": float((i * 7919) % 1000), "state": ReviewState.pending,
                 "site_id": site_id, "score": 0.5 + (i % 50) / 100, "category": categories[i % len(categories)],
                 "lang": langs[i % len(langs)], "created_at": now, "updated_at": now}
                for i, lid in enumerate(ids[start : start + chunk], start)
            ])
