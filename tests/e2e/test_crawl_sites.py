"""Crawls of the JSON-API site, the forum and the hostile site, by profile only, through the CLI.

The demo sites run in this process (their request log is asserted on); each crawl runs in a
subprocess, as a user runs it.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from sqlalchemy import func, select

from demo.hostile import BAD
from demo.server import ALL_SITES, DemoSites
from pipeline.db import Database
from pipeline.models import CrawlRun, Listing, Site, Snapshot
from tests.e2e.test_demo import wildwatch

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sites():
    with DemoSites(names=ALL_SITES) as sites:
        yield sites


def listings_of(db_url: str, site: str) -> dict[str, Listing]:
    db = Database(db_url)
    with db.session() as session:
        rows = session.scalars(select(Listing).join(Site).where(Site.name == site)).all()
        out = {row.external_id: row for row in rows}
    db.dispose()
    return out


def last_run(db_url: str, site: str) -> CrawlRun:
    db = Database(db_url)
    with db.session() as session:
        run = session.scalars(select(CrawlRun).join(Site).where(Site.name == site).order_by(CrawlRun.id.desc())).first()
    db.dispose()
    return run


def test_json_api_site_and_forum_are_crawled_by_profiles_alone(sites, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'w.db'}"
    wildwatch(db_url, "crawl", "vi_api", "--base-url", sites.urls["vi_api"])
    wildwatch(db_url, "crawl", "zh_forum", "--base-url", sites.urls["zh_forum"])

    api = listings_of(db_url, "vi_api")
    expected = {x["id"]: x for x in sites.apps["vi_api"].listings}
    assert set(api) == set(expected)
    for lid, x in expected.items():
        got = api[lid]
        assert (got.title, got.text, got.seller, got.location, got.price_raw) == (
            x["title"], x["text"], x["seller"], x["location"], x["price"] or None)
    assert api["3003"].price_value == 13_500_000 and api["3003"].price_currency == "VND"
    assert api["3002"].posted_at is not None  # "hôm qua"

    posts = listings_of(db_url, "zh_forum")
    forum = sites.apps["zh_forum"]
    assert set(posts) == {p["pid"] for p in forum.listings}  # every post of every page of every thread
    for p in forum.listings:
        got = posts[p["pid"]]
        thread = got.extras["thread"]
        assert (thread["id"], thread["post_no"], got.title) == (p["tid"], p["post_no"], p["thread_title"])
        assert thread["url"].endswith(f"/thread-{p['tid']}-1-1.html")
        assert thread["page"] == (p["post_no"] - 1) // 5 + 1
        assert (got.seller, got.location) == (p["author"], p["from"])
        assert got.text == "\n".join(line for line in p["text"].split("\n") if line.strip())  # quotes left out
    assert posts["32131"].extras["thread"]["first_post"] is False
    run = last_run(db_url, "zh_forum")
    assert run.stats["finish_reason"] == "finished" and run.errors == 0
    assert run.stats["wildwatch/full_crawl"] is True


def test_hostile_site_keeps_every_good_listing_within_its_budget_and_reports_each_failure(sites, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'w.db'}"
    start = len(sites.requests)
    proc = wildwatch(db_url, "crawl", "hostile", "--base-url", sites.urls["hostile"])
    assert "Traceback" not in proc.stderr
    fetched = [r for r in sites.requests[start:] if r.site == "hostile" and r.path != "/robots.txt"]

    good = {x["id"]: x for x in sites.apps["hostile"].listings}
    stored = listings_of(db_url, "hostile")
    assert set(stored) == set(good)  # 429, 500, slow, mangled and duplicated listings included
    for lid, x in good.items():
        assert (stored[lid].title, stored[lid].seller, stored[lid].price_raw) == (x["title"], x["seller"], x["price"])
    db = Database(db_url)
    with db.session() as session:  # duplicates under other URLs: one listing, one snapshot each
        assert session.scalar(select(func.count()).select_from(Snapshot)) == len(good)
    db.dispose()

    run = last_run(db_url, "hostile")
    failures = {k.split("/", 2)[2]: v for k, v in run.stats.items() if k.startswith("wildwatch/failures/")}
    assert {
        "too_large", "empty_body", "http_500", "http_404", "timeout", "redirect_loop", "trap_redirect_loop",
        "trap_calendar", "trap_repeating_path", "robots_forbidden",
    } <= set(failures), failures
    assert run.stats["finish_reason"] == "finished" and run.status.value == "finished"
    assert run.stats["wildwatch/retry/retry_after"] >= 1
    assert len(fetched) <= 150  # the profile's max_pages
    assert not any(r.path == BAD["robots"] for r in fetched)  # robots.txt obeyed
    calendar = [r for r in fetched if r.path.startswith("/calendar")]
    assert 1 < len(calendar) <= 13
    assert max(r.path.count("a/") for r in fetched if r.path.startswith("/shop/")) <= 3
    print(f"\nhostile: {len(fetched)} fetches, {len(stored)} listings, failures {failures}")


def test_a_small_page_budget_is_never_exceeded(sites, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'w.db'}"
    start = len(sites.requests)
    wildwatch(db_url, "crawl", "hostile", "--base-url", sites.urls["hostile"], "--max-pages", "8")
    fetched = [r for r in sites.requests[start:] if r.site == "hostile" and r.path != "/robots.txt"]
    assert len(fetched) <= 8
    run = last_run(db_url, "hostile")
    assert run.stats["wildwatch/budget/exhausted"] is True and run.stats["finish_reason"] == "finished"
    assert run.stats["wildwatch/full_crawl"] is False


def test_incremental_crawls_keep_history_mark_removed_and_export_verifiable_evidence(tmp_path):
    from tests.demo.conftest import make_listings

    data = tmp_path / "data"
    (data / "en_market").mkdir(parents=True)
    listings = make_listings("en_market")
    write = lambda rows: (data / "en_market" / "listings.json").write_text(json.dumps(rows), encoding="utf-8")
    db_url = f"sqlite:///{tmp_path / 'w.db'}"

    def crawl(rows):
        write(rows)
        with DemoSites(data_dir=data, names=("en_market",)) as sites:
            wildwatch(db_url, "crawl", "en_market", "--base-url", sites.urls["en_market"])
        return listings_of(db_url, "en_market"), last_run(db_url, "en_market")

    first, run1 = crawl(listings)
    assert len(first) == len(listings) and run1.stats["wildwatch/full_crawl"] is True
    changed = [dict(x) for x in listings[:-1]]
    changed[3]["text"] += "\nPrice dropped, must go this week."
    second, run2 = crawl(changed)
    gone, edited = listings[-1]["id"], changed[3]["id"]
    assert second[gone].removed_at is not None and second[gone].removed_reason == "not_listed"
    assert run2.stats["wildwatch/stored/changed"] == 1
    assert run2.stats["wildwatch/stored/unchanged"] == len(changed) - 1  # not re-stored
    assert run2.stats["wildwatch/removed/not_listed"] == 1
    assert second[edited].first_seen == first[edited].first_seen and second[edited].last_seen > first[edited].last_seen
    third, run3 = crawl(listings)  # the seller put it back
    assert third[gone].removed_at is None and run3.stats["wildwatch/stored/reappeared"] == 1

    out = tmp_path / "case"
    proc = cli(db_url, "evidence", str(second[edited].id), "--out", str(out))
    assert proc.exit_code == 0 and "sha256sum -c" in proc.stdout
    snapshots = sorted(out.glob("snapshot-*.html"), key=lambda p: int(p.name.split("-")[1]))
    assert len(snapshots) == 3  # the history: as first seen, after the edit, after the edit was undone
    assert [b"Price dropped" in s.read_bytes() for s in snapshots] == [False, True, False]
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == 4  # three snapshots and listing.json
    meta = json.loads((out / "listing.json").read_text("utf-8"))
    assert [s["sha256"] for s in meta["snapshots"]] == [
        re.split(r"\s+", line)[0] for line in (out / "SHA256SUMS").read_text().splitlines()[:3]
    ]
    snapshots[0].write_bytes(snapshots[0].read_bytes() + b" ")  # tampering is caught
    assert subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True).returncode != 0
    missing = cli(db_url, "evidence", "99999", "--out", str(tmp_path / "x"))
    assert missing.exit_code == 1 and "no listing with id 99999" in missing.stderr


def cli(db_url: str, *args: str):  # noqa: ANN201 - click Result
    """The CLI in this process (commands that run no Scrapy reactor)."""
    from typer.testing import CliRunner

    from pipeline.cli import app

    return CliRunner().invoke(app, ["--db", db_url, *args], env={"COLUMNS": "200"})


def test_profile_check_shows_what_each_selector_extracted(sites, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'w.db'}"
    proc = cli(db_url, "profile", "check", "zh_forum", "--base-url", sites.urls["zh_forum"])
    assert proc.exit_code == 0, proc.output
    assert "detail.fields.seller" in proc.stdout and "茶馆小二" in proc.stdout
    assert "forum-2-1.html" in proc.stdout  # went down from the board index
    bad = cli(db_url, "profile", "check", "en_market", "--base-url", sites.urls["zh_market"])
    assert bad.exit_code == 1 and "matched nothing" in bad.output
    assert bad.exception is None or isinstance(bad.exception, SystemExit)


def test_gone_detail_pages_mark_listings_removed(db):
    from datetime import datetime, timezone

    from crawlers.items import GoneItem
    from pipeline.ingest import get_or_create_site, mark_gone, store_item
    from tests.pipeline.factories import item

    with db.session() as session:
        site = get_or_create_site(session, "s1")
        listing_id = store_item(session, site, item("42")).listing_id
        gone = GoneItem("s1", "http://127.0.0.1/item/42", "42", 410, datetime.now(timezone.utc))
        assert mark_gone(session, site, gone) == listing_id
        assert mark_gone(session, site, GoneItem("s1", "http://x/9", "9", 404)) is None
    with db.session() as session:
        listing = session.get(Listing, listing_id)
        assert listing.removed_reason == "http_410" and listing.removed_at is not None
        site = get_or_create_site(session, "s1")
        assert store_item(session, site, item("42")).outcome.value == "reappeared"
    with db.session() as session:
        assert session.get(Listing, listing_id).removed_at is None
