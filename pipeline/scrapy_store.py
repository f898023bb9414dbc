"""Scrapy item pipeline that stores listings and their snapshots in the Wildwatch database.

Named in ``crawlers.settings.ITEM_PIPELINES`` (``pipeline.scrapy_store.StorePipeline``) and
turned off (``NotConfigured``) unless ``WILDWATCH_DB`` is set. Each crawl of a site by one process
is recorded as a :class:`~pipeline.models.CrawlRun` with Scrapy's stats; every listing is
committed as soon as it is stored, so a crawl killed midway keeps everything it stored.

* :class:`~crawlers.items.ListingItem`: stored (``wildwatch/stored/<outcome>``);
* :class:`~crawlers.items.GoneItem` (a detail page answered 404/410): the listing is marked
  removed (``wildwatch/removed/gone``);
* at the end of a *full* crawl (see ``ProfileSpider.full_crawl``), listings of the site that the
  crawl no longer saw are marked removed (``wildwatch/removed/not_listed``).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from crawlers.items import GoneItem, ListingItem
from pipeline.db import Database
from pipeline.ingest import get_or_create_site, mark_gone, mark_unlisted_removed, store_item
from pipeline.models import CrawlRun, CrawlStatus, Site

STORE_ATTEMPTS = 5


def _write_lock(session: Session) -> None:
    """On SQLite, take the write lock up front: several crawler processes may share one file."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


class StorePipeline:
    def __init__(self, db_url: str, stats: Any) -> None:
        self.db = Database(db_url)
        self.stats = stats
        self.site_id: int | None = None
        self.run_id: int | None = None
        self.started_at: datetime | None = None
        self.crawler: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        url = crawler.settings.get("WILDWATCH_DB")
        if not url:
            raise NotConfigured("WILDWATCH_DB is not set")
        pipeline = cls(url, crawler.stats)
        pipeline.crawler = crawler
        # spider_closed (not close_spider) knows the finish reason.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        profile = getattr(spider, "profile", None)
        with self.db.session() as session:
            site = get_or_create_site(
                session,
                spider.site,
                title=getattr(profile, "title", None),
                base_url=getattr(spider, "base_url", None),
                lang=getattr(profile, "lang", None),
            )
            run = CrawlRun(site_id=site.id, stats={}, crawl_id=getattr(spider, "crawl_id", None))
            session.add(run)
            session.flush()
            self.site_id, self.run_id, self.started_at = site.id, run.id, run.started_at
        # Detached copies: store_item reads only their ids (no two lookups per listing).
        self.site, self.run = site, run
        spider.crawl_run_id = self.run_id
        self.stats.set_value("wildwatch/crawl_run_id", self.run_id)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, GoneItem):
            with self.db.session() as session:
                found = mark_gone(session, session.get(Site, self.site_id), item)
            self.stats.inc_value("wildwatch/removed/gone" if found else "wildwatch/removed/gone_unknown")
            return item
        if not isinstance(item, ListingItem):
            return item
        for attempt in range(1, STORE_ATTEMPTS + 1):
            try:
                with self.db.session() as session:
                    _write_lock(session)
                    stored = store_item(session, self.site, item, self.run)
                break
            except (OperationalError, IntegrityError):  # SQLite busy; another process stored it first
                if attempt == STORE_ATTEMPTS:
                    self.stats.inc_value("wildwatch/store_failed")
                    raise
                self.stats.inc_value("wildwatch/store_retried")
                time.sleep(0.05 * 2**attempt)
        self.stats.inc_value(f"wildwatch/stored/{stored.outcome.value}")
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        full = bool(getattr(spider, "full_crawl", lambda _r: False)(reason))
        if full:
            with self.db.session() as session:
                n = mark_unlisted_removed(session, self.site_id, self.started_at)
            self.stats.set_value("wildwatch/removed/not_listed", n)
        self.stats.set_value("wildwatch/full_crawl", full)
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
