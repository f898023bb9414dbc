"""``wildwatch queue``: list, claim (next), decide, release."""

from __future__ import annotations

import json
from datetime import timedelta

import typer
from rich.markup import escape
from rich.table import Table

from pipeline import queue
from pipeline.cli.common import console, state
from pipeline.config import default_analyst
from pipeline.models import ReviewItem

app = typer.Typer(help="The review queue: list, claim the next item, decide, release.", no_args_is_help=True)

AnalystOpt = typer.Option(default_analyst(), "--analyst", "-a", envvar="WILDWATCH_ANALYST", help="Who you are.")


def _row(item: ReviewItem) -> dict:
    listing, pred = item.listing, item.prediction
    return {
        "id": item.id,
        "state": item.state.value,
        "priority": item.priority,
        "score": round(pred.score, 4) if pred else None,
        "category": pred.category if pred else None,
        "site": listing.site.name,
        "title": listing.title,
        "url": listing.url,
        "claimed_by": item.claimed_by,
        "claimed_until": item.claimed_until.isoformat() if item.claimed_until else None,
    }


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    state_: str = typer.Option(None, "--state", help="pending | claimed | decided"),
    limit: int = typer.Option(50, "--limit", "-n"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Show review items, highest priority first."""
    if state_ and state_ not in ("pending", "claimed", "decided"):
        raise queue.QueueError(f"unknown state {state_!r}; use pending, claimed or decided")
    with state(ctx).db.session() as session:
        rows = [_row(i) for i in queue.list_items(session, state=state_, limit=limit)]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    table = Table("id", "state", "score", "category", "site", "title")
    for r in rows:
        # Scraped text is hostile: escape Rich markup in it.
        table.add_row(str(r["id"]), r["state"], f"{r['score']:.2f}", r["category"] or "", r["site"], escape((r["title"] or "")[:60]))
    console.print(table)


@app.command("next")
def next_cmd(
    ctx: typer.Context,
    analyst: str = AnalystOpt,
    lease_minutes: int = typer.Option(30, "--lease", help="Minutes you hold the item."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Claim the highest-priority item and show it."""
    with state(ctx).db.session() as session:
        item = queue.claim_next(session, analyst, lease=timedelta(minutes=lease_minutes))
        row = _row(item) if item else None
        if item:
            row["text"] = item.listing.text
            row["price"] = item.listing.price_raw
            row["evidence"] = item.prediction.evidence if item.prediction else []
    if row is None:
        typer.echo("The queue is empty." if not as_json else "null")
        return
    if as_json:
        typer.echo(json.dumps(row, ensure_ascii=False))
        return
    console.print(f"[bold]#{row['id']}[/] {escape(row['title'] or '')}  [dim]({row['site']}, score {row['score']:.2f}, {row['category']})[/]")
    console.print(escape(row["url"]))
    console.print(escape((row["text"] or "")[:1200]))
    console.print(f"price: {escape(row['price'] or '-')}   evidence: {escape(', '.join(row['evidence']))}")
    console.print(f"[dim]held by {analyst} until {row['claimed_until']} — decide with: wildwatch queue decide {row['id']} LABEL[/]")


@app.command("decide")
def decide_cmd(
    ctx: typer.Context,
    item_id: int = typer.Argument(..., help="Review item id."),
    label: str = typer.Argument(..., help="illegal | legal | not_wildlife | escalate"),
    analyst: str = AnalystOpt,
    category: str = typer.Option(None, "--category", "-c", help="Wildlife category, if you correct it."),
    note: str = typer.Option(None, "--note", "-m"),
) -> None:
    """Decide an item you hold."""
    with state(ctx).db.session() as session:
        decision = queue.decide(session, item_id, analyst, label, category=category, note=note)
        console.print(f"#{item_id}: {decision.label.value} by {analyst}")


@app.command("release")
def release_cmd(ctx: typer.Context, item_id: int = typer.Argument(...), analyst: str = AnalystOpt) -> None:
    """Give an item you hold back to the queue."""
    with state(ctx).db.session() as session:
        queue.release(session, item_id, analyst)
    console.print(f"#{item_id}: released")
