"""Scrapy item pipeline that stores listings and their snapshots in the Wildwatch database.

Enabled by ``pipeline.crawl`` with ``ITEM_PIPELINES = {"pipeline.scrapy_store.StorePipeline": 300}``
and ``WILDWATCH_DB``; each crawl of a site is recorded as a :class:`~pipeline.models.CrawlRun`
with Scrapy's stats.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawlers.items import ListingItem
from pipeline.db import Database
from pipeline.ingest import get_or_create_site, store_item
from pipeline.models import CrawlRun, CrawlStatus, Site


class StorePipeline:
    def __init__(self, db_url: str, stats: Any) -> None:
        self.db = Database(db_url)
        self.stats = stats
        self.site_id: int | None = None
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        url = crawler.settings.get("WILDWATCH_DB")
        if not url:
            raise NotConfigured("WILDWATCH_DB is not set")
        pipeline = cls(url, crawler.stats)
        # spider_closed (not close_spider) knows the finish reason.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider: Any) -> None:
        profile = getattr(spider, "profile", None)
        with self.db.session() as session:
            site = get_or_create_site(
                session,
                spider.site,
                title=getattr(profile, "title", None),
                base_url=getattr(spider, "base_url", None),
                lang=getattr(profile, "lang", None),
            )
            run = CrawlRun(site_id=site.id, stats={})
            session.add(run)
            session.flush()
            self.site_id, self.run_id = site.id, run.id
        spider.crawl_run_id = self.run_id

    def process_item(self, item: ListingItem, spider: Any) -> ListingItem:
        with self.db.session() as session:
            site = session.get(Site, self.site_id)
            run = session.get(CrawlRun, self.run_id)
            stored = store_item(session, site, item, run)
        self.stats.inc_value(f"wildwatch/stored/{stored.outcome.value}")
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        stats = {k: _jsonable(v) for k, v in self.stats.get_stats().items()}
        stats["finish_reason"] = reason
        with self.db.session() as session:
            run = session.get(CrawlRun, self.run_id)
            run.finished_at = datetime.now(timezone.utc)
            # closespider_* means a budget was reached: a normal end. shutdown/cancelled is not.
            ok = reason == "finished" or reason.startswith("closespider_")
            run.status = CrawlStatus.finished if ok else CrawlStatus.failed
            run.finish_reason = reason
            run.pages = int(stats.get("response_received_count", 0))
            run.items = int(stats.get("item_scraped_count", 0))
            run.errors = int(stats.get("wildwatch/failures", 0))
            run.stats = stats
        self.db.dispose()


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)
