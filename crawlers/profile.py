"""Site profiles: a YAML file says how to crawl a site; no Python per site.

``load_profile(path)`` validates the whole file and raises :class:`ProfileError` naming the file,
the line and what is wrong (an unknown key, a selector that does not compile, a bad regex …).
The schema is documented in ``docs/profiles.md``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from parsel import Selector

PROFILES_DIR = Path(__file__).with_name("profiles")
DETAIL_FIELDS = ("external_id", "title", "text", "price", "seller", "location", "posted")


class ProfileError(ValueError):
    """A profile that cannot be used; the message says file, line and what is wrong."""


class _LineDict(dict):
    line: int = 0
    lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    mapping = _LineDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    mapping.lines = {key.value: key.start_mark.line + 1 for key, _ in node.value}
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass(frozen=True)
class FieldSpec:
    selector: str
    re: str | None = None
    join: str = " "
    default: str | None = None

    def extract_all(self, sel: Selector) -> list[str]:
        kind, _, query = self.selector.partition(":")
        nodes = sel.css(query) if kind == "css" else sel.xpath(query)
        return [v.strip() for v in nodes.getall() if v and v.strip()]

    def extract(self, sel: Selector) -> str | None:
        kind, _, query = self.selector.partition(":")
        nodes = sel.css(query) if kind == "css" else sel.xpath(query)
        parts = [" ".join(v.split()) if self.join == " " else v.strip() for v in nodes.getall()]
        value = self.join.join(p for p in parts if p)
        if self.join != " ":
            value = re.sub(r"\n\s*\n+", "\n", value).strip()
        if value and self.re:
            m = re.search(self.re, value)
            value = (m.group(1) if m.groups() else m.group(0)) if m else ""
        return value or self.default


@dataclass(frozen=True)
class Profile:
    name: str
    path: Path
    title: str = ""
    lang: str | None = None
    base_url: str = ""
    timezone: str = "UTC"
    allowed_domains: tuple[str, ...] = ()
    encoding: str | None = None
    start_urls: tuple[str, ...] = ()
    search_url: str | None = None
    search_url_encoding: str = "utf-8"
    keywords: tuple[str, ...] = ()
    listing_links: FieldSpec | None = None
    next_page: FieldSpec | None = None
    detail_url_pattern: str | None = None
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    download_delay: float | None = None
    concurrency: int | None = None
    max_pages: int | None = None
    robots_obey: bool = True

    def seed_urls(self, base_url: str | None = None, keywords: list[str] | None = None) -> list[str]:
        """Start URLs plus the search URL filled with every keyword, ``{base_url}`` replaced."""
        base = (base_url or self.base_url).rstrip("/")
        urls = [u.replace("{base_url}", base) for u in self.start_urls]
        if self.search_url:
            for kw in keywords if keywords is not None else self.keywords:
                q = quote(kw.encode(self.search_url_encoding, errors="strict"))
                urls.append(self.search_url.replace("{base_url}", base).replace("{keyword}", q))
        return urls


_TOP_KEYS = {
    "name", "title", "lang", "base_url", "timezone", "allowed_domains", "encoding", "start_urls",
    "search", "listing", "detail", "politeness", "max_pages", "robots_obey",
}
_SECTION_KEYS = {
    "search": {"url", "url_encoding", "keywords", "keywords_file"},
    "listing": {"links", "next_page"},
    "detail": {"url_pattern", "fields"},
    "politeness": {"download_delay", "concurrency"},
}
_FIELD_KEYS = {"selector", "re", "join", "default"}
_PROBE = Selector(text="<html><body><p>probe</p></body></html>")


def load_profile(path: str | Path) -> Profile:
    """Load and validate a profile by path, or by site name from ``crawlers/profiles/``."""
    path = resolve_profile_path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - safe loader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ProfileError(f"{path}:{mark.line + 1 if mark else '?'}: not valid YAML: {exc.problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, _LineDict):
        raise ProfileError(f"{path}:1: a profile is a mapping of keys (name, listing, detail, …)")
    return _build(path, data)


def resolve_profile_path(path_or_name: str | Path) -> Path:
    path = Path(path_or_name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise ProfileError(f"{path}: no such profile file")
        return path
    candidate = PROFILES_DIR / f"{path_or_name}.yaml"
    if not candidate.exists():
        known = ", ".join(sorted(p.stem for p in PROFILES_DIR.glob("*.yaml")))
        raise ProfileError(f"no profile named {path_or_name!r} (known: {known})")
    return candidate


def available_profiles() -> list[Path]:
    return sorted(PROFILES_DIR.glob("*.yaml"))


def _build(path: Path, d: _LineDict) -> Profile:
    def fail(where: _LineDict, key: str | None, message: str) -> ProfileError:
        line = where.lines.get(key, where.line) if key else where.line
        return ProfileError(f"{path}:{line}: {message}")

    def check_keys(mapping: _LineDict, allowed: set[str], section: str) -> None:
        for key in mapping:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise fail(mapping, key, f"unknown key {key!r} in {section}{extra}")

    def section(key: str) -> _LineDict:
        value = d.get(key) or _LineDict()
        if not isinstance(value, _LineDict):
            raise fail(d, key, f"{key!r} must be a mapping")
        check_keys(value, _SECTION_KEYS[key], key)
        return value

    def field_spec(where: _LineDict, key: str, raw: Any) -> FieldSpec:
        if isinstance(raw, str):
            raw = {"selector": raw}
        if not isinstance(raw, dict) or "selector" not in raw:
            raise fail(where, key, f"{key!r} must be a selector string or a mapping with 'selector'")
        if isinstance(raw, _LineDict):
            check_keys(raw, _FIELD_KEYS, key)
        selector = str(raw["selector"])
        kind, sep, query = selector.partition(":")
        if not sep or kind not in ("css", "xpath") or not query.strip():
            raise fail(where, key, f"{key!r}: selector must start with 'css:' or 'xpath:', got {selector!r}")
        try:
            _PROBE.css(query) if kind == "css" else _PROBE.xpath(query)
        except Exception as exc:  # noqa: BLE001 - cssselect/lxml raise many types
            raise fail(where, key, f"{key!r}: {kind} selector {query!r} does not compile: {exc}") from None
        if raw.get("re") is not None:
            try:
                re.compile(raw["re"])
            except re.error as exc:
                raise fail(where, key, f"{key!r}: bad regex {raw['re']!r}: {exc}") from None
        return FieldSpec(selector, raw.get("re"), str(raw.get("join", " ")), raw.get("default"))

    check_keys(d, _TOP_KEYS, "the profile")
    name = d.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_][a-z0-9_.-]*", name):
        raise fail(d, "name" if "name" in d else None, "'name' is required: lower-case letters, digits, _ . -")

    search, listing, detail, polite = (section(k) for k in ("search", "listing", "detail", "politeness"))
    keywords: list[str] = list(search.get("keywords") or [])
    if kw_file := search.get("keywords_file"):
        kw_path = (path.parent / kw_file).resolve()
        if not kw_path.exists():
            raise fail(search, "keywords_file", f"keywords file {kw_path} does not exist")
        keywords += read_keywords(kw_path)
    if search and "url" not in search:
        raise fail(search, None, "'search' needs a 'url' with {keyword}")
    if search.get("url") and "{keyword}" not in search["url"]:
        raise fail(search, "url", "search url must contain {keyword}")

    start_urls = d.get("start_urls") or []
    if not isinstance(start_urls, list) or not all(isinstance(u, str) for u in start_urls):
        raise fail(d, "start_urls", "'start_urls' must be a list of URLs")
    if not start_urls and not search:
        raise fail(d, None, "a profile needs 'start_urls' or 'search' (or both)")
    if "links" not in listing:
        raise fail(d, "listing", "'listing.links' is required: the selector of links to detail pages")

    raw_fields = detail.get("fields")
    if not isinstance(raw_fields, _LineDict) or not raw_fields:
        raise fail(detail if detail else d, "fields" if detail else "detail", "'detail.fields' is required")
    for key in raw_fields:
        if key not in DETAIL_FIELDS:
            hint = difflib.get_close_matches(str(key), DETAIL_FIELDS, n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise fail(raw_fields, key, f"unknown detail field {key!r}{extra}; known: {', '.join(DETAIL_FIELDS)}")
    if "title" not in raw_fields and "text" not in raw_fields:
        raise fail(raw_fields, None, "detail.fields needs at least 'title' or 'text'")
    if pattern := detail.get("url_pattern"):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise fail(detail, "url_pattern", f"bad regex {pattern!r}: {exc}") from None
    for key, kind in (("download_delay", (int, float)), ("concurrency", int)):
        if key in polite and not isinstance(polite[key], kind):
            raise fail(polite, key, f"politeness.{key} must be a number")
    if (mp := d.get("max_pages")) is not None and (not isinstance(mp, int) or mp < 1):
        raise fail(d, "max_pages", "'max_pages' must be a positive integer")
    if enc := d.get("encoding"):
        import codecs

        try:
            codecs.lookup(enc)
        except LookupError:
            raise fail(d, "encoding", f"unknown encoding {enc!r}") from None

    return Profile(
        name=name,
        path=path,
        title=str(d.get("title") or name),
        lang=d.get("lang"),
        base_url=str(d.get("base_url") or ""),
        timezone=str(d.get("timezone") or "UTC"),
        allowed_domains=tuple(d.get("allowed_domains") or ()),
        encoding=d.get("encoding"),
        start_urls=tuple(start_urls),
        search_url=search.get("url"),
        search_url_encoding=str(search.get("url_encoding") or "utf-8"),
        keywords=tuple(keywords),
        listing_links=field_spec(listing, "links", listing["links"]),
        next_page=field_spec(listing, "next_page", listing["next_page"]) if listing.get("next_page") else None,
        detail_url_pattern=detail.get("url_pattern"),
        fields={k: field_spec(raw_fields, k, v) for k, v in raw_fields.items()},
        download_delay=polite.get("download_delay"),
        concurrency=polite.get("concurrency"),
        max_pages=mp,
        robots_obey=bool(d.get("robots_obey", True)),
    )


def read_keywords(path: Path) -> list[str]:
    """One keyword per line; blank lines and ``#`` comments ignored."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [s for line in lines if (s := line.split("#", 1)[0].strip())]
