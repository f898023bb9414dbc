"""``wildwatch cases export``: cases with their evidence, verifiable with sha256sum."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from pipeline.cli.common import console, state
from pipeline.cli.labels_cmd import parse_since
from pipeline.config import default_analyst
from pipeline.exports import export_cases

app = typer.Typer(help="Cases for investigators: CSV + JSON + evidence bundles.", no_args_is_help=True)


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", "-o", help="A new or empty folder."),
    label: str = typer.Option("illegal", "--label", help="Final decision label to export."),
    since: str = typer.Option(None, "--since", help="Decided at or after: 2026-11-01, 7d, 12h."),
    analyst: str = typer.Option(default_analyst(), "--analyst", "-a", envvar="WILDWATCH_ANALYST",
                                help="Who exports (for the audit log)."),
) -> None:
    """Write DIR/cases.csv, DIR/cases.json and DIR/case-NNNNNN/ (listings, raw snapshots, SHA256SUMS)."""
    s = export_cases(state(ctx).db, out, label=label, since=parse_since(since), actor=analyst)
    console.print(f"{s.cases} case(s), {s.listings} listing(s), {s.snapshots} snapshot(s), {s.files} file(s) "
                  f"in {escape(str(out))}")
    console.print(f"verify: cd {escape(str(out))} && sha256sum -c SHA256SUMS   (manifest sha256 {s.manifest_sha256})")
