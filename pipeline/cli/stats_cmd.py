"""``wildwatch stats``: what the database holds."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from pipeline.cli.common import console, state
from pipeline.scoring import database_stats


def register(app: typer.Typer) -> None:
    @app.command()
    def stats(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="One JSON object.")) -> None:
        """Counts of sites, listings, predictions, flagged listings and review items."""
        data = database_stats(state(ctx).db)
        if as_json:
            typer.echo(json.dumps(data, ensure_ascii=False, sort_keys=True))
            return
        table = Table("what", "count")
        for key, value in data.items():
            shown = ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else str(value)
            table.add_row(key, shown)
        console.print(table)
