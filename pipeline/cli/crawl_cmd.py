"""``wildwatch crawl``: crawl sites described by profiles and store what they list."""

from __future__ import annotations

from collections.abc import Callable

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from crawlers.profile import load_profile
from pipeline.cli.common import console, err_console, state
from pipeline.crawl import CrawlResult, run_crawls


def crawl_progress() -> tuple[Progress, Callable[[str, str], None], Callable[[str], None]]:
    """A Rich progress display with one line per site: pages fetched, listings found."""
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console)
    tasks: dict[str, int] = {}
    counts: dict[str, list[int]] = {}

    def add(site: str) -> None:
        counts[site] = [0, 0]
        tasks[site] = progress.add_task(f"{site}: 0 pages, 0 listings", total=None)

    def on_event(site: str, kind: str) -> None:
        c = counts[site]
        c[0 if kind == "page" else 1] += 1
        progress.update(tasks[site], description=f"{site}: {c[0]} pages, {c[1]} listings")

    return progress, on_event, add


def results_table(results: list[CrawlResult]) -> Table:
    table = Table("site", "pages", "listings", "stored new", "changed", "unchanged", "failures", "finish")
    for r in results:
        s = r.stats
        failures = ", ".join(f"{k}: {v}" for k, v in sorted(r.failures.items())) or "-"
        table.add_row(
            r.site, str(r.pages), str(r.items),
            *(str(s.get(f"wildwatch/stored/{k}", 0)) for k in ("new", "changed", "unchanged")),
            failures, str(s.get("finish_reason", "?")),
        )
    return table


def register(app: typer.Typer) -> None:
    @app.command()
    def crawl(
        ctx: typer.Context,
        profiles: list[str] = typer.Argument(..., help="Profile files or site names (crawlers/profiles/NAME.yaml)."),
        keywords: str = typer.Option(None, "--keywords", help="Keywords file (one per line) for search URLs."),
        max_pages: int = typer.Option(None, "--max-pages", help="Page budget per site."),
        base_url: str = typer.Option(None, "--base-url", help="Replace {base_url} (e.g. a mirror or test server)."),
    ) -> None:
        """Crawl sites from their profiles; every listing is stored with its evidence snapshot."""
        loaded = [load_profile(p) for p in profiles]
        db = state(ctx).db
        db.engine  # migrate before the reactor starts  # noqa: B018
        progress, on_event, add = crawl_progress()
        for p in loaded:
            add(p.name)
        with progress:
            results = run_crawls(
                loaded, db.url, keywords_file=keywords, max_pages=max_pages,
                base_urls={p.name: base_url for p in loaded} if base_url else None, on_event=on_event,
            )
        console.print(results_table(results))
