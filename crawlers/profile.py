"""Site profiles: a YAML file says how to crawl a site; no Python per site.

``load_profile(path)`` validates the whole file and raises :class:`ProfileError` naming the file,
the line and what is wrong (an unknown key, a selector that does not compile, a bad regex …).
The schema is documented in ``docs/profiles.md``.

A selector is ``css:…`` / ``xpath:…`` (HTML, parsel) or ``json:…`` (a JMESPath expression over a
JSON response). A field is a selector string or a mapping with post-processing::

    {selector, re, join, default, strip, attr, absolute, format, first, scope}
"""

from __future__ import annotations

import codecs
import difflib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import yaml
from parsel import Selector


def _data_dir(name: str) -> Path:
    """``crawlers/<name>/``; when this package runs from a zipped egg (Scrapyd), a copy on disk."""
    here = Path(__file__).with_name(name)
    if here.is_dir() or not __spec__ or not __spec__.parent:
        return here
    import tempfile
    from importlib.resources import files

    # profiles/ and keywords/ side by side, as in the source tree (keywords_file: ../keywords/zh.txt)
    out = Path(tempfile.gettempdir()) / f"wildwatch-crawlers-{os.getpid()}" / name
    source = files(__spec__.parent) / name
    if not source.is_dir():
        return here
    out.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.is_file():
            (out / entry.name).write_bytes(entry.read_bytes())
    return out


PROFILES_DIR = _data_dir("profiles")
KEYWORDS_DIR = _data_dir("keywords")
DETAIL_FIELDS = (
    "external_id", "title", "text", "price", "seller", "location", "posted", "thread_id", "post_no",
)
KINDS = ("marketplace", "forum")
FORMATS = ("html", "json")


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


def _json_text(value: Any) -> list[str]:
    """A JMESPath result as text pieces: lists flattened, scalars as text, None dropped."""
    if value is None:
        return []
    if isinstance(value, list):
        return [piece for v in value for piece in _json_text(v)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, float) and value.is_integer():
        return [str(int(value))]
    if isinstance(value, (dict,)):
        return [json.dumps(value, ensure_ascii=False)]
    return [str(value)]


def _element_text(node: Selector) -> str:
    """A selected value as text: strings as they are, an element as the text inside it."""
    root = node.root
    if isinstance(root, str):
        return root
    if hasattr(root, "tag"):
        return " ".join(node.xpath(".//text()").getall())
    return str(root)


@dataclass(frozen=True)
class FieldSpec:
    """One selector with its post-processing; also used for links, next pages and item blocks."""

    selector: str
    re: str | None = None
    join: str = " "
    default: str | None = None
    strip: bool = True
    attr: str | None = None
    absolute: bool = False
    format: str | None = None
    first: bool = False
    scope: str = "item"  # "item": relative to the item block; "page": the whole page

    @property
    def kind(self) -> str:
        return self.selector.partition(":")[0]

    @property
    def query(self) -> str:
        return self.selector.partition(":")[2]

    def nodes(self, doc: Any) -> list[Any]:
        """The matches themselves: parsel selectors for HTML, JSON values for ``json:``."""
        if self.kind == "json":
            if isinstance(doc, Selector):  # a JSON selector on an HTML page matches nothing
                return []
            found = _jmespath(self.query).search(doc)
            if found is None:
                return []
            return found if isinstance(found, list) else [found]
        if not isinstance(doc, Selector):
            return []
        return list(doc.css(self.query) if self.kind == "css" else doc.xpath(self.query))

    def raw_values(self, doc: Any) -> list[str]:
        if self.kind == "json":
            values = [p for n in self.nodes(doc) for p in _json_text(n)]
        elif self.attr:
            values = [n.attrib.get(self.attr, "") for n in self.nodes(doc) if hasattr(n.root, "tag")]
        else:
            values = [_element_text(n) for n in self.nodes(doc)]
        return values[:1] if self.first else values

    def _post(self, value: str, base_url: str | None, variables: dict[str, str] | None) -> str:
        if value and self.re:
            m = re.search(self.re, value)
            value = (m.group(1) if m.groups() else m.group(0)) if m else ""
        if value and self.format:
            value = self.format.format(value=value, **(variables or {}))
        if value and self.absolute and base_url:
            value = urljoin(base_url, value)
        return value

    def extract_all(
        self, doc: Any, base_url: str | None = None, variables: dict[str, str] | None = None
    ) -> list[str]:
        """Every match, each post-processed on its own (links)."""
        out = []
        for v in self.raw_values(doc):
            v = v.strip() if self.strip else v
            if v and (v := self._post(v, base_url, variables)):
                out.append(v)
        return out

    def extract(
        self, doc: Any, base_url: str | None = None, variables: dict[str, str] | None = None
    ) -> str | None:
        """All matches joined with ``join`` (one space by default), then ``re``, ``format``, …"""
        parts = self.raw_values(doc)
        if self.strip:
            parts = [" ".join(v.split()) if self.join == " " else v.strip() for v in parts]
        value = self.join.join(p for p in parts if p)
        if self.join != " " and self.strip:
            value = re.sub(r"\n\s*\n+", "\n", value).strip()
        value = self._post(value, base_url, variables)
        return value or self.default


_JMES_CACHE: dict[str, Any] = {}


def _jmespath(query: str) -> Any:
    if query not in _JMES_CACHE:
        import jmespath

        _JMES_CACHE[query] = jmespath.compile(query)
    return _JMES_CACHE[query]


@dataclass(frozen=True)
class Profile:
    name: str
    path: Path
    title: str = ""
    kind: str = "marketplace"
    format: str = "html"
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
    listing_follow: FieldSpec | None = None
    detail_url_pattern: str | None = None
    detail_items: FieldSpec | None = None
    detail_next_page: FieldSpec | None = None
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    download_delay: float | None = None
    concurrency: int | None = None
    autothrottle: bool | None = None
    download_timeout: float | None = None
    max_pages: int | None = None
    max_depth: int | None = None
    robots_obey: bool = True

    def seed_urls(self, base_url: str | None = None, keywords: list[str] | None = None) -> list[str]:
        """Start URLs plus the search URL filled with every keyword, ``{base_url}`` replaced."""
        base = (base_url or self.base_url).rstrip("/")
        urls = [u.replace("{base_url}", base) for u in self.start_urls]
        if self.search_url:
            for kw in keywords if keywords is not None else self.keywords:
                try:
                    q = quote(kw.encode(self.search_url_encoding, errors="strict"))
                except UnicodeEncodeError:  # a keyword the site's charset cannot say
                    continue
                urls.append(self.search_url.replace("{base_url}", base).replace("{keyword}", q))
        return list(dict.fromkeys(urls))

    @property
    def all_specs(self) -> dict[str, FieldSpec]:
        """Every selector of the profile by a readable name (``profile check`` reports on each)."""
        specs = {
            "listing.links": self.listing_links,
            "listing.next_page": self.next_page,
            "listing.follow": self.listing_follow,
            "detail.items": self.detail_items,
            "detail.next_page": self.detail_next_page,
        }
        specs.update({f"detail.fields.{k}": v for k, v in self.fields.items()})
        return {k: v for k, v in specs.items() if v is not None}


_TOP_KEYS = {
    "name", "title", "kind", "format", "lang", "base_url", "timezone", "allowed_domains", "encoding",
    "start_urls", "search", "listing", "detail", "politeness", "max_pages", "max_depth", "robots_obey",
}
_SECTION_KEYS = {
    "search": {"url", "url_encoding", "keywords", "keywords_file"},
    "listing": {"links", "next_page", "follow"},
    "detail": {"url_pattern", "items", "next_page", "fields"},
    "politeness": {"download_delay", "concurrency", "autothrottle", "download_timeout"},
}
_FIELD_KEYS = {"selector", "re", "join", "default", "strip", "attr", "absolute", "format", "first", "scope"}
_PROBE = Selector(text="<html><body><p>probe</p></body></html>")


def load_profile(path: str | Path) -> Profile:
    """Load and validate a profile by path, or by site name from ``crawlers/profiles/``."""
    path = resolve_profile_path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
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

    fmt = d.get("format", "html")

    def field_spec(where: _LineDict, key: str, raw: Any) -> FieldSpec:
        if isinstance(raw, str):
            raw = {"selector": raw}
        if not isinstance(raw, dict) or "selector" not in raw:
            raise fail(where, key, f"{key!r} must be a selector string or a mapping with 'selector'")
        if isinstance(raw, _LineDict):
            check_keys(raw, _FIELD_KEYS, key)
        selector = str(raw["selector"])
        kind, sep, query = selector.partition(":")
        if not sep or kind not in ("css", "xpath", "json") or not query.strip():
            raise fail(where, key, f"{key!r}: selector must start with 'css:' or 'xpath:' (or 'json:' for JSON sites), got {selector!r}")
        if (kind == "json") != (fmt == "json"):
            want = "'json:'" if fmt == "json" else "'css:' or 'xpath:'"
            raise fail(where, key, f"{key!r}: a 'format: {fmt}' profile takes {want} selectors, got {selector!r}")
        if kind == "json":
            import jmespath
            from jmespath.exceptions import JMESPathError

            try:
                jmespath.compile(query)
            except JMESPathError as exc:
                raise fail(where, key, f"{key!r}: JMESPath {query!r} does not compile: {exc}") from None
        else:
            try:
                _PROBE.css(query) if kind == "css" else _PROBE.xpath(query)
            except Exception as exc:
                raise fail(where, key, f"{key!r}: {kind} selector {query!r} does not compile: {exc}") from None
        if raw.get("re") is not None:
            try:
                re.compile(raw["re"])
            except re.error as exc:
                raise fail(where, key, f"{key!r}: bad regex {raw['re']!r}: {exc}") from None
        if (fmt_ := raw.get("format")) is not None:
            if "{value}" not in str(fmt_):
                raise fail(where, key, f"{key!r}: 'format' must contain {{value}}, got {fmt_!r}")
        scope = raw.get("scope", "item")
        if scope not in ("item", "page"):
            raise fail(where, key, f"{key!r}: 'scope' is 'item' or 'page', got {scope!r}")
        for flag in ("strip", "absolute", "first"):
            if flag in raw and not isinstance(raw[flag], bool):
                raise fail(where, key, f"{key!r}: {flag!r} must be true or false")
        return FieldSpec(
            selector, raw.get("re"), str(raw.get("join", " ")), raw.get("default"),
            strip=raw.get("strip", True), attr=raw.get("attr"), absolute=raw.get("absolute", False),
            format=raw.get("format"), first=raw.get("first", False), scope=scope,
        )

    check_keys(d, _TOP_KEYS, "the profile")
    name = d.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_][a-z0-9_.-]*", name):
        raise fail(d, "name" if "name" in d else None, "'name' is required: lower-case letters, digits, _ . -")
    kind = d.get("kind", "marketplace")
    if kind not in KINDS:
        raise fail(d, "kind", f"'kind' is one of {', '.join(KINDS)}, got {kind!r}")
    if fmt not in FORMATS:
        raise fail(d, "format", f"'format' is one of {', '.join(FORMATS)}, got {fmt!r}")
    if (lang := d.get("lang")) is not None and lang not in ("zh", "vi", "en"):
        raise fail(d, "lang", f"'lang' is zh, vi or en, got {lang!r}")
    if tz := d.get("timezone"):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError):
            raise fail(d, "timezone", f"unknown time zone {tz!r} (e.g. Asia/Shanghai)") from None

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
    if enc := search.get("url_encoding"):
        try:
            codecs.lookup(enc)
        except LookupError:
            raise fail(search, "url_encoding", f"unknown encoding {enc!r}") from None

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
    if kind == "forum" and "items" not in detail:
        raise fail(detail, None, "a forum profile needs 'detail.items': the selector of one post on a thread page")
    if pattern := detail.get("url_pattern"):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise fail(detail, "url_pattern", f"bad regex {pattern!r}: {exc}") from None
    for key, ok in (
        ("download_delay", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0),
        ("download_timeout", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0),
        ("concurrency", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1),
        ("autothrottle", lambda v: isinstance(v, bool)),
    ):
        if key in polite and not ok(polite[key]):
            want = {"autothrottle": "true or false", "download_delay": "a number >= 0",
                    "download_timeout": "a number of seconds > 0"}.get(key, "an integer >= 1")
            raise fail(polite, key, f"politeness.{key} must be {want}")
    for key in ("max_pages", "max_depth"):
        if (v := d.get(key)) is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise fail(d, key, f"{key!r} must be a positive integer")
    if (robots := d.get("robots_obey", True)) not in (True, False):
        raise fail(d, "robots_obey", "'robots_obey' must be true or false")
    if enc := d.get("encoding"):
        try:
            codecs.lookup(enc)
        except LookupError:
            raise fail(d, "encoding", f"unknown encoding {enc!r}") from None
    domains = d.get("allowed_domains") or []
    if not isinstance(domains, list) or not all(isinstance(x, str) and "/" not in x for x in domains):
        raise fail(d, "allowed_domains", "'allowed_domains' is a list of host names (no scheme, no path)")

    def opt(where: _LineDict, key: str) -> FieldSpec | None:
        return field_spec(where, key, where[key]) if where.get(key) else None

    return Profile(
        name=name,
        path=path,
        title=str(d.get("title") or name),
        kind=kind,
        format=fmt,
        lang=d.get("lang"),
        base_url=str(d.get("base_url") or ""),
        timezone=str(d.get("timezone") or "UTC"),
        allowed_domains=tuple(domains),
        encoding=d.get("encoding"),
        start_urls=tuple(start_urls),
        search_url=search.get("url"),
        search_url_encoding=str(search.get("url_encoding") or "utf-8"),
        keywords=tuple(dict.fromkeys(keywords)),
        listing_links=field_spec(listing, "links", listing["links"]),
        next_page=opt(listing, "next_page"),
        listing_follow=opt(listing, "follow"),
        detail_url_pattern=detail.get("url_pattern"),
        detail_items=opt(detail, "items"),
        detail_next_page=opt(detail, "next_page"),
        fields={k: field_spec(raw_fields, k, v) for k, v in raw_fields.items()},
        download_delay=polite.get("download_delay"),
        concurrency=polite.get("concurrency"),
        autothrottle=polite.get("autothrottle"),
        download_timeout=polite.get("download_timeout"),
        max_pages=d.get("max_pages"),
        max_depth=d.get("max_depth"),
        robots_obey=bool(robots),
    )


def read_keywords(path: Path) -> list[str]:
    """One keyword per line; blank lines and ``#`` comments ignored."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [s for line in lines if (s := line.split("#", 1)[0].strip())]
