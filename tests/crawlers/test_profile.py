from pathlib import Path

import pytest

from crawlers.profile import ProfileError, available_profiles, load_profile

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
