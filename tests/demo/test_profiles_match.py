"""The site profiles (crawlers/profiles/*.yaml) extract the right values from the demo sites.

Pages go through Scrapy's HtmlResponse, so they are decoded as the spider will decode them.
``extract`` is a reference reading of the profile schema: a field is a selector string or
``{selector, re (first group), join (default " "), default}``; text pieces are stripped.
"""

import re
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from scrapy.http import HtmlResponse

from demo.server import ALL_SITES, BAD_PAGES, SITES
from tests.demo import fetch

PROFILES = Path(__file__).parents[2] / "crawlers" / "profiles"
FIELDS = {"external_id", "title", "text", "price", "seller", "location", "posted"}


def load(name):
    return yaml.safe_load((PROFILES / f"{name}.yaml").read_text(encoding="utf-8"))


def url(profile, sites, template, **kw):
    return template.format(base_url=sites.urls[profile["name"]], **kw)


def get(address, encoding=None):
    status, headers, body = fetch(address)
    assert status == 200, address
    return HtmlResponse(
        address, body=body, headers={"Content-Type": headers["Content-Type"]}, encoding=encoding
    )


def select(response, selector):
    kind, _, query = selector.partition(":")
    assert kind in ("css", "xpath"), selector
    return getattr(response, kind)(query).getall()


def extract(response, spec):
    spec = {"selector": spec} if isinstance(spec, str) else spec
    pieces = [p.strip() for p in select(response, spec["selector"])]
    value = spec.get("join", " ").join(p for p in pieces if p)
    if "re" in spec:
        match = re.search(spec["re"], value)
        value = match.group(1) if match else ""
    return value or spec.get("default")


def expected(listing):
    fields = {key: listing[key].strip() for key in FIELDS - {"external_id", "text"}}
    lines = (line.strip() for line in listing["text"].split("\n"))
    fields.update(external_id=listing["id"], text="\n".join(x for x in lines if x))
    return {key: value or None for key, value in fields.items()}  # empty: no match, no default


def test_every_site_has_a_profile():
    assert sorted(p.stem for p in PROFILES.glob("*.yaml")) == sorted(ALL_SITES)


@pytest.mark.parametrize("i, name", list(enumerate(SITES)))
def test_profile_schema(i, name):
    profile = load(name)
    assert profile["name"] == name and profile["lang"] == name[:2]
    assert profile["base_url"] == f"http://127.0.0.1:{8601 + i}"  # python -m demo's ports
    assert profile["allowed_domains"] == ["127.0.0.1"]
    assert all(u.startswith("{base_url}/") for u in profile["start_urls"])
    assert profile["search"]["url_encoding"] in ("utf-8", "gbk") and profile["search"]["keywords"]
    assert set(profile["listing"]) == {"links", "next_page"}
    assert set(profile["detail"]["fields"]) == FIELDS
    re.compile(profile["detail"]["url_pattern"])


@pytest.mark.parametrize("name", SITES)
def test_listing_selectors_reach_every_listing(any_sites, name):
    profile, app = load(name), any_sites.apps[name]
    pattern = re.compile(profile["detail"]["url_pattern"])
    page, seen = get(url(profile, any_sites, profile["start_urls"][0])), []
    while True:
        links = [page.urljoin(h) for h in select(page, profile["listing"]["links"])]
        assert links and all(pattern.search(link) for link in links)
        others = {page.urljoin(h) for h in page.css("a::attr(href)").getall()} - set(links)
        assert not [o for o in others if pattern.search(o)]
        seen += links
        next_page = extract(page, profile["listing"]["next_page"])
        if not next_page:
            break
        page = get(page.urljoin(next_page))
    details = [any_sites.detail_url(name, x) for x in app.listings]
    assert seen == [any_sites.bad_urls[name]["server_error"]] + details


@pytest.mark.parametrize("name", SITES)
def test_search_urls(any_sites, name):
    profile, app = load(name), any_sites.apps[name]
    search = profile["search"]
    for keyword in search["keywords"]:
        q = quote(keyword, encoding=search["url_encoding"])
        links = select(
            get(url(profile, any_sites, search["url"], keyword=q)), profile["listing"]["links"]
        )
        hits = [
            x for x in app.listings if keyword.casefold() in f"{x['title']}\n{x['text']}".casefold()
        ]
        assert (
            links[: app.site.per_page]
            == [app.site.detail_path(x) for x in hits][: app.site.per_page]
        )


@pytest.mark.parametrize("name", SITES)
def test_detail_fields(any_sites, name):
    profile, app = load(name), any_sites.apps[name]
    fields = profile["detail"]["fields"]
    lying = BAD_PAGES[name].get("wrong_charset")
    for i, listing in enumerate(app.listings):
        detail_url = any_sites.detail_url(name, listing)
        assert re.search(profile["detail"]["url_pattern"], detail_url)
        page = get(detail_url, encoding="utf-8" if i == lying else None)
        assert {key: extract(page, spec) for key, spec in fields.items()} == expected(listing)
        if i == lying:  # decoded as the page says, the text is mojibake, the id survives
            page = get(detail_url)
            assert extract(page, fields["external_id"]) == listing["id"]
            assert listing["title"].isascii() or extract(page, fields["title"]) != listing["title"]
