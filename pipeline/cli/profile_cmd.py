"""``wildwatch profile check PROFILE [--url URL]``: what each selector of a profile extracts.

The tool an operator keeps open while writing a profile: it fetches one listing (or search) page
and one detail page, the way the spider would, and shows a table of every selector with what it
matched — and, in red, the ones that matched nothing. Exit status 1 when the profile cannot work
(no detail links, or neither title nor text on the detail page).
"""

from __future__ import annotations

import re
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

import typer
from rich.markup import escape
from rich.table import Table

from crawlers.parsing import parse_posted, parse_price
from crawlers.profile import FieldSpec, Profile, load_profile
from pipeline.cli.common import console, err_console

app = typer.Typer(help="Write and check site profiles.", no_args_is_help=True)


class FetchError(RuntimeError):
    """A page that ``profile check`` could not fetch or decode."""


def fetch(url: str, profile: Profile, timeout: float = 20) -> tuple[object, object]:
    """``(decoded response, document)`` for ``url``, decoded and parsed as the spider would."""
    from scrapy.http import HtmlResponse
    from scrapy.http.response.text import TextResponse
    from scrapy.responsetypes import responsetypes

    from crawlers.settings import USER_AGENT
    from crawlers.spiders.profile_spider import decode_response, parse_document

    try:
        with urlopen(Request(url, headers={"User-Agent": USER_AGENT}), timeout=timeout) as r:
            status, headers, body = r.status, dict(r.headers.items()), r.read()
    except HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code}") from None
    except (URLError, OSError) as exc:
        raise FetchError(f"{url}: {getattr(exc, 'reason', exc)}") from None
    cls = responsetypes.from_args(headers=headers, url=url, body=body)
    if not issubclass(cls, TextResponse):
        cls = HtmlResponse if profile.format == "html" else cls
    response = cls(url, status=status, headers=headers, body=body)
    decoded, note = decode_response(response, profile)
    if decoded is None:
        raise FetchError(f"{url}: {note}")
    try:
        return decoded, parse_document(decoded, profile)
    except ValueError:
        raise FetchError(f"{url}: not JSON") from None


def _show(values: list[str], limit: int = 3, width: int = 90) -> str:
    shown = [escape(v if len(v) <= width else v[: width - 1] + "…") for v in values[:limit]]
    more = f"\n[dim]… and {len(values) - limit} more[/]" if len(values) > limit else ""
    return "\n".join(shown) + more


def _row(table: Table, name: str, spec: FieldSpec, values: list[str], misses: list[str]) -> None:
    if not values:
        misses.append(name)
        table.add_row(name, escape(spec.selector), "[red]0[/]", "[red]matched nothing[/]")
    else:
        table.add_row(name, escape(spec.selector), str(len(values)), _show(values))


@app.command("check")
def check(
    profile_name: str = typer.Argument(..., metavar="PROFILE", help="Profile file or site name."),
    url: str = typer.Option(None, "--url", help="Check this page (a detail page if it matches detail.url_pattern)."),
    base_url: str = typer.Option(None, "--base-url", help="Replace {base_url} (a mirror or a test server)."),
    keyword: str = typer.Option(None, "--keyword", help="Search with this keyword instead of the profile's first."),
) -> None:
    """Fetch one listing/search page and one detail page; show what every selector extracted."""
    profile = load_profile(profile_name)
    base = (base_url or profile.base_url).rstrip("/")
    variables = {"base_url": base}
    detail_re = re.compile(profile.detail_url_pattern) if profile.detail_url_pattern else None
    misses: list[str] = []
    detail_url = url if url and detail_re and detail_re.search(url) else None
    try:
        if detail_url is None:
            seeds = profile.seed_urls(base, [keyword] if keyword else None)
            searches = [u for u in seeds if u not in {s.replace("{base_url}", base) for s in profile.start_urls}]
            listing_url = url or (searches[0] if searches else seeds[0])
            links: list[str] = []
            for _hop in range(3):  # a board index has no detail links: follow listing.follow down
                decoded, doc = fetch(listing_url, profile)
                table = Table("selector", "query", "matches", "extracted", title=f"listing page {escape(listing_url)}")
                follow: list[str] = []
                for name, spec in (("listing.links", profile.listing_links), ("listing.next_page", profile.next_page),
                                   ("listing.follow", profile.listing_follow)):
                    if spec is None:
                        continue
                    values = [decoded.urljoin(v) for v in spec.extract_all(doc, decoded.url, variables)]
                    _row(table, name, spec, values, [])
                    if name == "listing.links":
                        links = [v for v in values if not detail_re or detail_re.search(v)]
                    elif name == "listing.follow":
                        follow = values
                console.print(table)
                if links or not follow:
                    break
                listing_url = follow[0]
            if not links:
                misses.append("listing.links")
                err_console.print("[red]no detail links on this page[/]: check listing.links and detail.url_pattern")
                raise typer.Exit(1)
            detail_url = links[0]
        decoded, doc = fetch(detail_url, profile)
    except FetchError as exc:
        err_console.print(f"error: {escape(str(exc))}")
        raise typer.Exit(1) from None

    blocks = profile.detail_items.nodes(doc) if profile.detail_items else [doc]
    table = Table("selector", "query", "matches", "extracted", title=f"detail page {escape(detail_url)}")
    if profile.detail_items:
        table.add_row("detail.items", escape(profile.detail_items.selector), str(len(blocks)),
                      f"{len(blocks)} item(s); fields below are from the first")
        if not blocks:
            misses.append("detail.items")
    first = blocks[0] if blocks else doc
    values = {}
    for name, spec in profile.fields.items():
        node = doc if spec.scope == "page" else first
        value = spec.extract(node, decoded.url, variables)
        values[name] = value
        _row(table, f"detail.fields.{name}", spec, [value] if value else [], misses)
    if profile.detail_next_page:
        nxt = profile.detail_next_page.extract(doc, decoded.url, variables)
        table.add_row("detail.next_page", escape(profile.detail_next_page.selector), "1" if nxt else "0",
                      escape(decoded.urljoin(nxt)) if nxt else "[dim]none (last page)[/]")
    console.print(table)
    if values.get("price"):
        amount, currency = parse_price(values["price"], profile.lang)
        console.print(f"price {escape(values['price'])!r} → {amount} {currency or ''}")
    if values.get("posted"):
        from datetime import datetime, timezone

        when = parse_posted(values["posted"], now=datetime.now(timezone.utc), lang=profile.lang, tz=profile.timezone)
        console.print(f"posted {escape(values['posted'])!r} → {when.isoformat() if when else '[red]not understood[/]'}")
    if misses:
        err_console.print("[yellow]matched nothing:[/] " + ", ".join(misses))
    if not values.get("title") and not values.get("text"):
        err_console.print("[red]neither title nor text matched on the detail page[/]")
        raise typer.Exit(1)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="profile")
