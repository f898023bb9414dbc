"""The whole pipeline as a user runs it: real demo sites, real Scrapy crawls, a real database.

Each crawl runs in a subprocess (Twisted's reactor runs once per process), as the CLI does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from demo.server import DEMO_SITES, SITES, DemoSites
from pipeline.db import Database
from pipeline.models import CrawlRun, Listing, Site, Snapshot
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
MODEL = ROOT / "models" / "default"


def wildwatch(db_url: str, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pipeline", "--db", db_url, *args]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "200", **(env or {})}
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def stats(db_url: str) -> dict:
    return json.loads(wildwatch(db_url, "stats", "--json").stdout)


def test_demo_fills_the_database_and_queue_and_a_rerun_duplicates_nothing(db_url: str) -> None:
    run = wildwatch(db_url, "demo", "--exit", "--port-base", "0", env={"WILDWATCH_MODEL": str(MODEL)})
    assert "Wildwatch demo" in run.stdout and "review queue" in run.stdout
    first = stats(db_url)
    assert set(first["listings_by_site"]) == set(DEMO_SITES)
    assert all(first["listings_by_site"][site] >= 60 for site in SITES), first  # the three marketplaces
    assert first["predictions"] == first["listings"]
    assert first["review_items_by_state"]["pending"] > 0
    assert first["flagged"] == first["review_items"]

    wildwatch(db_url, "demo", "--exit", "--port-base", "0", env={"WILDWATCH_MODEL": str(MODEL)})
    second = stats(db_url)
    for key in ("listings", "snapshots", "predictions", "review_items"):
        assert second[key] == first[key], key
    assert second["crawl_runs"] == 2 * first["crawl_runs"]

    # The bad pages were met, reported by kind, and did not stop the crawl.
    db = Database(db_url)
    with db.session() as session:
        first_runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id).limit(len(DEMO_SITES)))
        runs = {r.site.name: r for r in first_runs if r.site.name in SITES}
        assert {name: r.stats.get("wildwatch/failures/http_500") for name, r in runs.items()} == dict.fromkeys(SITES, 1)
        assert runs["vi_classifieds"].stats.get("wildwatch/encoding_fixed", 0) >= 1
        assert all(r.finish_reason == "finished" for r in runs.values())
    db.dispose()


def test_listings_are_stored_before_scoring_and_rescore_scores_them_later(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'w.db'}"
    with DemoSites() as sites:
        wildwatch(db_url, "crawl", "en_market", "--base-url", sites.urls["en_market"])
    assert stats(db_url)["listings"] >= 60 and stats(db_url)["predictions"] == 0

    tampered = tmp_path / "tampered"
    shutil.copytree(MODEL, tampered)
    meta = json.loads((tampered / "meta.json").read_text())
    victim = next(iter(meta["files"]))
    with open(tampered / victim, "ab") as f:
        f.write(b"\0")
    bad = wildwatch(db_url, "rescore", "--model", str(tampered), check=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "sha256" in bad.stderr
    assert stats(db_url)["predictions"] == 0

    wildwatch(db_url, "rescore", "--model", str(MODEL))
    after = stats(db_url)
    assert after["predictions"] == after["listings"] and after["flagged"] > 0


def test_gbk_site_text_is_stored_as_proper_unicode_and_evidence_is_raw(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'w.db'}"
    with DemoSites() as sites:
        wildwatch(db_url, "crawl", "zh_market", "--base-url", sites.urls["zh_market"])
        listings = json.loads((ROOT / "demo" / "sites" / "zh_market" / "listings.json").read_text("utf-8"))
    db = Database(db_url)
    with db.session() as session:
        stored = {l.external_id: l for l in session.scalars(select(Listing))}
        for expected in listings:
            assert stored[expected["id"]].title == expected["title"]
        snap = session.scalar(select(Snapshot).limit(1))
        assert "gbk" in snap.headers.get("Content-Type", "").lower()
        assert session.scalar(select(Site.name)) == "zh_market"
    db.dispose()
