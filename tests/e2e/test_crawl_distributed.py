"""Distributed crawls on the real Redis (127.0.0.1:6379), and Scrapyd started on 127.0.0.1 by the test.

Every test uses its own crawl id, so its keys (``wildwatch:<crawl id>:*``) never collide with
another run's; the keys are deleted afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest
from sqlalchemy import func, select

from demo.server import DemoSites
from pipeline.db import Database
from pipeline.models import Listing, Snapshot
from tests.conftest import ROOT
from tests.e2e.test_demo import wildwatch

pytestmark = pytest.mark.slow
REDIS_URL = os.environ.get("WILDWATCH_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_crawl_id():
    redis = pytest.importorskip("redis")
    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except redis.ConnectionError:
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    crawl_id = f"test-{uuid.uuid4().hex[:10]}"
    yield crawl_id
    keys = list(server.scan_iter(f"wildwatch:{crawl_id}:*"))
    if keys:
        server.delete(*keys)


def crawl_cmd(db_url: str, site: str, base_url: str, crawl_id: str, profile: str | None = None) -> list[str]:
    return [sys.executable, "-m", "pipeline", "--db", db_url, "crawl", profile or site, "--base-url", base_url,
            "--distributed", crawl_id, "--redis-url", REDIS_URL]


def counts(db_url: str) -> tuple[int, int, int]:
    db = Database(db_url)
    with db.session() as session:
        n_listings = session.scalar(select(func.count()).select_from(Listing))
        n_ids = session.scalar(select(func.count(func.distinct(Listing.external_id))))
        n_snaps = session.scalar(select(func.count()).select_from(Snapshot))
    db.dispose()
    return n_listings, n_ids, n_snaps


def detail_fetches(sites: DemoSites, name: str, since: int = 0) -> Counter:
    site = sites.apps[name].site
    return Counter(r.path for r in sites.requests[since:] if r.site == name and site.detail_id(r.path))


def slow_profile(tmp_path: Path, delay: float) -> Path:
    """A slower copy of the zh_market profile: a crawl that lasts long enough to share or to kill."""
    text = (ROOT / "crawlers" / "profiles" / "zh_market.yaml").read_text("utf-8")
    profile = tmp_path / "zh_market.yaml"
    profile.write_text(
        text.replace("politeness: {download_delay: 0, concurrency: 8}",
                     f"politeness: {{download_delay: {delay}, concurrency: 2, autothrottle: false}}"),
        encoding="utf-8",
    )
    return profile


def test_two_workers_share_one_crawl_and_fetch_every_listing_once(tmp_path, redis_crawl_id):
    db_url = f"sqlite:///{tmp_path / 'w.db'}"
    Database(db_url).engine  # migrate once, before two processes race to
    profile = str(slow_profile(tmp_path, 0.05))
    with DemoSites(names=("zh_market",)) as sites:
        env = {**os.environ, "WILDWATCH_DISTRIBUTED_IDLE_MAX": "20"}
        procs = [
            subprocess.Popen(crawl_cmd(db_url, "zh_market", sites.urls["zh_market"], redis_crawl_id, profile), env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        fetched = detail_fetches(sites, "zh_market")
        listings = sites.apps["zh_market"].listings
    expected = {sites.apps["zh_market"].site.detail_path(x) for x in listings}
    assert set(fetched) - {"/item/999999.html"} == expected  # none missing
    assert {path: n for path, n in fetched.items() if n != 1 and path != "/item/999999.html"} == {}  # once each
    assert counts(db_url) == (len(listings), len(listings), len(listings))
    db = Database(db_url)
    with db.session() as session:  # both workers did part of the work, each recorded its own run
        from pipeline.models import CrawlRun

        runs = session.scalars(select(CrawlRun)).all()
        assert len(runs) == 2 and {r.crawl_id for r in runs} == {redis_crawl_id}
        assert all(r.items > 0 for r in runs), [r.items for r in runs]
        per_listing = {n for path, n in fetched.items() if path != "/item/999999.html"}
        print(f"\ndistributed: items per worker {[r.items for r in runs]}, fetches per listing {per_listing}")
    db.dispose()


def test_a_crawl_killed_with_sigkill_resumes_from_the_redis_frontier(tmp_path, redis_crawl_id):
    db_url = f"sqlite:///{tmp_path / 'w.db'}"
    Database(db_url).engine
    profile = slow_profile(tmp_path, 0.15)  # so that there is a "midway" to kill it at
    env = {**os.environ, "WILDWATCH_WORKER_TTL": "2", "WILDWATCH_DISTRIBUTED_IDLE_MAX": "20"}
    with DemoSites(names=("zh_market",)) as sites:
        cmd = crawl_cmd(db_url, "zh_market", sites.urls["zh_market"], redis_crawl_id, str(profile))
        first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while counts(db_url)[0] < 20 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.2)
        first.send_signal(signal.SIGKILL)
        first.wait()
        stored_at_kill = counts(db_url)[0]
        fetched_before = detail_fetches(sites, "zh_market")
        assert 0 < stored_at_kill < 72, "the crawl must be killed midway"

        # The same crawl id resumes it (at full speed: the profile's pace is not part of the frontier).
        cmd = crawl_cmd(db_url, "zh_market", sites.urls["zh_market"], redis_crawl_id)
        resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr
        fetched = detail_fetches(sites, "zh_market")
        listings = sites.apps["zh_market"].listings
    n = len(listings)
    assert counts(db_url) == (n, n, n)  # none lost, none duplicated (one snapshot each)
    refetched = {p: c for p, c in fetched.items() if c > 1 and p != "/item/999999.html"}
    # Only what the killed worker had in flight is fetched twice (concurrency 2, plus its retry).
    assert len(refetched) <= 4, refetched
    assert sum(fetched_before.values()) < sum(fetched.values())
    print(f"\nkill -9 after {stored_at_kill} listings; resumed to {n}; fetched twice: {sorted(refetched)}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str) -> dict:
    with urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def test_spiders_run_under_scrapyd_deployed_as_an_egg(tmp_path):
    pytest.importorskip("scrapyd")
    port = _free_port()
    conf = tmp_path / "scrapyd.conf"
    conf.write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        f"eggs_dir = {tmp_path / 'eggs'}\nlogs_dir = {tmp_path / 'logs'}\ndbs_dir = {tmp_path / 'dbs'}\n"
        "items_dir =\njobs_to_keep = 5\nmax_proc = 1\npoll_interval = 0.5\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "WILDWATCH_DB"}
    scrapyd = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    target = f"http://127.0.0.1:{port}"
    db_url = f"sqlite:///{tmp_path / 'w.db'}"
    try:
        for _ in range(100):
            try:
                _get_json(target + "/daemonstatus.json")
                break
            except OSError:
                time.sleep(0.2)
        deploy = wildwatch(db_url, "deploy", "--target", target, "--project", "wildwatch")
        assert "deployed wildwatch" in deploy.stdout and "spiders 1" in deploy.stdout
        from tests.demo.conftest import make_listings

        (tmp_path / "data" / "en_market").mkdir(parents=True)
        (tmp_path / "data" / "en_market" / "listings.json").write_text(json.dumps(make_listings("en_market")))
        (tmp_path / "no-keywords.txt").write_text("# start pages only\n")
        with DemoSites(names=("en_market",), data_dir=tmp_path / "data") as sites:
            query = urlencode([
                ("project", "wildwatch"), ("spider", "profile"), ("profile", "en_market"),
                ("base_url", sites.urls["en_market"]), ("keywords_file", str(tmp_path / "no-keywords.txt")),
                ("setting", f"WILDWATCH_DB={db_url}"),
            ])
            with urlopen(target + "/schedule.json", data=query.encode(), timeout=10) as r:
                job = json.loads(r.read())
            assert job["status"] == "ok", job
            for _ in range(600):
                jobs = _get_json(target + "/listjobs.json?project=wildwatch")
                if any(j["id"] == job["jobid"] for j in jobs.get("finished", [])):
                    break
                time.sleep(0.5)
            else:
                pytest.fail(f"Scrapyd job did not finish: {jobs}")
            n = len(sites.apps["en_market"].listings)
    finally:
        scrapyd.send_signal(signal.SIGTERM)
        scrapyd.wait(timeout=30)
    log = "\n".join(p.read_text("utf-8", "replace") for p in Path(tmp_path / "logs").rglob("*.log"))
    assert counts(db_url)[:2] == (n, n), log[-3000:]
