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

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crawlers.items import GoneItem, ListingItem
from pipeline.models import CrawlRun, Listing, Site, Snapshot


class Outcome(str, Enum):
    new = "new"
    changed = "changed"
    unchanged = "unchanged"
    reappeared = "reappeared"  # content unchanged, but it had been marked removed


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
    listing = _find(session, site, item.external_id)
    if listing is None:
        # Another crawler process may insert the same listing at the same moment: the unique
        # constraint then fails this transaction, and the caller retries it (StorePipeline does).
        listing = Listing(site_id=site.id, external_id=item.external_id, first_seen=now, extras={})
        session.add(listing)
        outcome = Outcome.new
    else:
        outcome = Outcome.changed if listing.content_hash != digest else Outcome.unchanged
    if listing.removed_at is not None:
        listing.removed_at = listing.removed_reason = None
        if outcome is Outcome.unchanged:
            outcome = Outcome.reappeared
    if outcome in (Outcome.unchanged, Outcome.reappeared):
        listing.last_seen = max(listing.last_seen, now) if listing.last_seen else now
        listing.url = item.url
        return Stored(listing.id, outcome)

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
    session.add(
        Snapshot(
            listing=listing,
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
    session.flush()  # one round trip: the listing (if new) and its snapshot
    return Stored(listing.id, outcome)


def _find(session: Session, site: Site, external_id: str) -> Listing | None:
    return session.scalar(select(Listing).where(Listing.site_id == site.id, Listing.external_id == external_id))


def mark_gone(session: Session, site: Site, item: GoneItem) -> int | None:
    """A detail page answered 404/410: mark the listing it showed removed; its id, or None."""
    listing = _find(session, site, item.external_id) or session.scalar(
        select(Listing).where(Listing.site_id == site.id, Listing.url == item.url).limit(1)
    )
    if listing is None:
        return None
    if listing.removed_at is None:
        listing.removed_at = item.fetched_at or datetime.now(timezone.utc)
        listing.removed_reason = f"http_{item.status}"
    return listing.id


def mark_unlisted_removed(session: Session, site_id: int, crawl_started: datetime, now: datetime | None = None) -> int:
    """After a full crawl of a site: listings it did not see any more are marked removed."""
    result = session.execute(
        update(Listing)
        .where(Listing.site_id == site_id, Listing.removed_at.is_(None), Listing.last_seen < crawl_started)
        .values(removed_at=now or datetime.now(timezone.utc), removed_reason="not_listed")
    )
    return result.rowcount or 0


def snapshot_body(snapshot: Snapshot) -> bytes:
    """The raw bytes as fetched; their sha256 is ``snapshot.sha256``."""
    return zlib.decompress(snapshot.body_zlib)
