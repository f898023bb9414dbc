"""The ``wildwatch`` command line: one module per command group, composed here.

The root callback only builds the database handle into ``ctx.obj``; commands call library
functions. A user mistake (bad profile, unknown label, tampered model …) is one clear line on
stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from pipeline.cli import crawl_cmd, db_cmd, demo_cmd, evidence_cmd, model_cmd, profile_cmd, queue_cmd, stats_cmd
from pipeline.cli import audit_cmd, cases_cmd, labels_cmd
from pipeline.cli.common import AppState, user_errors
from pipeline.db import DEFAULT_DB_URL, Database


class _Group(TyperGroup):
    def invoke(self, ctx):  # noqa: ANN001, ANN201 - click API
        try:
            return super().invoke(ctx)
        except user_errors() as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Group,
    help="Wildwatch: find online ads for illegal wildlife products and review them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def root(
    ctx: typer.Context,
    db: str = typer.Option(
        DEFAULT_DB_URL, "--db", envvar="WILDWATCH_DB", help="SQLAlchemy database URL (SQLite file or PostgreSQL)."
    ),
) -> None:
    ctx.obj = AppState(Database(db))


app.add_typer(db_cmd.app, name="db")
app.add_typer(queue_cmd.app, name="queue")
app.add_typer(labels_cmd.app, name="labels")
app.add_typer(cases_cmd.app, name="cases")
for module in (crawl_cmd, demo_cmd, model_cmd, stats_cmd, audit_cmd, evidence_cmd, profile_cmd):
    module.register(app)


def main() -> None:
    app()
