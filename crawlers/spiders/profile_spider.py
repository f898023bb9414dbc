"""The profile-driven spider: one class crawls any marketplace or forum that a YAML profile describes.

    SCRAPY_SETTINGS_MODULE=crawlers.settings scrapy crawl profile -a profile=zh_market
        [-a base_url=http://…] [-a keywords_file=…] [-a max_pages=N]
        [-a crawl_id=ID  (distributed, see crawlers/distributed.py)]

Listing pages (start URLs, search results, forum boards) yield links to detail pages, more listing
pages (``listing.follow``: categories, boards) and a next page. A detail page yields one
:class:`~crawlers.items.ListingItem`, or one per ``detail.items`` block (forum posts on a thread
page, each linked to its thread in ``extras["thread"]``); ``detail.next_page`` follows a thread
onto its later pages. HTML pages are read with CSS / XPath, JSON endpoints with JMESPath.

Failures are never fatal: each is counted under ``wildwatch/failures/<kind>`` and the crawl goes
on. A detail page that answers 404 / 410 yields a :class:`~crawlers.items.GoneItem` so that the
store can mark the listing removed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import scrapy
from parsel import Selector
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers.items import GoneItem, ListingItem
from crawlers.middlewares import failure_kind
from crawlers.parsing import parse_posted, parse_price
from crawlers.profile import Profile, load_profile, read_keywords

# Charsets that servers send by default or by mistake; a UTF-8 body behind them is re-decoded.
_WEAK_CHARSETS = {"iso-8859-1", "latin-1", "latin1", "ascii", "us-ascii", "cp1252", "windows-1252"}
# When a page declares no charset at all and is not UTF-8: the likely legacy charset by language.
_LEGACY_BY_LANG = {"zh": "gb18030", "vi": "cp1258", "en": "cp1252"}
_META_CHARSET = re.compile(rb"<meta[^>]+charset", re.I)


class ProfileSpider(scrapy.Spider):
    name = "profile"

    def __init__(
        self,
        profile: str | Profile | None = None,
        base_url: str | None = None,
        keywords_file: str | None = None,
        max_pages: int | str | None = None,
        crawl_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        if profile is None:
            raise ValueError("ProfileSpider needs a profile: -a profile=NAME_OR_PATH")
        self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        super().__init__(name=kwargs.pop("name", self.name), **kwargs)
        self.site = self.profile.name
        self.base_url = (base_url or self.profile.base_url).rstrip("/")
        self.keywords_override = bool(keywords_file)
        self.keywords = read_keywords(Path(keywords_file)) if keywords_file else None
        self.max_pages = int(max_pages) if max_pages else self.profile.max_pages
        self.crawl_id = crawl_id or None
        self.listing_pages_failed = 0
        self.allowed_domains = list(self.profile.allowed_domains) or None  # type: ignore[assignment]
        self._detail_re = re.compile(self.profile.detail_url_pattern) if self.profile.detail_url_pattern else None
        self._vars = {"base_url": self.base_url}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ProfileSpider:
        """The profile's politeness, depth and robots.txt choice become this crawl's settings."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings, p = crawler.settings, spider.profile
        for key, value in (
            ("ROBOTSTXT_OBEY", p.robots_obey),
            ("DOWNLOAD_DELAY", p.download_delay),
            ("CONCURRENT_REQUESTS_PER_DOMAIN", p.concurrency),
            ("AUTOTHROTTLE_ENABLED", p.autothrottle),
            ("DOWNLOAD_TIMEOUT", p.download_timeout),
            ("DEPTH_LIMIT", p.max_depth),
        ):
            if value is not None:
                settings.set(key, value, priority="spider")
        spider.crawl_id = spider.crawl_id or settings.get("WILDWATCH_CRAWL_ID") or None
        if spider.crawl_id:
            from crawlers.distributed import distributed_settings

            settings.setdict(
                distributed_settings(spider.crawl_id, spider.site, settings.get("WILDWATCH_REDIS_URL")),
                priority="spider",
            )
        return spider

    # -- requests ------------------------------------------------------------------------------

    async def start(self):
        stats = self.crawler.stats
        stats.set_value("wildwatch/robots_obeyed", self.profile.robots_obey)
        if not self.profile.robots_obey:
            self.logger.warning("profile %s: robots.txt is NOT obeyed (robots_obey: false in %s)", self.site, self.profile.path)
        for url in self.profile.seed_urls(self.base_url, self.keywords):
            yield self._request(url, self.parse)

    def _request(self, url: str, callback: Any, **meta: Any) -> scrapy.Request:
        if not self.profile.robots_obey:
            meta["dont_obey_robotstxt"] = True
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta)

    def _budget_left(self) -> bool:
        return not self.crawler.stats.get_value("wildwatch/budget/exhausted")

    def full_crawl(self, reason: str) -> bool:
        """Did this crawl see every listing the site lists? Only then can absence mean removal."""
        stats = self.crawler.stats
        return (
            reason == "finished"
            and bool(self.profile.start_urls)
            and not self.keywords_override
            and not self.crawl_id
            and self.listing_pages_failed == 0
            and not stats.get_value("wildwatch/budget/exhausted")
            and not stats.get_value("wildwatch/traps/calendar")
        )

    # -- callbacks -----------------------------------------------------------------------------

    def parse(self, response: Response, **kwargs: Any) -> Iterator[scrapy.Request]:
        """A listing page (start, search, board): follow detail links, more listings, the next page."""
        doc = self._doc(response)
        if doc is None:
            self.listing_pages_failed += 1
            return
        p, stats = self.profile, self.crawler.stats
        stats.inc_value("wildwatch/pages/listing")
        links = p.listing_links.extract_all(doc, response.url, self._vars) if p.listing_links else []
        if not links:
            # A search with no hits is normal; many in a row mean the selectors broke.
            stats.inc_value("wildwatch/listing_pages_without_links")
        for href in links:
            url = response.urljoin(href)
            if self._detail_re and not self._detail_re.search(url):
                stats.inc_value("wildwatch/links_skipped")
                continue
            if self._budget_left():
                yield self._request(url, self.parse_detail)
        more = p.listing_follow.extract_all(doc, response.url, self._vars) if p.listing_follow else []
        if p.next_page and (nxt := p.next_page.extract(doc, response.url, self._vars)):
            more.append(nxt)
        for href in more:
            if self._budget_left():
                yield self._request(response.urljoin(href), self.parse)

    def parse_detail(self, response: Response, **kwargs: Any) -> Iterator[ListingItem | scrapy.Request]:
        """A detail page: one listing, or (``detail.items``) one per post / JSON element."""
        fetched_at = datetime.now(timezone.utc)
        doc = self._doc(response)
        if doc is None:
            return
        p, stats = self.profile, self.crawler.stats
        stats.inc_value("wildwatch/pages/detail")
        blocks = p.detail_items.nodes(doc) if p.detail_items else [doc]
        thread = self._thread(response, doc, len(blocks)) if p.kind == "forum" else None
        found = 0
        for i, node in enumerate(blocks):
            values = {
                name: spec.extract(doc if spec.scope == "page" else node, response.url, self._vars)
                for name, spec in p.fields.items()
            }
            if not values.get("title") and not values.get("text"):
                continue
            found += 1
            yield self._item(response, values, fetched_at, i, thread)
        if not found:
            self._fail("empty_fields", response.url)
        if p.detail_next_page and (nxt := p.detail_next_page.extract(doc, response.url, self._vars)):
            url = response.urljoin(nxt)
            if url != response.url and self._budget_left():
                meta = {"thread": thread["next"]} if thread else {}
                yield self._request(url, self.parse_detail, **meta)

    def _thread(self, response: Response, doc: Any, n_posts: int) -> dict[str, Any]:
        """Where a forum page sits in its thread: carried from page to page in ``meta``."""
        prev = response.meta.get("thread") or {}
        first_url = prev.get("url", response.url)
        spec = self.profile.fields.get("thread_id")
        tid = prev.get("id") or (spec.extract(doc, response.url, self._vars) if spec else None)
        tid = tid or external_id_from_url(first_url)
        page = prev.get("page", 0) + 1
        posts_before = prev.get("posts", 0)
        return {
            "id": tid, "url": first_url, "page": page, "posts_before": posts_before,
            "next": {"id": tid, "url": first_url, "page": page, "posts": posts_before + n_posts},
        }

    def _item(
        self, response: Response, values: dict[str, str | None], fetched_at: datetime, index: int,
        thread: dict[str, Any] | None,
    ) -> ListingItem:
        lang = self.profile.lang
        price_value, currency = parse_price(values.get("price"), lang)
        posted_at = None
        if values.get("posted"):
            posted_at = parse_posted(values["posted"], now=fetched_at, lang=lang, tz=self.profile.timezone)
            if posted_at is None:
                self.crawler.stats.inc_value("wildwatch/unparsed/posted")
        extras: dict[str, Any] = {}
        if isinstance(response, TextResponse):
            extras["encoding"] = response.meta.get("wildwatch_encoding") or response.encoding
        external_id = values.get("external_id")
        url = response.url
        if thread is not None:
            post_no = values.get("post_no") or str(thread["posts_before"] + index + 1)
            post_no = re.sub(r"\D", "", post_no) or str(thread["posts_before"] + index + 1)
            extras["thread"] = {
                "id": thread["id"], "url": thread["url"], "page": thread["page"],
                "post_no": int(post_no), "first_post": int(post_no) == 1,
            }
            external_id = external_id or f"{thread['id']}-{post_no}"
            url = f"{response.url.split('#', 1)[0]}#post-{post_no}"
        elif external_id is None:
            external_id = external_id_from_url(response.url)
            if self.profile.detail_items and index:
                external_id = f"{external_id}-{index}"
        self.crawler.stats.inc_value("wildwatch/items")
        return ListingItem(
            site=self.site,
            url=url,
            external_id=external_id,
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
            extras=extras,
            status=response.status,
            headers={k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()},
            body=response.body,
            fetched_at=fetched_at,
        )

    # -- failures and encodings ----------------------------------------------------------------

    def on_error(self, failure: Failure) -> Iterator[GoneItem]:
        request = failure.request
        kind = failure_kind(failure)
        if kind is None:  # the page budget, not the site
            return
        if request.callback == self.parse or getattr(request.callback, "__func__", None) is ProfileSpider.parse:
            self.listing_pages_failed += 1
        self._fail(kind, request.url, str(failure.value))
        if failure.check(HttpError) and failure.value.response.status in (404, 410) and self._is_detail(request):
            yield GoneItem(
                site=self.site, url=request.url, external_id=external_id_from_url(request.url),
                status=failure.value.response.status, fetched_at=datetime.now(timezone.utc),
            )

    def _is_detail(self, request: scrapy.Request) -> bool:
        return getattr(request.callback, "__name__", "") == "parse_detail"

    def _fail(self, kind: str, url: str, detail: str = "") -> None:
        stats = self.crawler.stats
        stats.inc_value("wildwatch/failures")
        stats.inc_value(f"wildwatch/failures/{kind}")
        examples = stats.get_value("wildwatch/failure_urls") or []
        if len(examples) < 50:
            stats.set_value("wildwatch/failure_urls", [*examples, [kind, url]])
        self.logger.warning("%s: %s %s %s", self.site, kind, url, detail[:200])

    def _doc(self, response: Response) -> Selector | Any | None:
        """The page to select from: a parsel Selector, or the parsed JSON of a JSON profile."""
        decoded = self._decoded(response)
        if decoded is None:
            return None
        try:
            return parse_document(decoded, self.profile)
        except ValueError:
            self._fail("bad_json", response.url)
            return None

    def _decoded(self, response: Response) -> TextResponse | None:
        decoded, note = decode_response(response, self.profile)
        if decoded is None:
            self._fail(note, response.url)
            return None
        if note:
            self.crawler.stats.inc_value(f"wildwatch/{note}")
            self.logger.info("%s: %s: %s, decoded as %s", self.site, response.url, note, decoded.encoding)
        return decoded


def decode_response(response: Response, profile: Profile) -> tuple[TextResponse | None, str | None]:
    """The response as text in the right encoding: ``(decoded, note)``.

    The profile's ``encoding`` wins; a page that declares Latin-1 (or similar) but is UTF-8 is
    re-decoded (note ``encoding_fixed``); a page that declares nothing and is not UTF-8 is decoded
    in the legacy charset of the profile's language (``encoding_guessed``). When the page cannot be
    used, ``decoded`` is None and ``note`` is the failure kind (``empty_body``, ``not_html``).
    """
    if not response.body.strip():
        return None, "empty_body"
    if not isinstance(response, TextResponse):
        if profile.format == "json" and response.body.lstrip()[:1] in (b"{", b"["):
            response = TextResponse(response.url, body=response.body, headers=response.headers,
                                    status=response.status, request=response.request, encoding="utf-8")
        else:
            return None, "not_html"
    if profile.encoding:
        response.meta["wildwatch_encoding"] = profile.encoding
        return response.replace(encoding=profile.encoding), None
    declared = response._declared_encoding()  # header, BOM or <meta>; None when the page says nothing
    if declared and response.encoding.lower() in _WEAK_CHARSETS and _is_utf8(response.body):
        response.meta["wildwatch_encoding"] = "utf-8"
        return response.replace(encoding="utf-8"), "encoding_fixed"
    if not declared and not _is_utf8(response.body) and not response.body.isascii():
        guess = _LEGACY_BY_LANG.get(profile.lang or "", "cp1252")
        response.meta["wildwatch_encoding"] = guess
        return response.replace(encoding=guess), "encoding_guessed"
    return response, None


def parse_document(decoded: TextResponse, profile: Profile) -> Any:
    """What selectors run on: a parsel Selector, or the parsed JSON of a ``format: json`` profile.

    Raises ``ValueError`` for a JSON profile's page that is not JSON.
    """
    return json.loads(decoded.text) if profile.format == "json" else decoded.selector


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not body.isascii()


def external_id_from_url(url: str) -> str:
    """The last run of digits in the URL path, or a hash of the URL."""
    digits = re.findall(r"\d{3,}", url.split("?", 1)[0].split("#", 1)[0])
    return digits[-1] if digits else "u" + hashlib.sha1(url.encode()).hexdigest()[:16]
