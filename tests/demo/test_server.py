import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from parsel import Selector

import demo
from demo.pages import SITE_CLASSES
from demo.server import BAD_PAGES, SITES, DemoSites, RequestRecord
from tests.demo import fetch

HREF = re.compile(r'href="([^"]+)"')


def walk(sites, name, path):
    """Follow the next links from ``path``; return the detail paths in the order seen."""
    site, seen, page = SITE_CLASSES[name](), [], 1
    while True:
        status, _, body = fetch(sites.urls[name] + path)
        assert status == 200
        hrefs = [h.replace("&amp;", "&") for h in HREF.findall(body.decode(site.charset))]
        seen += [h for h in hrefs if site.detail_id(h) and h != site.pinned[0]]
        nxt = [h for h in hrefs if h.endswith(f"{site.page_param}={page + 1}")]
        if not nxt:
            return seen
        (path,), page = nxt, page + 1


@pytest.mark.parametrize("name", SITES)
def test_latest_pages_show_every_listing_once_in_file_order(any_sites, name):
    app = any_sites.apps[name]
    seen = walk(any_sites, name, app.site.latest)
    assert seen == [app.site.detail_path(x) for x in app.listings]
    pages = -(-len(app.listings) // app.site.per_page)
    assert fetch(any_sites.urls[name] + app.site.page_href(app.site.latest, pages + 1))[0] == 404


@pytest.mark.parametrize("name", SITES)
def test_every_detail_page_answers(any_sites, name):
    app = any_sites.apps[name]
    assert len({x["id"] for x in app.listings}) == len(app.listings)
    for listing in app.listings:
        status, _, body = fetch(any_sites.detail_url(name, listing))
        assert status == 200
        assert listing["id"] in body.decode("utf-8" if name != "zh_market" else "gbk")


def test_zh_market_is_gbk(sites):
    _, headers, body = fetch(sites.urls["zh_market"] + "/latest")
    assert headers["Content-Type"] == "text/html; charset=gbk"
    text = body.decode("gbk")
    assert '<meta charset="gbk">' in text and "下一页" in text
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    # no emoji in GBK: a character reference that every parser turns back into the emoji
    _, _, body = fetch(sites.detail_url("zh_market", sites.apps["zh_market"].listings[1]))
    assert "&#128024;" in body.decode("gbk")
    assert Selector(body.decode("gbk")).css("h1::text").get() == "老料白货手镯🐘"


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_zh_search_accepts_gbk_and_utf8_queries(sites, encoding):
    _, _, body = fetch(sites.urls["zh_market"] + "/search?q=" + quote("象牙", encoding=encoding))
    assert HREF.findall(body.decode("gbk")).count("/item/2002.html") == 1
    # more than one page of results: the next link carries the query (in GBK, like the form)
    seen = walk(sites, "zh_market", "/search?q=" + quote("二手物品", encoding=encoding))
    assert len(seen) == len(set(seen)) == 20
    assert f"q={quote('二手物品', encoding='gbk')}&amp;page=2" in fetch(
        sites.urls["zh_market"] + "/search?q=" + quote("二手物品")
    )[2].decode("gbk")


@pytest.mark.parametrize(
    "name, query, hits",
    [
        ("vi_classifieds", "ngà voi", ["/tin/vong-nga-voi-hang-xua-2001.html"]),
        (
            "vi_classifieds",
            "NGÀ",
            ["/tin/vong-nga-voi-hang-xua-2001.html", "/tin/dam-mau-nga-size-m-2002.html"],
        ),
        ("en_market", "ivory", ["/listing/2001", "/listing/2002"]),
        ("en_market", "nothing like this", []),
    ],
)
def test_search(sites, name, query, hits):
    site = SITE_CLASSES[name]()
    assert walk(sites, name, site.search + "?q=" + quote(query)) == hits


@pytest.mark.parametrize("name", SITES)
def test_listing_content_is_escaped(sites, name):
    charset = SITE_CLASSES[name].charset
    hostile = sites.apps[name].listings[0]
    for url in (sites.urls[name] + SITE_CLASSES[name].latest, sites.detail_url(name, hostile)):
        text = fetch(url)[2].decode(charset)
        assert "<script" not in text and "<b>bold" not in text
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
        page = Selector(text)
        assert not page.css("script") and not page.xpath("//b[. = 'bold']")
    assert page.css("h1::text").get() == hostile["title"]


@pytest.mark.parametrize("name", SITES)
def test_server_error_page_is_linked_from_page_one(sites, name):
    site = SITE_CLASSES[name]()
    url = sites.bad_urls[name]["server_error"]
    assert (
        url
        == sites.urls[name] + BAD_PAGES[name]["server_error"]
        == sites.urls[name] + site.pinned[0]
    )
    assert fetch(url)[0] == 500
    assert site.detail_id(site.pinned[0])  # looks like any other detail page
    assert site.pinned[0] in fetch(sites.urls[name] + site.latest)[2].decode(site.charset)
    assert site.pinned[0] not in fetch(sites.urls[name] + site.page_href(site.latest, 2))[2].decode(
        site.charset
    )


def test_zh_broken_html_still_has_its_fields(sites):
    listing = sites.apps["zh_market"].listings[BAD_PAGES["zh_market"]["broken_html"]]
    status, _, body = fetch(sites.bad_urls["zh_market"]["broken_html"])
    text = body.decode("gbk")
    assert status == 200
    assert "</body>" not in text and "</html>" not in text and "</div></div>" in text
    page = Selector(text)
    assert page.css("h1.item-title::text").get() == listing["title"]
    assert page.css("span.seller-name::text").get() == listing["seller"]
    assert page.css("div.desc ::text").getall() == ["自提，广州天河", "桌面有划痕"]


def test_vi_page_lies_about_its_charset(sites):
    listing = sites.apps["vi_classifieds"].listings[BAD_PAGES["vi_classifieds"]["wrong_charset"]]
    status, headers, body = fetch(sites.bad_urls["vi_classifieds"]["wrong_charset"])
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=iso-8859-1"
    assert '<meta charset="iso-8859-1">' in body.decode("utf-8")
    assert listing["title"] in body.decode("utf-8")
    assert listing["title"] not in body.decode("iso-8859-1")
    # the other detail pages tell the truth
    other = sites.detail_url("vi_classifieds", sites.apps["vi_classifieds"].listings[5])
    assert fetch(other)[1]["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize("name", SITES)
def test_robots_and_unknown_paths(sites, name):
    site, base = SITE_CLASSES[name](), sites.urls[name]
    status, headers, body = fetch(base + "/robots.txt")
    assert (status, body) == (200, b"User-agent: *\nDisallow: /admin/\n")
    assert headers["Content-Type"].startswith("text/plain")
    for path in (
        "/admin/",
        "/nope",
        site.detail_path({"id": "123", "title": "x"}),
        site.page_href(site.latest, 0),
        f"{site.latest}?{site.page_param}=x",
    ):
        assert fetch(base + path)[0] == 404, path
    assert fetch(base + "/")[0] == 200


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_request_log_and_fixed_ports(data_dir):
    port = free_port()
    with DemoSites(ports={"en_market": port}, data_dir=data_dir) as sites:
        assert sites.urls["en_market"] == f"http://127.0.0.1:{port}"
        fetch(sites.urls["en_market"] + "/browse?page=2")
        fetch(sites.urls["zh_market"] + "/nope", method="HEAD")
        fetch(sites.urls["vi_classifieds"] + "/tin/loi-he-thong-999999.html")
        log = [(r.site, r.method, r.path, r.status) for r in sites.requests]
        assert log == [
            ("en_market", "GET", "/browse?page=2", 200),
            ("zh_market", "HEAD", "/nope", 404),
            ("vi_classifieds", "GET", "/tin/loi-he-thong-999999.html", 500),
        ]
        assert all(isinstance(r, RequestRecord) and r.time > 0 for r in sites.requests)
    with pytest.raises(OSError):  # stopped
        fetch(sites.urls["en_market"] + "/")


def test_missing_data_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="listings.json"):
        DemoSites(data_dir=tmp_path)


def test_python_m_demo_prints_urls(data_dir):
    proc = subprocess.Popen(
        [sys.executable, "-m", "demo", "--port-base", "0", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(demo.__file__).parents[1],
    )
    try:
        lines = [proc.stdout.readline().split() for _ in SITES]
        assert [name for name, _ in lines] == list(SITES)
        assert all(fetch(url + "/robots.txt")[0] == 200 for _, url in lines)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
