"""The profile-driven spider: one class crawls any site that a YAML profile describes.

    scrapy crawl profile -a profile=zh_market [-a base_url=http://…] [-a keywords_file=…] [-a max_pages=N]

Listing pages (start URLs, search results) yield links to detail pages and a next page; each
detail page yields one :class:`~crawlers.items.ListingItem` carrying the raw response as evidence.
Failures are never fatal: each is counted in the stats under ``wildwatch/failures/<kind>`` and the
crawl goes on.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError, TimeoutError
from twisted.python.failure import Failure

from crawlers.items import ListingItem
from crawlers.parsing import parse_posted, parse_price
from crawlers.profile import Profile, load_profile, read_keywords

# Charsets that servers send by default or by mistake; a UTF-8 body behind them is re-decoded.
_WEAK_CHARSETS = {"iso-8859-1", "latin-1", "latin1", "ascii", "us-ascii", "cp1252", "windows-1252"}


class ProfileSpider(scrapy.Spider):
    name = "profile"

    def __init__(
        self,
        profile: str | Profile | None = None,
        base_url: str | None = None,
        keywords_file: str | None = None,
        max_pages: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        if profile is None:
            raise ValueError("ProfileSpider needs a profile: -a profile=NAME_OR_PATH")
        self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        super().__init__(name=kwargs.pop("name", self.name), **kwargs)
        self.site = self.profile.name
        self.base_url = (base_url or self.profile.base_url).rstrip("/")
        self.keywords = read_keywords_arg(keywords_file)
        self.max_pages = int(max_pages) if max_pages else self.profile.max_pages
        self.pages_seen = 0
        # Read by Scrapy's downloader for this spider's slots.
        if self.profile.download_delay is not None:
            self.download_delay = self.profile.download_delay
        if self.profile.concurrency is not None:
            self.max_concurrent_requests = self.profile.concurrency
        self.allowed_domains = list(self.profile.allowed_domains) or None  # type: ignore[assignment]
        self._detail_re = re.compile(self.profile.detail_url_pattern) if self.profile.detail_url_pattern else None

    # -- requests ------------------------------------------------------------------------------

    async def start(self):  # noqa: ANN201 - async generator of Requests
        if not self.profile.robots_obey:
            self.logger.warning("profile %s: robots.txt is NOT obeyed (robots_obey: false)", self.site)
        for url in self.profile.seed_urls(self.base_url, self.keywords):
            yield self._request(url, self.parse)

    def _request(self, url: str, callback: Any) -> scrapy.Request:
        meta = {} if self.profile.robots_obey else {"dont_obey_robotstxt": True}
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta)

    def _budget_left(self) -> bool:
        if self.max_pages is not None and self.pages_seen >= self.max_pages:
            self.crawler.stats.set_value("wildwatch/budget_exhausted", True)
            return False
        return True

    # -- callbacks -----------------------------------------------------------------------------

    def parse(self, response: Response, **kwargs: Any) -> Iterator[scrapy.Request]:
        """A listing page: follow detail links, then the next page."""
        self.pages_seen += 1
        response = self._decoded(response)
        if response is None:
            return
        links = self.profile.listing_links.extract_all(response) if self.profile.listing_links else []
        if not links:
            # A search with no hits is normal; many in a row mean the selectors broke.
            self.crawler.stats.inc_value("wildwatch/listing_pages_without_links")
        for href in links:
            url = response.urljoin(href)
            if self._detail_re and not self._detail_re.search(url):
                self.crawler.stats.inc_value("wildwatch/links_skipped")
                continue
            if self._budget_left():
                yield self._request(url, self.parse_detail)
        if self.profile.next_page and (nxt := self.profile.next_page.extract(response)):
            if self._budget_left():
                yield self._request(response.urljoin(nxt), self.parse)

    def parse_detail(self, response: Response) -> Iterator[ListingItem]:
        self.pages_seen += 1
        fetched_at = datetime.now(timezone.utc)
        decoded = self._decoded(response)
        if decoded is None:
            return
        values = {name: spec.extract(decoded) for name, spec in self.profile.fields.items()}
        if not values.get("title") and not values.get("text"):
            self._fail("empty_fields", response.url)
            return
        lang = self.profile.lang
        price_value, currency = parse_price(values.get("price"), lang)
        posted_at = None
        if values.get("posted"):
            posted_at = parse_posted(values["posted"], now=fetched_at, lang=lang, tz=self.profile.timezone)
            if posted_at is None:
                self.crawler.stats.inc_value("wildwatch/unparsed/posted")
        self.crawler.stats.inc_value("wildwatch/items")
        yield ListingItem(
            site=self.site,
            url=response.url,
            external_id=values.get("external_id") or external_id_from_url(response.url),
            title=values.get("title"),
            text=values.get("text"),
            price_raw=values.get("price"),
            price_value=price_value,
            price_currency=currency,
            seller=values.get("seller"),
            location=values.get("location"),
            posted_raw=values.get("posted"),
            posted_at=posted_at,
            lang_hint=lang,
            extras={"encoding": decoded.encoding} if isinstance(decoded, TextResponse) else {},
            status=response.status,
            headers={k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()},
            body=response.body,
            fetched_at=fetched_at,
        )

    # -- failures and encodings ----------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        request = failure.request
        if failure.check(HttpError):
            kind = f"http_{failure.value.response.status}"
        elif failure.check(TimeoutError, TCPTimedOutError):
            kind = "timeout"
        elif failure.check(DNSLookupError):
            kind = "dns"
        elif failure.check(ConnectionRefusedError):
            kind = "connection_refused"
        else:
            kind = failure.type.__name__ if failure.type else "unknown"
        self._fail(kind, request.url, str(failure.value))

    def _fail(self, kind: str, url: str, detail: str = "") -> None:
        stats = self.crawler.stats
        stats.inc_value("wildwatch/failures")
        stats.inc_value(f"wildwatch/failures/{kind}")
        examples = stats.get_value("wildwatch/failure_urls") or []
        if len(examples) < 50:
            stats.set_value("wildwatch/failure_urls", [*examples, [kind, url]])
        self.logger.warning("%s: %s %s %s", self.site, kind, url, detail)

    def _decoded(self, response: Response) -> TextResponse | None:
        """The response as text in the right encoding (profile override, or UTF-8 behind a lie)."""
        if not isinstance(response, TextResponse):
            self._fail("not_html", response.url)
            return None
        if not response.body.strip():
            self._fail("empty_body", response.url)
            return None
        if self.profile.encoding:
            return response.replace(encoding=self.profile.encoding)
        if response.encoding.lower() in _WEAK_CHARSETS and _is_utf8(response.body):
            self.crawler.stats.inc_value("wildwatch/encoding_fixed")
            self.logger.info("%s: %s declares %s but is UTF-8", self.site, response.url, response.encoding)
            return response.replace(encoding="utf-8")
        return response


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not body.isascii()


def external_id_from_url(url: str) -> str:
    """The last run of digits in the URL path, or a hash of the URL."""
    digits = re.findall(r"\d{3,}", url.split("?", 1)[0])
    return digits[-1] if digits else "u" + hashlib.sha1(url.encode()).hexdigest()[:16]


def read_keywords_arg(keywords_file: str | None) -> list[str] | None:
    if not keywords_file:
        return None
    from pathlib import Path

    return read_keywords(Path(keywords_file))
