"""``wildwatch db``: migrations."""

from __future__ import annotations

import typer

from pipeline.cli.common import console, state
from pipeline.db import Database, current_revision, head_revision, make_engine, upgrade

app = typer.Typer(help="Database schema: upgrade and show the revision.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(ctx: typer.Context, revision: str = typer.Argument("heads")) -> None:
    """Apply migrations (they also run automatically on first use)."""
    db: Database = state(ctx).db
    engine = make_engine(db.url)
    before = current_revision(engine)
    upgrade(engine, revision)
    console.print(f"{db.display_url}: {before or '(empty)'} → {current_revision(engine)}")
    engine.dispose()


@app.command("current")
def current_cmd(ctx: typer.Context) -> None:
    """Show the database's revision and the newest one this code knows."""
    engine = make_engine(state(ctx).db.url)
    console.print(f"current: {current_revision(engine) or '(empty)'}  head: {head_revision(engine)}")
    engine.dispose()
