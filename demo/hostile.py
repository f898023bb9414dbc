"""hostile — "淘货铺": a Chinese marketplace that does everything a crawler hates.

Every HTML page is GBK and says so nowhere (no charset in Content-Type, no <meta>); the markup
is sloppy (unclosed cells and rows, one page with tags mangled on purpose). Page 1 of the list
links, besides good listings, to the traps below; the nav bar leads into an endless calendar and
a shop directory whose relative links pile up. Listings with a transient problem (one 429 with
Retry-After, one 500, a slow answer) are good listings: a crawl must end up storing them.

=================================  ===========================================================
``/goods/9001.html``               20 MB (streamed, no Content-Length)
``/goods/9002.html``               200 with an empty body
``/goods/9003.html``               always 500
``/goods/9004.html``               302 → 9005 → 302 → 9004: a redirect loop
``/goods/9006.html``               302 → ?hop=1 → ?hop=2 → …: an endless redirect chain
``/goods/9007.html``               answers after 4 s (longer than the profile's timeout)
``/goods/9008.html``               404: a listing taken down
``/calendar?month=YYYY-MM``        every month links to the next and the previous one, forever
``/shop/a/``                       links to ``a/``: /shop/a/a/, /shop/a/a/a/ …
``/list?p=4``                      200 with an empty body (past the last page)
=================================  ===========================================================

``TRANSIENT`` positions in ``listings.json`` (0-based) answer 429 (Retry-After: 1) or 500 on the
first request, then normally; ``SLOW`` answers after 1.5 s; ``MANGLED`` has broken markup;
``DUPLICATES`` are also linked as ``/goods/<id>.html?from=hot`` and ``/item.php?id=<id>``.
"""

import re
import threading
from datetime import date
from html import escape as e
from urllib.parse import parse_qs, urlsplit

from demo.reply import Reply

ROBOTS = "User-agent: *\nDisallow: /admin/\n"
PER_PAGE = 6
BAD = {
    "huge": "/goods/9001.html",
    "empty": "/goods/9002.html",
    "server_error": "/goods/9003.html",
    "redirect_loop": "/goods/9004.html",
    "redirect_chain": "/goods/9006.html",
    "hang": "/goods/9007.html",
    "gone": "/goods/9008.html",
    "robots": "/admin/goods/9009.html",
}
TRANSIENT = {2: 429, 5: 500}
SLOW = {7: 1.5}
MANGLED = 3
DUPLICATES = (1, 4)
HANG_SECONDS = 4.0
HUGE_BYTES = 20 * 1024 * 1024
TODAY = date(2026, 11, 29)


def gbk(text):
    return text.encode("gbk", "xmlcharrefreplace")


class Hostile:
    name, title, charset = "hostile", "淘货铺", "gbk"
    detail_re = re.compile(r"/goods/(?P<id>\d+)\.html")

    def __init__(self, name, listings):
        self.listings = listings
        self.position = {x["id"]: i for i, x in enumerate(listings)}
        self._lock = threading.Lock()
        self._answered = {}  # path -> how many times a transient page was asked for

    def detail_path(self, listing):
        return f"/goods/{listing['id']}.html"

    def html(self, body, status=200):
        # No charset anywhere: not in the header, not in the page.
        return Reply(status, gbk(body), [("Content-Type", "text/html")])

    def __call__(self, raw_path):
        url = urlsplit(raw_path)
        path, query = url.path, parse_qs(url.query)
        if path == "/robots.txt":
            return Reply(200, ROBOTS.encode(), [("Content-Type", "text/plain")])
        if path == "/":
            return self.html('<html><body><h2>淘货铺</h2><a href="/list?p=1">全部宝贝</a></body></html>')
        if path == "/list":
            return self.index(query.get("p", ["1"])[0])
        if path == "/calendar":
            return self.calendar(query.get("month", [""])[0])
        if path.startswith("/shop/"):
            depth = path.count("a/")
            return self.html(
                f'<html><body><div class="nav"><a href="a/">分店{depth + 1}</a></div>'
                f"<p>本店第{depth}分店，宝贝见总店。</p></body></html>"
            )
        if path == "/item.php":
            i = self.position.get(query.get("id", [""])[0])
            return self.detail(i) if i is not None else self.html("<p>没有这个宝贝</p>", 404)
        return self.goods(path, query)

    def goods(self, path, query):
        if path == BAD["huge"]:
            filler = gbk("<p>" + "广告位招租，" * 100 + "</p>\n")
            n = HUGE_BYTES // len(filler) + 1
            head = gbk("<html><body><h3 class=gt>大甩卖</h3>")
            return Reply(200, head, [("Content-Type", "text/html")], chunks=(filler for _ in range(n)))
        if path == BAD["empty"]:
            return Reply(200, b"", [("Content-Type", "text/html")])
        if path == BAD["server_error"]:
            return self.html("<h1>500 服务器开小差了</h1>", 500)
        if path == BAD["redirect_loop"]:
            return Reply(302, b"", [("Location", "/goods/9005.html")])
        if path == "/goods/9005.html":
            return Reply(302, b"", [("Location", BAD["redirect_loop"])])
        if path == BAD["redirect_chain"]:
            hop = int(query.get("hop", ["0"])[0] or 0)
            return Reply(302, b"", [("Location", f"{BAD['redirect_chain']}?hop={hop + 1}")])
        if path == BAD["hang"]:
            return Reply(200, gbk("<p>终于</p>"), [("Content-Type", "text/html")], delay=HANG_SECONDS)
        m = self.detail_re.fullmatch(path)
        i = self.position.get(m.group("id")) if m else None
        if i is None:
            return self.html("<h1>404 宝贝已下架</h1>", 404)
        if i in TRANSIENT:
            with self._lock:
                n = self._answered[path] = self._answered.get(path, 0) + 1
            if n == 1:
                status = TRANSIENT[i]
                headers = [("Content-Type", "text/html"), ("Retry-After", "1")] if status == 429 else [("Content-Type", "text/html")]
                return Reply(status, gbk(f"<h1>{status} 请稍后再试</h1>"), headers)
        reply = self.detail(i)
        reply.delay = SLOW.get(i, 0.0)
        return reply

    def nav(self):
        return (
            '<div class="nav"><a href="/calendar?month=2026-11">上新日历</a> | '
            '<a href="/shop/a/">分店</a></div>'
        )

    def index(self, p):
        if not p.isdecimal() or int(p) < 1:
            return self.html("<p>参数错误</p>", 400)
        page = int(p)
        chunk = self.listings[(page - 1) * PER_PAGE : page * PER_PAGE]
        if not chunk:
            return Reply(200, b"", [("Content-Type", "text/html")])  # an empty 200 where a page should be
        rows = [
            f'<tr><td><a class="gl" href="{self.detail_path(x)}">{e(x["title"])}</a><td>{e(x["price"])}'
            for x in chunk
        ]
        if page == 1:
            rows += [f'<tr><td><a class="gl" href="{u}">特价宝贝{k}</a><td>¥1' for k, u in enumerate(BAD.values())]
        if page == 2:
            for i in DUPLICATES:
                x = self.listings[i]
                rows += [
                    f'<tr><td><a class="gl" href="/goods/{x["id"]}.html?from=hot">{e(x["title"])}（热卖）</a>',
                    f'<tr><td><a class="gl" href="/item.php?id={x["id"]}">{e(x["title"])}</a>',
                ]
        # The last page links one page too far, as sloppy pagers do.
        nxt = f'<a class="next" href="/list?p={page + 1}">下一页</a>' if page * PER_PAGE <= len(self.listings) else ""
        return self.html(
            f"<html><head><title>淘货铺 第{page}页</title></head><body>{self.nav()}"
            f'<table class="goods-list">{"".join(rows)}</table>'
            f'<div class="pager">第{page}页 {nxt}</div></body></html>'
        )

    def calendar(self, month):
        m = re.fullmatch(r"(\d{4})-(\d{2})", month)
        if not m or not 1 <= int(m.group(2)) <= 12:
            return self.html("<p>日期错误</p>", 400)
        y, mo = int(m.group(1)), int(m.group(2))
        prev_m = f"{y - (mo == 1)}-{12 if mo == 1 else mo - 1:02d}"
        next_m = f"{y + (mo == 12)}-{1 if mo == 12 else mo + 1:02d}"
        this = [x for x in self.listings[:2]] if (y, mo) == (TODAY.year, TODAY.month) else []
        links = "".join(f'<tr><td><a class="gl" href="{self.detail_path(x)}">{e(x["title"])}</a>' for x in this)
        return self.html(
            f"<html><body><h2>{y}年{mo}月上新</h2>"
            f'<div class="nav"><a href="/calendar?month={prev_m}">上个月</a> '
            f'<a href="/calendar?month={next_m}">下个月</a></div>'
            f'<table class="goods-list">{links}</table></body></html>'
        )

    def detail(self, i):
        x = self.listings[i]
        desc = "<br>".join(e(line) for line in x["text"].split("\n") if line.strip())
        cells = (
            f"<tr><td>编号<td class=gid>{e(x['id'])}"
            f"<tr><td>价格<td class=gp>{e(x['price'])}"
            f"<tr><td>卖家<td class=gs>{e(x['seller'])}"
            f"<tr><td>地区<td class=ga>{e(x['location'])}"
            f"<tr><td>时间<td class=gd>{e(x['posted'])}"
        )
        if i == MANGLED:
            return self.html(
                f"<html><title>{e(x['title'])}</title><body><div class=goods><p><h3 class=gt>{e(x['title'])}</h3>"
                f"<table><font color=red>{cells}</div></table></p><div class=gdesc>{desc}<div><span>"
            )
        return self.html(
            f"<html><head><title>{e(x['title'])} - 淘货铺</title></head><body>{self.nav()}"
            f"<div class=goods><h3 class=gt>{e(x['title'])}</h3><table>{cells}</table>"
            f"<div class=gdesc>{desc}</div></div></body></html>"
        )
