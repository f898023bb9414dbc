import re
from pathlib import Path

import pytest

from crawlers.profile import ProfileError, available_profiles, load_profile, read_keywords

GOOD = """\
name: t_site
base_url: http://127.0.0.1:9
start_urls: ["{base_url}/latest"]
search:
  url: "{base_url}/s?q={keyword}"
  url_encoding: gbk
  keywords: [象牙]
listing:
  links: "css:a.item::attr(href)"
  next_page: "xpath://a[@rel='next']/@href"
detail:
  url_pattern: '/item/\\d+$'
  fields:
    external_id: {selector: "css:.id::text", re: '(\\d+)'}
    title: "css:h1::text"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", available_profiles(), ids=lambda p: p.stem)
def test_every_shipped_profile_loads(path: Path) -> None:
    profile = load_profile(path)
    assert profile.name == path.stem
    assert profile.seed_urls("http://127.0.0.1:1")


def test_seed_urls_fill_keywords_in_the_sites_encoding(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, GOOD))
    assert profile.seed_urls("http://h:1") == ["http://h:1/latest", "http://h:1/s?q=%CF%F3%D1%C0"]
    assert profile.seed_urls("http://h:1", ["ivory"])[-1] == "http://h:1/s?q=ivory"


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("    title: \"css:h1::text\"", "    titel: \"css:h1::text\"", 15, "did you mean 'title'"),
        ("    title: \"css:h1::text\"", "    title: \"css:h1::txt\"", 15, "does not compile"),
        ("    title: \"css:h1::text\"", "    title: \"h1\"", 15, "must start with 'css:' or 'xpath:'"),
        ("re: '(\\d+)'", "re: '(\\d+'", 14, "bad regex"),
        ("  url_encoding: gbk", "  url_encodng: gbk", 6, "did you mean 'url_encoding'"),
        ("listing:", "listings:", 8, "unknown key 'listings'"),
        ('  url: "{base_url}/s?q={keyword}"', '  url: "{base_url}/s"', 5, "must contain {keyword}"),
        ("name: t_site", "name: T Site", 1, "'name' is required"),
    ],
)
def test_mistakes_are_reported_with_file_and_line(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert str(info.value).startswith(f"{path}:{line}:")
    assert message in str(info.value)


def test_broken_yaml_and_unknown_names_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"p\.yaml:2: not valid YAML"):
        load_profile(write(tmp_path, "name: x\n  bad: [\n"))
    with pytest.raises(ProfileError, match="no profile named 'nope'"):
        load_profile("nope")


def test_keywords_file_is_read_relative_to_the_profile(tmp_path: Path) -> None:
    (tmp_path / "kw.txt").write_text("# ivory words\nngà voi\n\nivory  # en\n", encoding="utf-8")
    text = GOOD.replace("  keywords: [象牙]", "  keywords_file: kw.txt").replace("url_encoding: gbk", "url_encoding: utf-8")
    profile = load_profile(write(tmp_path, text))
    assert profile.keywords == ("ngà voi", "ivory")


# -- profile features beyond the skeleton: JSON endpoints, forums, post-processing ------------------

from parsel import Selector

from crawlers.profile import KEYWORDS_DIR, FieldSpec

JSON_PROFILE = """\
name: j_site
format: json
start_urls: ["{base_url}/api/list?page=1"]
listing:
  links: {selector: "json:data.items[].id", format: "{base_url}/api/item/{value}"}
  next_page: {selector: "json:data.next", absolute: true}
detail:
  fields:
    title: "json:item.title"
    seller: "json:item.seller.name"
"""

FORUM_PROFILE = """\
name: f_site
kind: forum
start_urls: ["{base_url}/forum.php"]
listing:
  follow: "css:dt a::attr(href)"
  links: "css:a.xst::attr(href)"
detail:
  items: "css:div.post"
  next_page: "css:a.nxt::attr(href)"
  fields:
    title: {selector: "css:h1::text", scope: page}
    text: "css:td.msg ::text"
"""


def test_json_profile_extracts_with_jmespath_and_post_processing(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, JSON_PROFILE))
    assert profile.format == "json"
    page = {"data": {"items": [{"id": 7}, {"id": "8"}], "next": "/api/list?page=2"}}
    variables = {"base_url": "http://h:1"}
    assert profile.listing_links.extract_all(page, "http://h:1/api/list", variables) == [
        "http://h:1/api/item/7", "http://h:1/api/item/8",
    ]
    assert profile.next_page.extract(page, "http://h:1/api/list?page=1") == "http://h:1/api/list?page=2"
    item = {"item": {"title": "  Vòng  ngà  ", "seller": {"name": "Long"}}}
    assert profile.fields["title"].extract(item) == "Vòng ngà"
    assert profile.fields["seller"].extract(item) == "Long"
    assert profile.fields["seller"].extract({"item": {}}) is None


def test_forum_profile_needs_post_blocks_and_page_scoped_fields_work(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, FORUM_PROFILE))
    page = Selector(text="<h1>Thread</h1><div class=post><td class=msg>a</td></div>"
                         "<div class=post><td class=msg>b <i>c</i></td></div>")
    blocks = profile.detail_items.nodes(page)
    assert [profile.fields["text"].extract(b) for b in blocks] == ["a", "b c"]
    assert [profile.fields["title"].extract(page) for _ in blocks] == ["Thread", "Thread"]
    path = write(tmp_path, FORUM_PROFILE.replace('  items: "css:div.post"\n', ""))
    with pytest.raises(ProfileError, match=r"p\.yaml:\d+: a forum profile needs 'detail.items'"):
        load_profile(path)


@pytest.mark.parametrize(
    ("spec", "html", "expected"),
    [
        (FieldSpec("css:a", attr="href", absolute=True), '<a href="/x/1">one</a>', "http://h/x/1"),
        (FieldSpec("css:p", strip=False, join=""), "<p>  a </p>", "  a "),
        (FieldSpec("css:p", first=True), "<p>a</p><p>b</p>", "a"),
        (FieldSpec("css:p", join=" | "), "<p>a</p><p>b</p>", "a | b"),
        (FieldSpec("css:p::text", re=r"(\d+)", format="ID-{value}"), "<p>No. 42</p>", "ID-42"),
        (FieldSpec("css:span", default="n/a"), "<p>x</p>", "n/a"),
        (FieldSpec("xpath://div"), "<div>a <b>bold</b>\n text</div>", "a bold text"),  # element → its text
    ],
)
def test_post_processing(spec: FieldSpec, html: str, expected: str) -> None:
    assert spec.extract(Selector(text=html), "http://h/page") == expected


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    title: \"json:item.title\"", "    title: \"css:h1::text\"", "takes 'json:' selectors"),
        ("    title: \"json:item.title\"", "    title: \"json:item.[title\"", "does not compile"),
        ('format: "{base_url}/api/item/{value}"', 'format: "{base_url}/api/item/"', "must contain {value}"),
        ("format: json", "format: xml", "'format' is one of html, json"),
        ("name: j_site", "name: j_site\nkind: shop", "'kind' is one of marketplace, forum"),
        ("name: j_site", "name: j_site\nmax_depth: 0", "'max_depth' must be a positive integer"),
        ("name: j_site", "name: j_site\ntimezone: Mars/Olympus", "unknown time zone"),
        ("name: j_site", "name: j_site\npoliteness: {concurrency: 0}", "politeness.concurrency must be"),
        ("name: j_site", "name: j_site\nallowed_domains: [http://x/]", "list of host names"),
    ],
)
def test_more_mistakes_are_reported_with_file_and_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in JSON_PROFILE
    path = write(tmp_path, JSON_PROFILE.replace(old, new))
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert re.match(rf"{re.escape(str(path))}:\d+: ", str(info.value)), str(info.value)
    assert message in str(info.value)


def test_keyword_lists_are_operator_files_per_language() -> None:
    lists = {p.stem: read_keywords(p) for p in KEYWORDS_DIR.glob("*.txt")}
    assert set(lists) == {"zh", "vi", "en"}
    assert {"象牙", "犀角"} <= set(lists["zh"]) and {"ngà voi", "sừng tê"} <= set(lists["vi"])
    assert "ivory" in lists["en"]
    assert all(len(words) >= 20 and len(set(words)) == len(words) for words in lists.values())
    assert load_profile("vi_api").keywords == tuple(lists["vi"])


def test_keywords_the_site_charset_cannot_say_are_skipped(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, GOOD))  # url_encoding: gbk
    assert profile.seed_urls("http://h:1", ["象牙", "sừng tê"]) == ["http://h:1/latest", "http://h:1/s?q=%CF%F3%D1%C0"]
