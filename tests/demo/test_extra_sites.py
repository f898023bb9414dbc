"""The JSON-API site, the forum and the hostile site answer as documented in their modules."""

import json
import time
from urllib.parse import quote

import pytest
from parsel import Selector

from demo.hostile import BAD, DUPLICATES, MANGLED, TRANSIENT
from demo.server import EXTRA_SITES, DemoSites
from tests.demo import fetch


@pytest.fixture(scope="module")
def extra():
    with DemoSites(names=EXTRA_SITES) as sites:
        yield sites


def test_shipped_data_is_well_formed():
    from demo.server import DATA_DIR

    for site in ("vi_api", "hostile"):
        rows = json.loads((DATA_DIR / site / "listings.json").read_text("utf-8"))
        assert len({r["id"] for r in rows}) == len(rows) >= 16
        assert all(r["label"] in ("positive", "negative") and r["category"] and r["kind"] for r in rows)
        assert {r["label"] for r in rows} == {"positive", "negative"}
    forum = json.loads((DATA_DIR / "zh_forum" / "forum.json").read_text("utf-8"))
    posts = [p for t in forum["threads"] for p in t["posts"]]
    assert len({p["pid"] for p in posts}) == len(posts) >= 40
    assert max(len(t["posts"]) for t in forum["threads"]) > 5  # some threads span pages


def test_api_pages_ids_and_follows_its_next_links(extra):
    base, app = extra.urls["vi_api"], extra.apps["vi_api"]
    url, seen = base + "/api/v1/tin?page=1", []
    while url:
        status, headers, body = fetch(url)
        assert status == 200 and headers["Content-Type"].startswith("application/json")
        data = json.loads(body)["data"]
        seen += [x["id"] for x in data["items"]]
        url = base + data["trang_sau"] if data["trang_sau"] else None
    assert seen == [x["id"] for x in app.listings]
    detail = json.loads(fetch(base + "/api/v1/tin/3002")[2])["tin"]
    assert detail["nguoi_ban"]["ten"] == "Hoàng Long" and "ngà voi" in detail["mo_ta"]
    assert fetch(base + "/api/v1/tin/1")[0] == 404
    hits = json.loads(fetch(base + "/api/v1/tim-kiem?q=" + quote("mật gấu"))[2])["data"]["items"]
    assert {x["id"] for x in hits} == {"3006", "3025"}
    assert b"<div id=\"app\"" in fetch(base + "/")[2]  # the HTML itself has no listings


def test_forum_boards_threads_and_paginated_posts(extra):
    base, app = extra.urls["zh_forum"], extra.apps["zh_forum"]
    index = Selector(fetch(base + "/forum.php")[2].decode())
    assert index.css("div.fl_g dt a::attr(href)").getall() == ["forum-2-1.html", "forum-36-1.html", "forum-41-1.html"]
    board = Selector(fetch(base + "/forum-2-1.html")[2].decode())
    assert len(board.css("tbody[id^=normalthread_]")) == 4 and board.css("a.nxt::attr(href)").get() == "forum-2-2.html"
    page2 = Selector(fetch(base + "/thread-1388-2-1.html")[2].decode())
    assert [p.attrib["id"] for p in page2.css("div[id^=post_]")] == ["post_32166", "post_32171", "post_32190"]
    assert page2.css("a[id^=postnum] em::text").getall() == ["6", "7", "8"]
    quoted = Selector(fetch(base + "/thread-1388-1-1.html")[2].decode()).css("div#post_32131 div.quote")
    assert quoted and "南山居士" in quoted.get()
    assert fetch(base + "/thread-1388-3-1.html")[0] == 404
    assert len(app.listings) == sum(len(t["posts"]) for t in app.threads)


def test_hostile_pages_are_hostile(extra):
    base, app = extra.urls["hostile"], extra.apps["hostile"]
    status, headers, body = fetch(base + "/list?p=1")
    assert status == 200 and headers["Content-Type"] == "text/html" and b"charset" not in body.lower()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert app.listings[0]["title"] in body.decode("gbk")
    assert fetch(base + BAD["empty"])[:1] == (200,) and fetch(base + BAD["empty"])[2] == b""
    assert fetch(base + BAD["server_error"])[0] == 500
    assert fetch(base + "/list?p=99")[2] == b""  # past the end: an empty 200
    i429 = next(i for i, s in TRANSIENT.items() if s == 429)
    path = app.detail_path(app.listings[i429])
    status, headers, _ = fetch(base + path)
    assert (status, headers["Retry-After"]) == (429, "1")
    assert fetch(base + path)[0] == 200  # then it answers
    mangled = Selector(fetch(base + app.detail_path(app.listings[MANGLED]))[2].decode("gbk"))
    assert mangled.css("h3.gt::text").get() == app.listings[MANGLED]["title"]
    dup = app.listings[DUPLICATES[0]]
    assert dup["title"] in fetch(base + f"/item.php?id={dup['id']}")[2].decode("gbk")
    cal = Selector(fetch(base + "/calendar?month=2026-11")[2].decode("gbk"))
    assert cal.css("div.nav a::attr(href)").getall() == ["/calendar?month=2026-10", "/calendar?month=2026-12"]
    t0 = time.monotonic()
    status, _, body = fetch(base + BAD["huge"])
    assert status == 200 and len(body) >= 20 * 1024 * 1024 and time.monotonic() - t0 < 30
