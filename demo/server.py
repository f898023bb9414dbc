"""Local demo sites served on 127.0.0.1 by the standard library.

    with DemoSites() as sites:          # each site on an ephemeral port, in daemon threads
        sites.urls["zh_market"]         # "http://127.0.0.1:41234"
        sites.requests                  # [RequestRecord(site, method, path, status, time), ...]
    with DemoSites(names=ALL_SITES):    # also the JSON-API site, the forum and the hostile site

``SITES`` are the three marketplaces (``wildwatch demo`` crawls them); ``EXTRA_SITES`` are
``vi_api`` (listings from a JSON API, demo/api.py), ``zh_forum`` (a Discuz!-style forum,
demo/forum.py) and ``hostile`` (everything a crawler hates, demo/hostile.py).

Each marketplace serves ``<data_dir>/<site>/listings.json`` (newest first). Some pages are bad on
purpose (``BAD_PAGES``) so that crawls meet what real sites do: 500s, broken HTML, lying charsets.
"""

import json
import threading
import time
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from demo.api import ViApi
from demo.forum import ZhForum, load_forum
from demo.hostile import Hostile
from demo.pages import SITE_CLASSES
from demo.reply import Reply

SITES = tuple(SITE_CLASSES)  # ("zh_market", "vi_classifieds", "en_market")
EXTRA_SITES = ("vi_api", "zh_forum", "hostile")
ALL_SITES = SITES + EXTRA_SITES
# What `wildwatch demo` could crawl in well under a minute: not the hostile site (slow on purpose).
DEMO_SITES = SITES + ("vi_api", "zh_forum")
DATA_DIR = Path(__file__).parent / "sites"
ROBOTS = "User-agent: *\nDisallow: /admin/\n"
LIED_CHARSET = "iso-8859-1"

# Pages that are bad on purpose. An int is the 0-based position in listings.json of the listing
# whose detail page is bad; a string is a path. ``DemoSites.bad_urls`` resolves both to URLs.
#   server_error  -- linked from page 1 of the latest listings, always answers 500
#   broken_html   -- unclosed tags, a stray </div>, no </body></html>; the fields are still there
#   wrong_charset -- header and <meta> say iso-8859-1, the body is UTF-8
BAD_PAGES = {
    "zh_market": {"server_error": "/item/999999.html", "broken_html": 4},
    "vi_classifieds": {"server_error": "/tin/loi-he-thong-999999.html", "wrong_charset": 6},
    "en_market": {"server_error": "/listing/999999"},
}


@dataclass(frozen=True)
class RequestRecord:
    site: str
    method: str
    path: str  # as requested, query string included
    status: int
    time: float  # time.time() when answered


def html_type(charset):
    return f"text/html; charset={charset}"


class SiteApp:
    """One site: maps a request path to ``(status, content type, text)``."""

    def __init__(self, name, listings):
        self.name, self.site, self.listings = name, SITE_CLASSES[name](), listings
        self.position = {x["id"]: i for i, x in enumerate(listings)}
        self.bad = BAD_PAGES[name]

    def __call__(self, raw_path):
        site, url = self.site, urlsplit(raw_path)
        path, query = url.path, parse_qs(url.query, encoding="latin-1")  # bytes kept, see param()
        if path == "/robots.txt":
            return 200, "text/plain; charset=utf-8", ROBOTS
        if path == "/":
            return 200, html_type(site.charset), site.home()
        if path == site.latest:
            return self.index(query, site.headings[0], self.listings)
        if path == site.search:
            q = self.param(query, "q").strip()
            hits = [
                x
                for x in self.listings
                if q and q.casefold() in f"{x['title']}\n{x['text']}".casefold()
            ]
            return self.index(query, site.headings[1].format(q=q), hits, q)
        if path == self.bad["server_error"]:
            return self.error(500, "Internal Server Error")
        i = self.position.get(site.detail_id(path))
        if i is None:
            return self.error(404, "Not Found")
        listing = self.listings[i]
        if i == self.bad.get("broken_html"):
            return 200, html_type(site.charset), site.detail(listing, broken=True)
        if i == self.bad.get("wrong_charset"):
            return 200, html_type(LIED_CHARSET), site.detail(listing, charset=LIED_CHARSET)
        return 200, html_type(site.charset), site.detail(listing)

    def index(self, query, heading, items, q=None):
        site, page = self.site, self.param(query, self.site.page_param) or "1"
        if not page.isdecimal() or int(page) < 1:
            return self.error(404, "Not Found")
        page, n = int(page), site.per_page
        chunk = items[(page - 1) * n : page * n]
        if page > 1 and not chunk:
            return self.error(404, "Not Found")
        path = site.latest if q is None else site.search
        next_href = site.page_href(path, page + 1, q) if page * n < len(items) else None
        pinned = site.pinned if q is None and page == 1 else None
        return 200, html_type(site.charset), site.index(heading, chunk, page, next_href, pinned)

    def param(self, query, name):
        """A query parameter, percent-encoded in UTF-8 or in the site's own charset (GBK)."""
        raw = query.get(name, [""])[0].encode("latin-1")
        for charset in dict.fromkeys(["utf-8", self.site.charset]):
            try:
                return raw.decode(charset)
            except UnicodeDecodeError:
                pass
        return raw.decode("utf-8", "replace")

    def error(self, status, message):
        page = self.site.page(str(status), f"<h1>{status} {message}</h1>")
        return status, html_type(self.site.charset), page


class Handler(BaseHTTPRequestHandler):
    server_version = "WildwatchDemo/1.0"

    def do_GET(self):
        self.answer(send_body=True)

    def do_HEAD(self):
        self.answer(send_body=False)

    def answer(self, send_body):
        app = self.server.app
        try:
            result = app(self.path)
        except Exception:
            traceback.print_exc()
            result = 500, "text/plain; charset=utf-8", "500 Internal Server Error\n"
        if not isinstance(result, Reply):
            status, ctype, text = result
            body = text.encode(app.site.charset, "xmlcharrefreplace")  # GBK has no emoji: &#128024;
            result = Reply(status, body, [("Content-Type", ctype)])
        self.server.record(RequestRecord(app.name, self.command, self.path, result.status, time.time()))
        if result.delay:
            time.sleep(result.delay)
        try:
            self.send_reply(result, send_body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (too large, timeout)
            self.close_connection = True

    def send_reply(self, reply, send_body):
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.chunks is None:
            self.send_header("Content-Length", str(len(reply.body)))
        else:  # close-delimited: the client learns the size only by reading it all
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        if not send_body:
            return
        self.wfile.write(reply.body)
        for chunk in reply.chunks or ():
            self.wfile.write(chunk)

    def log_message(self, format, *args):
        pass


def load_listings(data_dir, name):
    path = Path(data_dir) / name / "listings.json"
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def make_app(name, data_dir):
    """The app serving one site from its data under ``data_dir`` (or the shipped data)."""
    if name in SITE_CLASSES:
        return SiteApp(name, load_listings(data_dir, name))
    if name == "zh_forum":
        return ZhForum(name, load_forum(_data_for(data_dir, name, "forum.json"), name))
    cls = {"vi_api": ViApi, "hostile": Hostile}[name]
    return cls(name, load_listings(_data_for(data_dir, name, "listings.json"), name))


def _data_for(data_dir, name, filename):
    """Test fixtures may bring only the marketplaces' data: the other sites use the shipped data."""
    return data_dir if (Path(data_dir) / name / filename).exists() else DATA_DIR


class DemoSites:
    """Serve every site in ``SITES`` from daemon threads until ``stop()`` (or the end of ``with``).

    ``ports`` maps a site to its port; a missing site, None or 0 means an ephemeral port.
    """

    def __init__(self, host="127.0.0.1", ports=None, data_dir=None, names=SITES):
        data_dir = data_dir or DATA_DIR
        self.names = tuple(names)
        self.apps = {name: make_app(name, data_dir) for name in self.names}
        self.requests = []  # appended under a lock by the server threads
        self._lock = threading.Lock()
        self._servers = []
        try:
            for name in self.names:
                server = ThreadingHTTPServer((host, (ports or {}).get(name) or 0), Handler)
                server.daemon_threads = True
                server.app, server.record = self.apps[name], self._record
                threading.Thread(
                    target=server.serve_forever, name=f"demo-{name}", daemon=True
                ).start()
                self._servers.append(server)
        except OSError:
            self.stop()
            raise
        self.urls = {
            name: f"http://{host}:{s.server_port}" for name, s in zip(self.names, self._servers)
        }

    def _record(self, record):
        with self._lock:
            self.requests.append(record)

    def detail_url(self, name, listing):
        app = self.apps[name]
        return self.urls[name] + getattr(app, "site", app).detail_path(listing)

    @property
    def bad_urls(self):
        """``{site: {kind: url}}`` for every page in ``BAD_PAGES`` that the data has."""
        urls = {}
        for name, pages in BAD_PAGES.items():
            if name not in self.apps:
                continue
            listings = self.apps[name].listings
            urls[name] = {
                kind: self.urls[name] + where
                if isinstance(where, str)
                else self.detail_url(name, listings[where])
                for kind, where in pages.items()
                if isinstance(where, str) or where < len(listings)
            }
        return urls

    def stop(self):
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
