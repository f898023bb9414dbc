"""vi_api — "Chợ Đồ Cũ 24h": a Vietnamese classifieds site whose pages are an empty shell filled by
JavaScript from a JSON API. A crawler reads the API, as the site's own front end does:

    GET /api/v1/tin?page=N                 {"ok": true, "data": {"items": [{"id", "tieu_de", "gia",
                                            "khu_vuc"}], "trang": N, "tong": T, "trang_sau": URL|null}}
    GET /api/v1/tim-kiem?q=…&page=N        the same, for listings containing q
    GET /api/v1/tin/<id>                   {"ok": true, "tin": {"id", "tieu_de", "mo_ta",
                                            "gia_hien_thi", "khu_vuc", "dang_luc", "nguoi_ban": {…}}}

Data: ``demo/sites/vi_api/listings.json`` (the usual listing format).
"""

import re
from html import escape as e
from urllib.parse import parse_qs, quote, urlsplit

from demo.reply import Reply, json_reply

ROBOTS = "User-agent: *\nDisallow: /quan-tri/\n"
SHELL = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Chợ Đồ Cũ 24h</title>
<script src="/static/app.js" defer></script></head>
<body><div id="app" data-api="/api/v1/tin?page=1">Đang tải…</div>
<noscript>Trang này cần JavaScript.</noscript></body></html>
"""
APP_JS = """// Chợ Đồ Cũ 24h front end (demo): fetches /api/v1/tin and renders cards.
fetch(document.getElementById('app').dataset.api).then(r => r.json()).then(render);
"""


class ViApi:
    name, title, charset = "vi_api", "Chợ Đồ Cũ 24h", "utf-8"
    per_page = 10
    detail_re = re.compile(r"/api/v1/tin/(?P<id>\d+)")

    def __init__(self, name, listings):
        self.listings = listings
        self.by_id = {x["id"]: x for x in listings}

    def detail_path(self, listing):
        return f"/api/v1/tin/{listing['id']}"

    def __call__(self, raw_path):
        url = urlsplit(raw_path)
        path, query = url.path, parse_qs(url.query)
        if path == "/robots.txt":
            return Reply(200, ROBOTS.encode(), [("Content-Type", "text/plain; charset=utf-8")])
        if path == "/":
            return Reply(200, SHELL.encode(), [("Content-Type", "text/html; charset=utf-8")])
        if path == "/static/app.js":
            return Reply(200, APP_JS.encode(), [("Content-Type", "application/javascript")])
        if path == "/api/v1/tin":
            return self.page(query, self.listings, "/api/v1/tin?")
        if path == "/api/v1/tim-kiem":
            q = query.get("q", [""])[0].strip()
            hits = [x for x in self.listings if q and q.casefold() in f"{x['title']}\n{x['text']}".casefold()]
            return self.page(query, hits, f"/api/v1/tim-kiem?q={quote(q)}&")
        if m := self.detail_re.fullmatch(path):
            x = self.by_id.get(m.group("id"))
            if x is None:
                return json_reply({"ok": False, "loi": "khong_tim_thay"}, 404)
            return json_reply({"ok": True, "tin": self.tin(x)})
        return json_reply({"ok": False, "loi": "sai_duong_dan"}, 404)

    def page(self, query, items, prefix):
        page = query.get("page", ["1"])[0]
        if not page.isdecimal() or int(page) < 1:
            return json_reply({"ok": False, "loi": "trang_khong_hop_le"}, 400)
        page, n = int(page), self.per_page
        chunk = items[(page - 1) * n : page * n]
        if page > 1 and not chunk:
            return json_reply({"ok": False, "loi": "het_trang"}, 404)
        return json_reply({
            "ok": True,
            "data": {
                "items": [
                    {"id": x["id"], "tieu_de": x["title"], "gia": x["price"], "khu_vuc": x["location"]}
                    for x in chunk
                ],
                "trang": page,
                "tong": len(items),
                "trang_sau": f"{prefix}page={page + 1}" if page * n < len(items) else None,
            },
        })

    def tin(self, x):
        return {
            "id": x["id"],
            "tieu_de": x["title"],
            "mo_ta": x["text"],
            "gia_hien_thi": x["price"],
            "khu_vuc": x["location"],
            "dang_luc": x["posted"],
            "nguoi_ban": {"ten": x["seller"], "xac_minh": False},
            "anh": [f"/static/anh/{e(x['id'])}-1.jpg"],
        }
