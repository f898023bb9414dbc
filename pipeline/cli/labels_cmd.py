"""``wildwatch labels export``: decided listings as training data (corpus format)."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import typer

from pipeline.cli.common import err_console, state
from pipeline.config import default_analyst
from pipeline.exports import ExportError, export_labels

app = typer.Typer(help="Labelled data from analysts' decisions, for retraining.", no_args_is_help=True)

_RELATIVE = re.compile(r"^(\d+)([dhw])$")


def parse_since(value: str | None) -> datetime | None:
    """ISO date or datetime (UTC unless it says otherwise), or relative: 7d, 12h, 2w."""
    if not value:
        return None
    m = _RELATIVE.match(value.strip())
    if m:
        n, unit = int(m.group(1)), m.group(2)
        delta = {"d": timedelta(days=n), "h": timedelta(hours=n), "w": timedelta(weeks=n)}[unit]
        return datetime.now(timezone.utc) - delta
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ExportError(f"--since {value!r}: use an ISO date (2026-11-01), a datetime, or 7d / 12h / 2w") from None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    since: str = typer.Option(None, "--since", help="Decisions made at or after: 2026-11-01, 2026-11-01T08:00, 7d, 12h."),
    fmt: str = typer.Option("jsonl", "--format", "-f", help="jsonl | csv"),
    out: Path = typer.Option(None, "--out", "-o", help="Output file (default: stdout)."),
    analyst: str = typer.Option(default_analyst(), "--analyst", "-a", envvar="WILDWATCH_ANALYST",
                                help="Who exports (for the audit log)."),
) -> None:
    """Export final decisions (illegal → positive; legal, not_wildlife → negative; escalate is not
    exported), one record per listing of each decided cluster."""
    summary = export_labels(state(ctx).db, out, fmt=fmt, since=parse_since(since), actor=analyst,
                            stream=sys.stdout if out is None else None)
    skipped = ", ".join(f"{n} {why}" for why, n in summary.skipped.items())
    err_console.print(f"{summary.records} record(s) from {summary.decisions} decision(s)"
                      + (f" to {out}" if out else "") + (f"; skipped {skipped}" if skipped else ""))
