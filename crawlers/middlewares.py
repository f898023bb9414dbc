"""Politeness and safety for every Wildwatch crawl, as Scrapy downloader middlewares.

Each component reads its settings in ``from_crawler`` and turns itself off with
``NotConfigured``; each counts what it does under ``wildwatch/…`` in the crawl's stats.

=================================  ===================================================================
``ContactUserAgentMiddleware``     an identifying User-Agent with the operator's contact
                                   (``WILDWATCH_CONTACT``), instead of Scrapy's default
``PageBudgetMiddleware``           a hard per-crawl page budget: no more than ``max_pages`` fetches
                                   (robots.txt excluded), retries and redirects included
``TrapGuardMiddleware``            crawler traps: repeating path segments, overlong URLs,
                                   calendar-like pagination running far into the future or past,
                                   redirect loops
``BackoffRetryMiddleware``         Scrapy's retries, with exponential backoff and ``Retry-After``
                                   honoured on 429 / 503 (the site's whole download slot slows down)
=================================  ===================================================================

:func:`failure_kind` names a failed request for the crawl run (``http_500``, ``timeout``,
``too_large``, ``redirect_loop``, ``trap_calendar`` …); the spider counts each kind under
``wildwatch/failures/<kind>``.
"""

from __future__ import annotations

import logging
import random
import re
import time
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest, NotConfigured

try:  # Scrapy >= 2.14 has its own timeout exception
    from scrapy.exceptions import DownloadTimeoutError
except ImportError:  # pragma: no cover
    DownloadTimeoutError = TimeoutError
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.response import response_status_message
from twisted.internet.error import (
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

logger = logging.getLogger(__name__)

DEFAULT_CONTACT = "https://github.com/wildwatch/wildwatch"


class TrapRequest(IgnoreRequest):
    """A request refused because it looks like a crawler trap; ``kind`` names the trap."""

    def __init__(self, kind: str, url: str) -> None:
        super().__init__(f"{kind}: {url}")
        self.kind = kind


class BudgetExhausted(IgnoreRequest):
    """The crawl's page budget is spent: not a failure of the site."""


def failure_kind(failure: Failure) -> str | None:
    """What went wrong, as a short name for the crawl run; None when it is not the site's fault."""
    if failure.check(BudgetExhausted):
        return None
    if failure.check(TrapRequest):
        return f"trap_{failure.value.kind}"
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    if failure.check(DownloadCancelledError):
        return "too_large"
    if failure.check(TimeoutError, TCPTimedOutError, DownloadTimeoutError):
        return "timeout"
    if failure.check(DNSLookupError):
        return "dns"
    if failure.check(ConnectionRefusedError):
        return "connection_refused"
    if failure.check(ResponseNeverReceived, ResponseFailed, ConnectionLost):
        return "connection_lost"
    if failure.check(IgnoreRequest):
        message = str(failure.value).lower()
        if "robots.txt" in message:
            return "robots_forbidden"
        if "redirect" in message:
            return "redirect_loop"
        return "ignored"
    return failure.type.__name__ if failure.type else "unknown"


def _site_key(spider: Any) -> str:
    return getattr(spider, "site", None) or getattr(spider, "name", "?")


class ContactUserAgentMiddleware:
    """``Wildwatch/<version> (+<contact>; wildlife-trade research crawler)`` on every request."""

    _warned = False

    def __init__(self, user_agent: str) -> None:
        self.user_agent = user_agent

    @classmethod
    def from_crawler(cls, crawler: Any) -> ContactUserAgentMiddleware:
        settings = crawler.settings
        template = settings.get("WILDWATCH_USER_AGENT")
        if not template:
            raise NotConfigured("WILDWATCH_USER_AGENT is empty: Scrapy's USER_AGENT applies")
        contact = settings.get("WILDWATCH_CONTACT") or ""
        if not contact:
            if not cls._warned:
                cls._warned = True
                logger.warning("WILDWATCH_CONTACT is not set: site operators cannot reach you; set it to an e-mail or URL")
            contact = DEFAULT_CONTACT
        ua = template.format(contact=contact, version=settings.get("WILDWATCH_VERSION", "0.1"))
        crawler.stats.set_value("wildwatch/user_agent", ua)
        return cls(ua)

    def process_request(self, request: Request, spider: Any = None) -> None:
        request.headers.setdefault(b"User-Agent", self.user_agent)


class PageBudgetMiddleware:
    """Refuse fetches beyond the page budget (``spider.max_pages``, else ``WILDWATCH_MAX_PAGES``).

    Every download counts, retries and redirects included, so a crawl never fetches more than the
    budget; robots.txt does not count. Requests over budget fail with :class:`BudgetExhausted`,
    which the spider does not count as a site failure; the crawl then ends by itself.
    """

    def __init__(self, crawler: Any, default_budget: int | None) -> None:
        self.crawler = crawler
        self.default_budget = default_budget
        self.fetched = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> PageBudgetMiddleware:
        if not crawler.settings.getbool("WILDWATCH_BUDGET_ENABLED", True):
            raise NotConfigured
        budget = crawler.settings.getint("WILDWATCH_MAX_PAGES") or None
        return cls(crawler, budget)

    def budget(self, spider: Any) -> int | None:
        return getattr(spider, "max_pages", None) or self.default_budget

    def process_request(self, request: Request, spider: Any = None) -> None:
        if urlsplit(request.url).path == "/robots.txt":
            return
        spider = spider or self.crawler.spider
        budget, stats = self.budget(spider), self.crawler.stats
        if budget is not None and self.fetched >= budget:
            stats.set_value("wildwatch/budget/exhausted", True)
            stats.inc_value("wildwatch/budget/refused")
            raise BudgetExhausted(f"page budget of {budget} spent")
        self.fetched += 1
        stats.set_value("wildwatch/budget/fetched", self.fetched)
        if budget is not None:
            stats.set_value("wildwatch/budget/limit", budget)


_DATE_IN_URL = re.compile(
    r"(?<!\d)((?:19|20)\d\d)[-/_.](0?[1-9]|1[0-2])(?:[-/_.](0?[1-9]|[12]\d|3[01]))?(?!\d)"
)
_YEAR_PARAM = re.compile(r"[?&](?:y|year|nam)=((?:19|20)\d\d)\b", re.I)
_MONTH_PARAM = re.compile(r"[?&](?:m|month|thang)=(0?[1-9]|1[0-2])\b", re.I)


def url_date(url: str) -> date | None:
    """A calendar date written in a URL (``/2026/11/``, ``2026-11-05``, ``?year=2026&month=11``)."""
    if m := _DATE_IN_URL.search(url):
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
    y, mo = _YEAR_PARAM.search(url), _MONTH_PARAM.search(url)
    if y:
        return date(int(y.group(1)), int(mo.group(1)) if mo else 1, 1)
    return None


def url_shape(url: str) -> str:
    """The URL with its digits blanked: pages of one calendar share a shape."""
    return re.sub(r"\d+", "#", url.split("#", 1)[0])


class TrapGuardMiddleware:
    """Refuse URLs that lead into crawler traps; each refusal is a ``trap_<kind>`` failure.

    * ``repeating_path``: a path segment occurs more than ``WILDWATCH_TRAP_MAX_SEGMENT_REPEATS``
      times (``/a/b/a/b/a/b``, relative links that pile up), or the path is deeper than
      ``WILDWATCH_TRAP_MAX_DEPTH`` segments;
    * ``url_too_long``: longer than ``WILDWATCH_TRAP_MAX_URL_LENGTH``;
    * ``calendar``: a date in the URL more than ``WILDWATCH_TRAP_FUTURE_DAYS`` ahead or
      ``WILDWATCH_TRAP_PAST_DAYS`` back, or more than ``WILDWATCH_TRAP_MAX_DATES`` different
      dates under one URL shape (an endless "next month" link);
    * ``redirect_loop``: a redirect back to a URL already on the request's redirect chain.
    """

    def __init__(self, crawler: Any, settings: Any) -> None:
        self.crawler = crawler
        self.max_repeats = settings.getint("WILDWATCH_TRAP_MAX_SEGMENT_REPEATS", 3)
        self.max_depth = settings.getint("WILDWATCH_TRAP_MAX_DEPTH", 16)
        self.max_length = settings.getint("WILDWATCH_TRAP_MAX_URL_LENGTH", 2000)
        self.future_days = settings.getint("WILDWATCH_TRAP_FUTURE_DAYS", 62)
        self.past_days = settings.getint("WILDWATCH_TRAP_PAST_DAYS", 3 * 366)
        self.max_dates = settings.getint("WILDWATCH_TRAP_MAX_DATES", 12)
        self.dates_by_shape: dict[str, set[date]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> TrapGuardMiddleware:
        if not crawler.settings.getbool("WILDWATCH_TRAPGUARD_ENABLED", True):
            raise NotConfigured
        return cls(crawler, crawler.settings)

    def _trap(self, kind: str, request: Request) -> TrapRequest:
        self.crawler.stats.inc_value(f"wildwatch/traps/{kind}")
        logger.info("trap guard: %s %s", kind, request.url)
        return TrapRequest(kind, request.url)

    def process_request(self, request: Request, spider: Any = None) -> None:
        url = request.url
        if len(url) > self.max_length:
            raise self._trap("url_too_long", request)
        segments = [s for s in urlsplit(url).path.split("/") if s]
        if len(segments) > self.max_depth or any(segments.count(s) > self.max_repeats for s in set(segments)):
            raise self._trap("repeating_path", request)
        if (day := url_date(url)) is not None:
            today = datetime.now(timezone.utc).date()
            if (day - today).days > self.future_days or (today - day).days > self.past_days:
                raise self._trap("calendar", request)
            seen = self.dates_by_shape.setdefault(url_shape(url), set())
            if day not in seen and len(seen) >= self.max_dates:
                raise self._trap("calendar", request)
            seen.add(day)

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if response.status in (301, 302, 303, 307, 308) and (location := response.headers.get(b"Location")):
            target = urljoin(request.url, location.decode("latin-1"))
            if target == request.url or target in request.meta.get("redirect_urls", ()):
                raise self._trap("redirect_loop", request)
        return response


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's ``RetryMiddleware``, waiting before each retry instead of hammering the site.

    The wait is ``Retry-After`` when the site sends one (capped by ``WILDWATCH_RETRY_AFTER_MAX``;
    the site's download slot also slows to that delay, which AutoThrottle then eases), otherwise
    ``WILDWATCH_RETRY_BACKOFF_BASE * 2 ** (attempt - 1)`` with jitter, capped by
    ``WILDWATCH_RETRY_BACKOFF_MAX``. Waiting never blocks other requests.
    """

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("WILDWATCH_RETRY_BACKOFF_BASE", 0.5)
        self.cap = settings.getfloat("WILDWATCH_RETRY_BACKOFF_MAX", 30.0)
        self.retry_after_max = settings.getfloat("WILDWATCH_RETRY_AFTER_MAX", 120.0)

    def _delay(self, retry: Request, response: Response | None) -> float:
        if response is not None and (ra := retry_after_seconds(response.headers.get(b"Retry-After"))) is not None:
            delay = min(ra, self.retry_after_max)
            self.crawler.stats.inc_value("wildwatch/retry/retry_after")
            self._slow_down_slot(retry, delay)
            return delay
        attempt = retry.meta.get("retry_times", 1)
        delay = min(self.cap, self.base * 2 ** (attempt - 1))
        return delay * random.uniform(0.8, 1.2)

    def _slow_down_slot(self, request: Request, delay: float) -> None:
        try:
            downloader = self.crawler.engine.downloader
        except (AttributeError, RuntimeError):  # no engine yet (a middleware used on its own)
            return
        key = downloader.get_slot_key(request) if hasattr(downloader, "get_slot_key") else None
        slot = downloader.slots.get(key) if key is not None else None
        if slot is not None and slot.delay < delay:
            slot.delay = delay

    async def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        self.crawler.stats.inc_value("wildwatch/retry/waited_ms", int(seconds * 1000))
        await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:  # type: ignore[override]
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        await self._wait(self._delay(retry, response))
        return retry

    async def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Request | None:  # type: ignore[override]
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            await self._wait(self._delay(retry, None))
        return retry
