"""Running crawls: Scrapy's CrawlerProcess with the profile spider and the store pipeline.

Twisted's reactor runs once per process, so :func:`run_crawls` is meant to be called once by a
command (``wildwatch crawl``, ``wildwatch demo``); tests run those commands in subprocesses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawlers.profile import Profile
from crawlers.spiders.profile_spider import ProfileSpider

STORE_PIPELINE = "pipeline.scrapy_store.StorePipeline"


@dataclass
class CrawlResult:
    site: str
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return int(self.stats.get("response_received_count", 0))

    @property
    def items(self) -> int:
        return int(self.stats.get("item_scraped_count", 0))

    @property
    def failures(self) -> dict[str, int]:
        prefix = "wildwatch/failures/"
        return {k[len(prefix):]: v for k, v in self.stats.items() if k.startswith(prefix)}


def crawl_settings(db_url: str, overrides: dict[str, Any] | None = None) -> Settings:
    settings = Settings()
    settings.setmodule("crawlers.settings", priority="project")
    settings.set("WILDWATCH_DB", db_url, priority="project")
    settings.set("ITEM_PIPELINES", {STORE_PIPELINE: 300}, priority="project")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def run_crawls(
    profiles: list[Profile],
    db_url: str,
    *,
    base_urls: dict[str, str] | None = None,
    keywords_file: str | None = None,
    max_pages: int | None = None,
    settings: dict[str, Any] | None = None,
    on_event: Callable[[str, str], None] | None = None,
) -> list[CrawlResult]:
    """Crawl every profile at once (in one reactor); return each site's stats.

    ``on_event(site, kind)`` is called for each ``page`` and ``item`` (progress bars).
    """
    process = CrawlerProcess(crawl_settings(db_url, {"LOG_INSTALL_ROOT_HANDLER": False, **(settings or {})}))
    results: dict[str, CrawlResult] = {}
    for profile in profiles:
        crawler = process.create_crawler(ProfileSpider)
        result = results.setdefault(profile.name, CrawlResult(profile.name))
        _connect(crawler, profile.name, result, on_event)
        process.crawl(
            crawler,
            profile=profile,
            base_url=(base_urls or {}).get(profile.name),
            keywords_file=keywords_file,
            max_pages=max_pages,
        )
    process.start()
    return [results[p.name] for p in profiles]


def _connect(crawler: Any, site: str, result: CrawlResult, on_event: Callable[[str, str], None] | None) -> None:
    def closed(spider: Any, reason: str) -> None:
        result.stats = dict(crawler.stats.get_stats())
        result.stats["finish_reason"] = reason

    crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)
    if on_event:
        crawler.signals.connect(lambda **_: on_event(site, "page"), signal=signals.response_received, weak=False)
        crawler.signals.connect(lambda **_: on_event(site, "item"), signal=signals.item_scraped, weak=False)
