"""``wildwatch crawl``: crawl sites described by profiles and store what they list."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from crawlers.profile import load_profile
from pipeline.cli.common import console, err_console, state
from pipeline.crawl import CrawlResult, build_egg, deploy_egg, run_crawls


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
    table = Table("site", "run", "pages", "listings", "new", "changed", "unchanged", "removed", "failures by kind",
                  "finish")
    for r in results:
        s = r.stats
        failures = "\n".join(f"{k}: {v}" for k, v in sorted(r.failures.items())) or "-"
        removed = int(s.get("wildwatch/removed/gone", 0)) + int(s.get("wildwatch/removed/not_listed", 0))
        table.add_row(
            escape(r.site), str(s.get("wildwatch/crawl_run_id", "-")), str(r.pages), str(r.items),
            *(str(s.get(f"wildwatch/stored/{k}", 0)) for k in ("new", "changed", "unchanged")),
            str(removed), escape(failures), escape(str(s.get("finish_reason", "?"))),
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
        distributed: str = typer.Option(
            None, "--distributed", metavar="CRAWL_ID",
            help="Join the shared crawl CRAWL_ID on Redis (run the same command on other machines; "
            "run it again to resume a killed crawl).",
        ),
        redis_url: str = typer.Option(
            "redis://127.0.0.1:6379/0", "--redis-url", envvar="WILDWATCH_REDIS_URL", help="Redis for --distributed.",
        ),
    ) -> None:
        """Crawl sites from their profiles; every listing is stored with its evidence snapshot.

        Each crawl is recorded as a crawl run with Scrapy's stats and its failures by kind.
        """
        loaded = [load_profile(p) for p in profiles]
        if keywords and not Path(keywords).is_file():
            raise FileNotFoundError(f"keywords file {keywords} does not exist")
        db = state(ctx).db
        db.engine  # migrate before the reactor starts
        progress, on_event, add = crawl_progress()
        for p in loaded:
            add(p.name)
        with progress:
            results = run_crawls(
                loaded, db.url, keywords_file=keywords, max_pages=max_pages,
                base_urls={p.name: base_url for p in loaded} if base_url else None, on_event=on_event,
                crawl_id=distributed, settings={"WILDWATCH_REDIS_URL": redis_url} if distributed else None,
            )
        console.print(results_table(results))

    @app.command()
    def deploy(
        target: str = typer.Option("http://127.0.0.1:6800", "--target", envvar="WILDWATCH_SCRAPYD", help="Scrapyd URL."),
        project: str = typer.Option("wildwatch", "--project", help="Scrapyd project name."),
        egg: Path = typer.Option(None, "--egg", help="Also keep the egg here (default: a temporary file)."),
        build_only: bool = typer.Option(False, "--build-only", help="Only build the egg (needs --egg)."),
    ) -> None:
        """Build the Scrapy project egg (spiders, profiles, store pipeline) and upload it to Scrapyd."""
        import tempfile
        import time

        version = time.strftime("%Y%m%d%H%M%S")
        if build_only and egg is None:
            raise typer.BadParameter("--build-only needs --egg PATH")
        with tempfile.TemporaryDirectory() as tmp:
            path = build_egg(egg or Path(tmp) / f"wildwatch-{version}.egg", version)
            if build_only:
                console.print(f"built {escape(str(path))}")
                return
            answer = deploy_egg(target, project, path, version)
        if answer.get("status") != "ok":
            typer.secho(f"error: Scrapyd said {answer}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
        console.print(f"deployed {project} {version} to {escape(target)}: spiders {answer.get('spiders')}")
