"""``wildwatch demo``: the whole pipeline on the local demo sites, end to end."""

from __future__ import annotations

import time

import typer
from rich.table import Table
from sqlalchemy import func, select

from crawlers.profile import load_profile
from pipeline.cli.common import console, err_console, state
from pipeline.cli.crawl_cmd import crawl_progress, results_table
from pipeline.cli.model_cmd import _progress
from pipeline.config import corpus_files, default_model_dir
from pipeline.crawl import run_crawls
from pipeline.db import Database
from pipeline.models import Listing, Prediction, ReviewItem, Site
from pipeline.scoring import database_stats, score_listings, unscored_ids


class DemoPortsBusy(ValueError):
    """The demo's ports are taken (another demo still running?)."""


def ensure_model(model_dir):  # noqa: ANN001, ANN201 - Path → classifier.Model
    """Load the model, training it from the repo's corpus first if the folder has none."""
    from classifier import load_model, read_corpus, train_model

    if (model_dir / "meta.json").exists():
        return load_model(model_dir)
    err_console.print(f"no model in {model_dir}: training one from classifier/data/corpus/ …")
    return train_model(read_corpus(corpus_files()), model_dir)


def summary_table(db: Database, model_version: str) -> Table:
    table = Table("site", "listings", "scored", "flagged", "flagged by category", title="Wildwatch demo")
    with db.session() as session:
        for site in session.scalars(select(Site).order_by(Site.name)):
            n = session.scalar(select(func.count()).where(Listing.site_id == site.id))
            preds = (
                select(Prediction.category, func.count())
                .join(Listing, Listing.id == Prediction.listing_id)
                .where(Listing.site_id == site.id, Prediction.model_version == model_version)
            )
            scored = session.scalar(preds.with_only_columns(func.count()))
            per_cat = dict(session.execute(preds.where(Prediction.flag.is_(True)).group_by(Prediction.category)).all())
            table.add_row(
                site.name, str(n), str(scored), str(sum(per_cat.values())),
                ", ".join(f"{k} {v}" for k, v in sorted(per_cat.items(), key=lambda kv: -kv[1])),
            )
    return table


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        ctx: typer.Context,
        exit_: bool = typer.Option(False, "--exit", help="Exit when done instead of serving the demo sites."),
        port_base: int = typer.Option(8601, "--port-base", help="Ports for the demo sites (0: any free port)."),
        max_pages: int = typer.Option(None, "--max-pages", help="Page budget per site."),
    ) -> None:
        """Start the demo sites, crawl them all, classify, fill the review queue, print a summary."""
        from demo.server import DEMO_SITES, DemoSites

        db = state(ctx).db
        db.engine  # migrate before the reactor starts  # noqa: B018
        model = ensure_model(default_model_dir())
        ports = {site: (port_base + i if port_base else 0) for i, site in enumerate(DEMO_SITES)}
        try:
            servers = DemoSites(ports=ports, names=DEMO_SITES)
        except OSError as exc:
            raise DemoPortsBusy(
                f"cannot serve the demo sites on ports {port_base}-{port_base + len(DEMO_SITES) - 1}: {exc.strerror}; "
                "try --port-base 0 (any free port)"
            ) from None
        with servers as sites:
            err_console.print("demo sites: " + ", ".join(f"{k} {v}" for k, v in sites.urls.items()))
            profiles = [load_profile(site) for site in DEMO_SITES]
            progress, on_event, add = crawl_progress()
            for p in profiles:
                add(p.name)
            with progress:
                results = run_crawls(profiles, db.url, base_urls=sites.urls, max_pages=max_pages, on_event=on_event)
            console.print(results_table(results))

            total = len(unscored_ids(db, model.version))
            with _progress() as bar:
                task = bar.add_task(f"classifying with {model.version}", total=total)
                score_listings(db, model, on_batch=lambda n: bar.advance(task, n))
            console.print(summary_table(db, model.version))
            stats = database_stats(db)
            queue = stats["review_items_by_state"]
            console.print(
                f"review queue: {queue.get('pending', 0)} pending, {queue.get('claimed', 0)} claimed, "
                f"{queue.get('decided', 0)} decided — next: [bold]wildwatch queue next[/]   (database: {db.display_url})"
            )
            if exit_:
                return
            err_console.print("serving the demo sites; Ctrl-C to stop")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
