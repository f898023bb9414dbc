"""Markup of the three demo sites: each site has its own tags and class names, as real sites do.

Everything that comes from a listing goes through ``html.escape``: listing text is hostile.
A site class knows its URLs (``latest``, ``search``, ``page_param``, ``detail_path`` /
``detail_re``) and renders ``home``, ``index`` (a page of listings) and ``detail`` pages.
"""

import re
import unicodedata
from html import escape as e
from urllib.parse import quote


def lines(text):
    return [line for line in text.split("\n") if line.strip()]


def slugify(title):
    """ASCII slug without diacritics: "Bán vòng ngà voi" -> "ban-vong-nga-voi"."""
    ascii_ = unicodedata.normalize("NFD", title.replace("đ", "d").replace("Đ", "D"))
    ascii_ = ascii_.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_).strip("-")[:60].strip("-") or "tin"


class Site:
    name = title = ""
    charset = "utf-8"
    per_page = 10
    page_param = "page"
    latest = "/latest"
    search = "/search"
    detail_re = re.compile("")
    headings = ("", "{q}")  # latest listings, search results
    pinned = ("", "")  # (path, title) of the page-1 entry that always answers 500

    def page_href(self, path, page, q=None):
        if q is None:
            return f"{path}?{self.page_param}={page}"
        try:  # like a real form: the query in the page's charset
            q = quote(q, encoding=self.charset)
        except UnicodeEncodeError:
            q = quote(q)
        return f"{path}?q={q}&{self.page_param}={page}"

    def detail_id(self, path):
        match = self.detail_re.fullmatch(path)
        return match and match.group("id")


class ZhMarket(Site):
    name, title, charset = "zh_market", "闲置淘", "gbk"
    detail_re = re.compile(r"/item/(?P<id>\d+)\.html")
    headings = ("最新发布", "搜索“{q}”的结果")
    pinned = ("/item/999999.html", "【置顶】本站交易须知，新人必看")

    def detail_path(self, listing):
        return f"/item/{e(listing['id'])}.html"

    def page(self, title, body, charset=None):
        return (
            f'<!DOCTYPE html>\n<html><head><meta charset="{charset or self.charset}">'
            f"<title>{e(title)} - 闲置淘</title></head>\n<body>\n"
            '<div id="hd"><a class="logo" href="/">闲置淘</a> <a href="/latest">最新发布</a>'
            '<form action="/search" method="get"><input name="q"><button>搜索</button></form></div>\n'
            f'{body}\n<div id="ft">闲置淘 © 二手闲置交易平台</div>\n</body></html>\n'
        )

    def home(self):
        return self.page(
            "首页",
            '<div class="welcome"><h2>欢迎来到闲置淘</h2>'
            '<p>看看<a href="/latest">最新发布</a>的宝贝吧。</p></div>',
        )

    def index(self, heading, items, page, next_href, pinned=None):
        rows = [
            f'<li class="item"><a class="item-link" href="{self.detail_path(x)}">{e(x["title"])}</a>'
            f' <span class="price">{e(x["price"])}</span> <em class="loc">{e(x["location"])}</em></li>'
            for x in items
        ]
        if pinned:
            rows.insert(
                0,
                f'<li class="item top"><a class="item-link" href="{pinned[0]}">'
                f"{e(pinned[1])}</a></li>",
            )
        nxt = f' <a class="next" href="{e(next_href)}">下一页</a>' if next_href else ""
        return self.page(
            heading,
            f"<h2>{e(heading)}</h2>\n"
            f'<ul class="items">\n' + "\n".join(rows) + "\n</ul>\n"
            f'<div class="pager"><span class="cur">第{page}页</span>{nxt}</div>',
        )

    def detail(self, x, broken=False):
        desc = "<br>".join(e(line) for line in lines(x["text"]))
        fields = (
            f'<h1 class="item-title">{e(x["title"])}</h1>\n'
            f'<p class="item-id">编号: {e(x["id"])}</p>\n'
            f'<p class="meta">价格：<span class="price">{e(x["price"])}</span>'
            f' 卖家：<span class="seller-name">{e(x["seller"])}</span>'
            f' 所在地：<span class="location">{e(x["location"])}</span>'
            f' 发布：<span class="posted">{e(x["posted"])}</span></p>\n'
        )
        if not broken:
            return self.page(
                x["title"],
                f'<div class="item-detail">\n{fields}<div class="desc">{desc}</div>\n</div>',
            )
        # Deliberately broken: stray </div>, unclosed <p>/<font>/<div>, no </body></html>.
        return (
            f'<html><head><meta charset="gbk"><title>{e(x["title"])} - 闲置淘</title>\n<body>\n'
            '<div id="hd"><a class="logo" href="/">闲置淘</a></div></div>\n'
            '<div class="item-detail">\n'
            + fields.replace("</p>", "")
            + f'<div class="desc"><font color="red">{desc}'
        )


class ViClassifieds(Site):
    name, title = "vi_classifieds", "Rao Vặt Nhanh"
    per_page, page_param, latest, search = 12, "trang", "/tin-moi", "/tim-kiem"
    detail_re = re.compile(r"/tin/[a-z0-9-]+-(?P<id>\d+)\.html")
    headings = ("Tin mới đăng", "Kết quả tìm kiếm “{q}”")
    pinned = ("/tin/loi-he-thong-999999.html", "Tin VIP: Hướng dẫn đăng tin an toàn")

    def detail_path(self, listing):
        return f"/tin/{slugify(listing['title'])}-{e(listing['id'])}.html"

    def page(self, title, body, charset=None):
        return (
            f'<!doctype html>\n<html lang="vi"><head>\n<meta charset="{charset or self.charset}">\n'
            f"<title>{e(title)} | Rao Vặt Nhanh</title>\n</head>\n<body>\n"
            '<header class="dau-trang"><a href="/">Rao Vặt Nhanh</a> · <a href="/tin-moi">Tin mới</a>'
            '<form action="/tim-kiem"><input type="search" name="q" placeholder="Tìm kiếm"></form>'
            f"</header>\n<main>\n{body}\n</main>\n"
            '<footer class="chan-trang">Rao Vặt Nhanh – mua bán nhanh, rao vặt miễn phí</footer>\n'
            "</body>\n</html>\n"
        )

    def home(self):
        return self.page(
            "Trang chủ",
            '<section class="gioi-thieu"><h1>Rao vặt miễn phí</h1>'
            '<p>Xem <a href="/tin-moi">tin mới đăng</a>.</p></section>',
        )

    def index(self, heading, items, page, next_href, pinned=None):
        cards = [
            f'<article class="tin"><h3 class="tin-td"><a href="{self.detail_path(x)}">'
            f'{e(x["title"])}</a></h3><div class="gia">{e(x["price"])}</div>'
            f'<div class="noi">{e(x["location"])}</div></article>'
            for x in items
        ]
        if pinned:
            cards.insert(
                0,
                f'<article class="tin vip"><h3 class="tin-td"><a href="{pinned[0]}">'
                f"{e(pinned[1])}</a></h3></article>",
            )
        nxt = (
            f'<a rel="next" class="trang-sau" href="{e(next_href)}">Trang sau</a>'
            if next_href
            else ""
        )
        return self.page(
            heading,
            f'<h2 class="tieu-de-muc">{e(heading)}</h2>\n'
            '<div class="danh-sach">\n' + "\n".join(cards) + "\n</div>\n"
            f'<nav class="phan-trang"><b>Trang {page}</b> {nxt}</nav>',
        )

    def detail(self, x, charset=None):
        paras = "".join(f"<p>{e(line)}</p>" for line in lines(x["text"]))
        rows = "".join(
            f'<tr><th>{label}</th><td class="{cls}">{e(x[key])}</td></tr>'
            for label, cls, key in [
                ("Giá", "gia", "price"),
                ("Người đăng", "nguoi-dang", "seller"),
                ("Khu vực", "khu-vuc", "location"),
                ("Ngày đăng", "ngay-dang", "posted"),
            ]
        )
        return self.page(
            x["title"],
            f'<article class="chi-tiet" data-id="{e(x["id"])}">\n'
            f'<h1 class="tieu-de">{e(x["title"])}</h1>\n'
            f'<div class="ma-tin">Mã tin: {e(x["id"])}</div>\n'
            f'<table class="thong-tin">{rows}</table>\n'
            f'<div class="noi-dung">{paras}</div>\n</article>',
            charset,
        )


class EnMarket(Site):
    name, title, latest = "en_market", "Swapmeet", "/browse"
    detail_re = re.compile(r"/listing/(?P<id>\d+)")
    headings = ("Latest listings", "Results for “{q}”")
    pinned = ("/listing/999999", "Featured: safety tips for buyers and sellers")

    def detail_path(self, listing):
        return f"/listing/{e(listing['id'])}"

    def page(self, title, body, charset=None):
        return (
            f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="{charset or self.charset}">\n'
            f"<title>{e(title)} · Swapmeet</title>\n</head>\n<body>\n"
            '<nav class="topbar"><a class="brand" href="/">Swapmeet</a> <a href="/browse">Browse</a>'
            '<form class="searchbox" action="/search"><input name="q" aria-label="Search"></form></nav>\n'
            f'<main class="container">\n{body}\n</main>\n'
            '<footer class="site-footer">Swapmeet — buy and sell locally</footer>\n</body>\n</html>\n'
        )

    def home(self):
        return self.page(
            "Home",
            '<section class="hero"><h1>Buy and sell locally</h1>'
            '<a class="cta" href="/browse">Browse listings</a></section>',
        )

    def index(self, heading, items, page, next_href, pinned=None):
        cards = [
            f'<div class="card" data-listing-id="{e(x["id"])}"><a class="card__link" '
            f'href="{self.detail_path(x)}"><h2 class="card__title">{e(x["title"])}</h2></a>'
            f'<span class="card__price">{e(x["price"])}</span></div>'
            for x in items
        ]
        if pinned:
            cards.insert(
                0,
                f'<div class="card card--featured"><a class="card__link" href="{pinned[0]}">'
                f'<h2 class="card__title">{e(pinned[1])}</h2></a></div>',
            )
        nxt = (
            f'<a class="pagination__next" rel="next" href="{e(next_href)}">Next ›</a>'
            if next_href
            else ""
        )
        return self.page(
            heading,
            f"<h1>{e(heading)}</h1>\n"
            '<section class="results">\n' + "\n".join(cards) + "\n</section>\n"
            f'<div class="pagination"><span>Page {page}</span> {nxt}</div>',
        )

    def detail(self, x):
        paras = "".join(f"<p>{e(line)}</p>" for line in lines(x["text"]))
        facts = "".join(
            f'<dt>{label}</dt><dd class="listing__{key}">{e(x[key])}</dd>'
            for label, key in [
                ("Price", "price"),
                ("Seller", "seller"),
                ("Location", "location"),
                ("Posted", "posted"),
            ]
        )
        return self.page(
            x["title"],
            f'<div class="listing" id="listing-{e(x["id"])}">\n'
            f'<h1 class="listing__title">{e(x["title"])}</h1>\n'
            f'<p class="listing__ref">Listing #{e(x["id"])}</p>\n'
            f'<dl class="listing__facts">{facts}</dl>\n'
            f'<section class="listing__description">{paras}</section>\n</div>',
        )


SITE_CLASSES = {cls.name: cls for cls in (ZhMarket, ViClassifieds, EnMarket)}
