"""Running crawls: Scrapy's CrawlerProcess with the profile spider and the store pipeline.

Twisted's reactor runs once per process, so :func:`run_crawls` is meant to be called once by a
command (``wildwatch crawl``, ``wildwatch demo``); tests run those commands in subprocesses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
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
    crawl_id: str | None = None,
) -> list[CrawlResult]:
    """Crawl every profile at once (in one reactor); return each site's stats.

    ``on_event(site, kind)`` is called for each ``page`` and ``item`` (progress bars).
    ``crawl_id`` joins (or starts, or resumes) a distributed crawl on the shared Redis frontier
    (``crawlers.distributed``): run the same call on several machines.
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
            crawl_id=crawl_id,
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


# -- Scrapyd ---------------------------------------------------------------------------------------

# The store pipeline and the migrations come from the Wildwatch installed on the Scrapyd host
# (Alembic cannot read migrations from inside a zipped egg); the egg carries the crawling side.
EGG_PACKAGES = ("crawlers",)
_EGG_SUFFIXES = {".py", ".yaml", ".yml", ".txt", ".mako", ".ini", ".json"}


def build_egg(out: Path, version: str | None = None) -> Path:
    """A Scrapy project egg for Scrapyd: the spiders, middlewares, profiles and keyword lists.

    The Scrapyd host needs Wildwatch installed (``pip install wildwatch``: the store pipeline,
    database models and dependencies); the egg carries this tree's crawlers and profiles, so a
    changed profile or keyword list is live after the next deploy.
    """
    import time
    import zipfile

    root = Path(__file__).resolve().parent.parent
    version = version or time.strftime("%Y%m%d%H%M%S")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as egg:
        for package in EGG_PACKAGES:
            for path in sorted((root / package).rglob("*")):
                if path.is_file() and path.suffix in _EGG_SUFFIXES and "__pycache__" not in path.parts:
                    egg.write(path, path.relative_to(root).as_posix())
        egg.writestr("EGG-INFO/PKG-INFO", f"Metadata-Version: 2.1\nName: wildwatch\nVersion: {version}\n")
        egg.writestr("EGG-INFO/entry_points.txt", "[scrapy]\nsettings = crawlers.settings\n")
        egg.writestr("EGG-INFO/top_level.txt", "\n".join(EGG_PACKAGES) + "\n")
        egg.writestr("EGG-INFO/zip-safe", "")
    return out


def deploy_egg(target: str, project: str, egg: Path, version: str) -> dict[str, Any]:
    """Upload an egg to Scrapyd's ``addversion.json``; returns Scrapyd's answer."""
    import json
    import uuid
    from urllib.request import Request, urlopen

    boundary = uuid.uuid4().hex
    parts = []
    for name, value in (("project", project), ("version", version)):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="egg"; filename="{egg.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode() + egg.read_bytes() + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    request = Request(
        target.rstrip("/") + "/addversion.json", data=b"".join(parts), method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urlopen(request, timeout=60) as response:
        return json.loads(response.read())
