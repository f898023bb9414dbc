"""The one item type every Wildwatch spider yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass
class ListingItem:
    """A listing as found on a site, with the raw response it came from (the evidence).

    Fields that do not fit go in ``extras``. ``body`` is the raw bytes as received, before any
    decoding, so that the stored snapshot's sha256 is the sha256 of what the site sent.
    """

    site: str
    url: str
    external_id: str
    title: str | None = None
    text: str | None = None
    price_raw: str | None = None
    price_value: Decimal | None = None
    price_currency: str | None = None
    seller: str | None = None
    location: str | None = None
    posted_raw: str | None = None
    posted_at: datetime | None = None
    lang_hint: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    # evidence
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    fetched_at: datetime | None = None


@dataclass
class GoneItem:
    """A detail page that answered 404 / 410: the listing it showed was taken down."""

    site: str
    url: str
    external_id: str
    status: int
    fetched_at: datetime | None = None
