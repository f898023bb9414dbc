"""Crawl throughput: a full Wildwatch crawl against a bare Scrapy spider, in the same run.

    python bench/crawl.py [--listings 600] [--runs 5]

Both crawl the same local demo site (en_market, served with ``--listings`` generated listings
from the shipped ones) with the same politeness (8 concurrent requests, no delay, no
AutoThrottle, robots.txt obeyed), alternating, each in its own process:

* **wildwatch**: ``wildwatch crawl`` with the en_market profile (start pages only, no search):
  profile-driven extraction, price/date parsing, and the store pipeline writing every listing
  and its compressed evidence snapshot (sha256) to a fresh SQLite database;
* **bare**: a plain ``scrapy.Spider`` with the same CSS selectors written out by hand, yielding
  dicts to a JSON-lines feed.

Pages/s is Scrapy's ``response_received_count / elapsed_time_seconds`` of each crawl. Prints
each run, the medians and the ratio wildwatch / bare (target: at least 0.6).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class BareSpider:  # built lazily so that importing this file does not import Scrapy
    @staticmethod
    def make():
        import scrapy

        class Bare(scrapy.Spider):
            name = "bare"

            def __init__(self, start: str, **kw):
                super().__init__(**kw)
                self.start_url = start

            async def start(self):
                yield scrapy.Request(self.start_url)

            def parse(self, response):
                for href in response.css("section.results a.card__link::attr(href)").getall():
                    yield response.follow(href, self.parse_detail)
                if nxt := response.css("div.pagination a.pagination__next::attr(href)").get():
                    yield response.follow(nxt, self.parse)

            def parse_detail(self, response):
                yield {
                    "url": response.url,
                    "external_id": response.css("p.listing__ref::text").re_first(r"#(\d+)"),
                    "title": response.css("h1.listing__title::text").get(),
                    "text": "\n".join(response.css("section.listing__description p::text").getall()),
                    "price": response.css("dd.listing__price::text").get(),
                    "seller": response.css("dd.listing__seller::text").get(),
                    "location": response.css("dd.listing__location::text").get(),
                    "posted": response.css("dd.listing__posted::text").get(),
                }

        return Bare


COMMON = {
    "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": True, "LOG_LEVEL": "ERROR", "TELNETCONSOLE_ENABLED": False,
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
}


def run_bare(start: str, out: str) -> None:
    from scrapy.crawler import CrawlerProcess

    process = CrawlerProcess({**COMMON, "FEEDS": {out: {"format": "jsonlines", "encoding": "utf-8"}}})
    crawler = process.create_crawler(BareSpider.make())
    process.crawl(crawler, start=start)
    process.start()
    print(json.dumps({k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, (int, float))}))


def bench_data(n: int, out: Path) -> Path:
    """``n`` listings made from the shipped en_market ones (new ids), in a demo data dir."""
    shipped = json.loads((ROOT / "demo" / "sites" / "en_market" / "listings.json").read_text("utf-8"))
    rows = [{**shipped[i % len(shipped)], "id": str(100000 + i)} for i in range(n)]
    (out / "en_market").mkdir(parents=True, exist_ok=True)
    (out / "en_market" / "listings.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return out


def bench_profile(out: Path) -> Path:
    text = (ROOT / "crawlers" / "profiles" / "en_market.yaml").read_text("utf-8")
    start, end = text.index("search:"), text.index("listing:")
    text = text[:start] + text[end:]  # start pages only, like the bare spider
    text = text.replace("politeness: {download_delay: 0, concurrency: 8}",
                        "politeness: {download_delay: 0, concurrency: 8, autothrottle: false}")
    text = text.replace("max_pages: 2000", "max_pages: 100000")
    path = out / "en_market.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def one_wildwatch(url: str, profile: Path, tmp: Path, i: int) -> tuple[float, int]:
    db = tmp / f"ww{i}.db"
    env = {**os.environ, "COLUMNS": "200", "WILDWATCH_CONTACT": "bench@localhost"}
    subprocess.run([sys.executable, "-m", "pipeline", "--db", f"sqlite:///{db}", "db", "upgrade"],
                   check=True, capture_output=True, env=env)
    subprocess.run([sys.executable, "-m", "pipeline", "--db", f"sqlite:///{db}", "crawl", str(profile),
                    "--base-url", url], check=True, capture_output=True, env=env)
    import sqlite3

    stats = json.loads(sqlite3.connect(db).execute("select stats from crawl_run").fetchone()[0])
    items = int(stats.get("wildwatch/stored/new", 0))
    return stats["response_received_count"] / stats["elapsed_time_seconds"], items


def one_bare(url: str, tmp: Path, i: int) -> tuple[float, int]:
    out = tmp / f"bare{i}.jsonl"
    proc = subprocess.run([sys.executable, __file__, "--bare", url + "/browse", str(out)], check=True, capture_output=True,
                          text=True)
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    items = sum(1 for _ in out.open(encoding="utf-8")) if out.exists() else 0
    assert items == stats.get("item_scraped_count"), (items, stats.get("item_scraped_count"))
    return stats["response_received_count"] / stats["elapsed_time_seconds"], items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listings", type=int, default=600)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bare", nargs=2, metavar=("START_URL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        run_bare(*args.bare)
        return
    from demo.server import DemoSites

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data, profile = bench_data(args.listings, tmp / "data"), bench_profile(tmp)
        with DemoSites(data_dir=data, names=("en_market",)) as sites:
            url = sites.urls["en_market"]
            ww, bare = [], []
            for i in range(args.runs):
                t0 = time.monotonic()
                rate, items = one_wildwatch(url, profile, tmp, i)
                ww.append(rate)
                print(f"run {i + 1}: wildwatch {rate:7.1f} pages/s ({items} listings stored)", flush=True)
                rate, items = one_bare(url, tmp, i)
                bare.append(rate)
                print(f"run {i + 1}: bare      {rate:7.1f} pages/s ({items} items)   [{time.monotonic() - t0:.0f} s]",
                      flush=True)
    m_ww, m_bare = statistics.median(ww), statistics.median(bare)
    print(f"\nmedian of {args.runs} runs, {args.listings} listings: wildwatch {m_ww:.1f} pages/s, "
          f"bare Scrapy {m_bare:.1f} pages/s")
    print(f"ratio wildwatch / bare = {m_ww / m_bare:.2f}  (target >= 0.6)")


if __name__ == "__main__":
    main()
