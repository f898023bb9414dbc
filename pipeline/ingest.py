"""Storing listings: idempotent on (site, external id), every change kept as evidence.

A listing is stored before anything scores it (see ``pipeline.scoring``), so nothing found by a
crawl is lost to a classifier failure.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawlers.items import ListingItem
from pipeline.models import CrawlRun, Listing, Site, Snapshot


class Outcome(str, Enum):
    new = "new"
    changed = "changed"
    unchanged = "unchanged"


@dataclass(frozen=True)
class Stored:
    listing_id: int
    outcome: Outcome


_CONTENT_FIELDS = ("title", "text", "price_raw", "seller", "location")


def content_hash(item: ListingItem) -> str:
    """What the listing says (not how the page around it looks): changes here are new evidence."""
    joined = "\x1f".join(" ".join((getattr(item, f) or "").split()) for f in _CONTENT_FIELDS)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def get_or_create_site(session: Session, name: str, **attrs: str | None) -> Site:
    site = session.scalar(select(Site).where(Site.name == name))
    if site is None:
        site = Site(name=name, **attrs)
        session.add(site)
        session.flush()
    else:
        for key, value in attrs.items():
            if value:
                setattr(site, key, value)
    return site


def store_item(session: Session, site: Site, item: ListingItem, crawl_run: CrawlRun | None = None) -> Stored:
    """Insert or update one listing; add a snapshot when it is new or its content changed."""
    now = item.fetched_at or datetime.now(timezone.utc)
    digest = content_hash(item)
    listing = session.scalar(
        select(Listing).where(Listing.site_id == site.id, Listing.external_id == item.external_id)
    )
    if listing is None:
        listing = Listing(site_id=site.id, external_id=item.external_id, first_seen=now, extras={})
        session.add(listing)
        outcome = Outcome.new
    elif listing.content_hash != digest:
        outcome = Outcome.changed
    else:
        listing.last_seen = now
        listing.url = item.url
        return Stored(listing.id, Outcome.unchanged)

    listing.url = item.url
    listing.title = item.title
    listing.text = item.text
    listing.price_raw = item.price_raw
    listing.price_value = item.price_value
    listing.price_currency = item.price_currency
    listing.seller = item.seller
    listing.location = item.location
    listing.posted_raw = item.posted_raw
    listing.posted_at = item.posted_at
    listing.last_seen = now
    listing.content_hash = digest
    listing.extras = {**(listing.extras or {}), **item.extras}
    session.flush()
    session.add(
        Snapshot(
            listing_id=listing.id,
            crawl_run_id=crawl_run.id if crawl_run else None,
            url=item.url,
            fetched_at=now,
            status=item.status,
            headers=item.headers,
            body_zlib=zlib.compress(item.body, 6),
            size=len(item.body),
            sha256=hashlib.sha256(item.body).hexdigest(),
            content_hash=digest,
        )
    )
    return Stored(listing.id, outcome)


def snapshot_body(snapshot: Snapshot) -> bytes:
    """The raw bytes as fetched; their sha256 is ``snapshot.sha256``."""
    return zlib.decompress(snapshot.body_zlib)
