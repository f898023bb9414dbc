"""``wildwatch audit``: show the audit log and verify its hash chain."""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.table import Table

from pipeline import audit
from pipeline.cli.common import console, state


def register(app: typer.Typer) -> None:
    @app.command("audit")
    def audit_cmd(
        ctx: typer.Context,
        limit: int = typer.Option(20, "--limit", "-n", help="Entries to show (newest first); 0 = none."),
        actor: str = typer.Option(None, "--actor", help="Only this analyst's entries."),
        action: str = typer.Option(None, "--action", help="Only this action (prefix: claim, decide, export …)."),
        item: int = typer.Option(None, "--item", help="Only entries about this review item."),
        as_json: bool = typer.Option(False, "--json", help="JSON lines: the entries, then the verification."),
    ) -> None:
        """Show the newest audit entries and verify the whole chain (exit 1 if it is broken)."""
        with state(ctx).db.session() as session:
            rows = audit.entries(session, actor=actor, action=action, entity="review_item" if item is not None else None,
                                 entity_id=item, limit=limit) if limit else []
            shown = [json.loads(e.payload) | {"hash": e.hash} for e in rows]
            result = audit.verify(session)
        if as_json:
            for row in shown:
                typer.echo(json.dumps(row, ensure_ascii=False))
            typer.echo(json.dumps({"verification": result.as_dict()}))
        else:
            table = Table("seq", "at", "actor", "action", "entity", "change")
            for r in shown:
                change = {k: v for k, v in (r.get("after") or {}).items()
                          if (r.get("before") or {}).get(k) != v and k not in ("claimed_until", "priority")}
                table.add_row(str(r["seq"]), r["at"][:19], escape(r["actor"]), r["action"],
                              escape(f"{r['entity']} {r['entity_id'] or ''}"),
                              escape(json.dumps(change, ensure_ascii=False, default=str)[:100]))
            if shown:
                console.print(table)
            if result.ok:
                console.print(f"[green]audit chain verified[/]: {result.entries} entries, head {result.head_hash}")
            else:
                console.print(f"[red]audit chain BROKEN[/] ({result.entries} entries):")
                for p in result.problems:
                    console.print(f"  {escape(p)}")
        if not result.ok:
            raise typer.Exit(1)
