"""``wildwatch evidence LISTING_ID --out DIR``: a listing's snapshots and a sha256 manifest."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from pipeline.cli.common import console, state
from pipeline.evidence import EvidenceError, export_evidence


def register(app: typer.Typer) -> None:
    @app.command()
    def evidence(
        ctx: typer.Context,
        listing_id: int = typer.Argument(..., help="The listing's id (as in `wildwatch queue list`)."),
        out: Path = typer.Option(..., "--out", help="Directory to write the snapshots and SHA256SUMS to."),
    ) -> None:
        """Write every snapshot of a listing as fetched, with a manifest that `sha256sum -c` verifies."""
        with state(ctx).db.session() as session:
            try:
                exported = export_evidence(session, listing_id, out)
            except EvidenceError as exc:
                typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
                raise typer.Exit(1) from None
        for path in exported.files:
            console.print(escape(str(path)))
        console.print(f"verify with: cd {escape(str(out))} && sha256sum -c {exported.manifest.name}")
