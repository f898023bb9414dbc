"""``wildwatch queue``: list, stats, next (claim), show, decide, release, send-back, change, assign,
policy, reprioritise. The workflow is described in docs/review.md."""

from __future__ import annotations

import json
from datetime import timedelta

import typer
from rich.markup import escape
from rich.table import Table

from pipeline import queue
from pipeline.cli.common import console, state
from pipeline.config import default_analyst
from pipeline.review import api

app = typer.Typer(help="The review queue: claim the next item, decide, release, send back, change.",
                  no_args_is_help=True)

AnalystOpt = typer.Option(default_analyst(), "--analyst", "-a", envvar="WILDWATCH_ANALYST", help="Who you are.")
LangOpt = typer.Option(None, "--lang", help="Only items in this language (zh, vi, en, other).")
CategoryOpt = typer.Option(None, "--category", help="Only items of this (predicted) category.")
SiteOpt = typer.Option(None, "--site", help="Only items found on this site.")
MinScoreOpt = typer.Option(None, "--min-score", help="Only items scored at least this (0..1).")
MaxScoreOpt = typer.Option(None, "--max-score", help="Only items scored at most this (0..1).")


def _e(value: object) -> str:
    """Scraped text is hostile: escape Rich markup in anything shown."""
    return escape("" if value is None else str(value))


def _echo_json(obj: object) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, default=str))


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    state_: str = typer.Option(None, "--state", help="pending | claimed | decided"),
    stage: str = typer.Option(None, "--stage", help="first | second | correction"),
    lang: str = LangOpt, category: str = CategoryOpt, site: str = SiteOpt,
    min_score: float = MinScoreOpt, max_score: float = MaxScoreOpt,
    limit: int = typer.Option(50, "--limit", "-n"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Show review items, highest priority first."""
    filters = queue.ClaimFilter(lang=lang, category=category, site=site, min_score=min_score, max_score=max_score)
    with state(ctx).db.session() as session:
        rows = [api.item_row(i) for i in queue.list_items(session, state=state_, stage=stage, filters=filters, limit=limit)]
    if as_json:
        for row in rows:
            _echo_json(row)
        return
    table = Table("id", "state", "stage", "prio", "score", "category", "lang", "site", "n", "title")
    for r in rows:
        table.add_row(str(r["id"]), r["state"], r["stage"], f"{r['priority']:.1f}",
                      f"{r['score']:.2f}" if r["score"] is not None else "-", _e(r["category"]), _e(r["lang"]),
                      _e(r["site"]), str(r["cluster_size"]), _e((r["title"] or "")[:60]))
    console.print(table)


@app.command("stats")
def stats_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="One JSON object.")) -> None:
    """Items by state and stage, expired leases, final decisions by label and reviewer."""
    with state(ctx).db.session() as session:
        data = queue.stats(session)
    if as_json:
        _echo_json(data)
        return
    table = Table("what", "value")
    for key, value in data.items():
        shown = ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else str(value)
        table.add_row(key, _e(shown))
    console.print(table)


def _show(view: dict, analyst: str | None = None) -> None:
    why = view["why"]
    console.print(f"[bold]#{view['id']}[/] [{view['state']}/{view['stage']}] priority {view['priority']:.1f} "
                  f"(score {why['score']:.2f} × severity {why['severity']:.2f} × recency {why['recency']:.2f} "
                  f"× cluster {why['cluster']:.2f})  {_e(view['category'])}, {_e(view['lang'])}")
    if view.get("return_note"):
        console.print(f"[yellow]sent back: {_e(view['return_note'])}[/]")
    for d in view["decisions"]:
        console.print(f"  [dim]decision {d['decision']}: {d['label']} ({_e(d['category'])}, {_e(d['species'])}) "
                      f"by {_e(d['reviewer'])} — {d['status']}; {_e(d['note'])}[/]")
    pred = view["prediction"] or {}
    console.print(f"evidence: {_e(', '.join(pred.get('evidence') or []))}")
    listings = view["listings"]
    console.print(f"{len(listings)} listing(s) in this cluster:")
    for l in listings:
        console.print(f"[bold]· {_e(l['title'])}[/]  [dim]({_e(l['site'])}, similarity {l['similarity']}, "
                      f"seen {(l['first_seen'] or '')[:10]})[/]")
        console.print(f"  {_e(l['url'])}")
        console.print(f"  {_e((l['text'] or '')[:800])}")
        console.print(f"  price: {_e(l['price'] or '-')}   snapshots: {len(l['snapshots'])}")
    if analyst and view["state"] == "claimed":
        console.print(f"[dim]held by {_e(analyst)} until {view['claimed_until']} — "
                      f"decide with: wildwatch queue decide {view['id']} LABEL[/]")


@app.command("next")
def next_cmd(
    ctx: typer.Context,
    analyst: str = AnalystOpt,
    lang: str = LangOpt, category: str = CategoryOpt, site: str = SiteOpt,
    min_score: float = MinScoreOpt, max_score: float = MaxScoreOpt,
    mine: bool = typer.Option(False, "--mine", help="Only items assigned to you."),
    lease_minutes: float = typer.Option(30, "--lease", help="Minutes you hold the item."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Claim the highest-priority item (matching the filters) and show it."""
    filters = queue.ClaimFilter(lang=lang, category=category, site=site, min_score=min_score,
                                max_score=max_score, assigned_only=mine)
    with state(ctx).db.session() as session:
        item = queue.claim_next(session, analyst, lease=timedelta(minutes=lease_minutes), filters=filters)
        view = api.item_view(session, item.id) if item else None
    if view is None:
        typer.echo("null" if as_json else "Nothing to review (with these filters).")
        return
    if as_json:
        _echo_json(view)
        return
    _show(view, analyst)


@app.command("show")
def show_cmd(ctx: typer.Context, item_id: int = typer.Argument(...),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Show one item: its cluster's listings, why it ranks where it does, its decision history."""
    with state(ctx).db.session() as session:
        view = api.item_view(session, item_id)
    if as_json:
        _echo_json(view)
    else:
        _show(view)


@app.command("decide")
def decide_cmd(
    ctx: typer.Context,
    item_id: int = typer.Argument(..., help="Review item id."),
    label: str = typer.Argument(..., help="illegal | legal | not_wildlife | escalate"),
    analyst: str = AnalystOpt,
    category: str = typer.Option(None, "--category", "-c", help="Wildlife category (yours, if you correct the model's)."),
    species: str = typer.Option(None, "--species", "-s", help="Scientific or listed common name."),
    kind: str = typer.Option(None, "--kind", help="explicit|slang|obfuscated (illegal), colour|brand|substitute|… (others)."),
    note: str = typer.Option(None, "--note", "-m"),
) -> None:
    """Decide an item you hold (first review, second review or correction)."""
    with state(ctx).db.session() as session:
        decision = queue.decide(session, item_id, analyst, label, category=category, species=species, kind=kind, note=note)
        status = decision.status.value
    extra = " — waits for a second analyst (two-person rule)" if status == "proposed" else ""
    console.print(f"#{item_id}: {label} by {_e(analyst)} ({status}){extra}")


@app.command("change")
def change_cmd(
    ctx: typer.Context,
    item_id: int = typer.Argument(...),
    label: str = typer.Argument(..., help="illegal | legal | not_wildlife | escalate"),
    analyst: str = AnalystOpt,
    category: str = typer.Option(None, "--category", "-c"),
    species: str = typer.Option(None, "--species", "-s"),
    kind: str = typer.Option(None, "--kind"),
    note: str = typer.Option(None, "--note", "-m"),
) -> None:
    """Change your decision on a decided item; the old one stays in the history."""
    with state(ctx).db.session() as session:
        decision = queue.change_decision(session, item_id, analyst, label, category=category, species=species,
                                         kind=kind, note=note)
        status = decision.status.value
    console.print(f"#{item_id}: changed to {label} by {_e(analyst)} ({status})")


@app.command("send-back")
def send_back_cmd(ctx: typer.Context, item_id: int = typer.Argument(...), analyst: str = AnalystOpt,
                  note: str = typer.Option(..., "--note", "-m", help="Why it goes back.")) -> None:
    """Send a decision back to its author for correction (second review, or a decided item)."""
    with state(ctx).db.session() as session:
        item = queue.send_back(session, item_id, analyst, note)
        to = item.assigned_to
    console.print(f"#{item_id}: sent back to {_e(to)}")


@app.command("release")
def release_cmd(ctx: typer.Context, item_id: int = typer.Argument(...), analyst: str = AnalystOpt) -> None:
    """Give an item you hold back to the queue."""
    with state(ctx).db.session() as session:
        queue.release(session, item_id, analyst)
    console.print(f"#{item_id}: released")


@app.command("assign")
def assign_cmd(ctx: typer.Context, item_id: int = typer.Argument(...),
               to: str = typer.Argument(None, help="Analyst (omit to unassign)."), analyst: str = AnalystOpt) -> None:
    """Assign an undecided item to an analyst (they claim it with: queue next --mine)."""
    with state(ctx).db.session() as session:
        queue.assign(session, item_id, analyst, to)
    console.print(f"#{item_id}: assigned to {_e(to) if to else 'nobody'}")


@app.command("history")
def history_cmd(ctx: typer.Context, item_id: int = typer.Argument(...),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Every decision on an item, with its status (final, superseded, returned …)."""
    with state(ctx).db.session() as session:
        rows = queue.history(session, item_id)
    if as_json:
        for r in rows:
            _echo_json(r)
        return
    table = Table("decision", "at", "reviewer", "label", "category", "species", "stage", "status", "note")
    for r in rows:
        table.add_row(str(r["decision"]), r["decided_at"][:19], _e(r["reviewer"]), r["label"], _e(r["category"]),
                      _e(r["species"]), r["stage"], r["status"], _e(r["note"]))
    console.print(table)


@app.command("policy")
def policy_cmd(
    ctx: typer.Context,
    category: str = typer.Argument(None, help="Category to set ('*' = every category); omit to show."),
    two_person: bool = typer.Option(None, "--two-person/--one-person", help="Require a second analyst."),
    analyst: str = AnalystOpt,
) -> None:
    """Show or set the two-person rule per category."""
    with state(ctx).db.session() as session:
        if category is not None:
            if two_person is None:
                raise queue.QueueError("say --two-person or --one-person")
            queue.set_policy(session, category, two_person=two_person, actor=analyst)
        rows = queue.policies(session)
    for cat, two in sorted(rows.items()):
        console.print(f"{_e(cat)}: {'two-person' if two else 'one-person'}")
    if not rows:
        console.print("every category: one-person")


@app.command("reprioritise")
def reprioritise_cmd(ctx: typer.Context, analyst: str = AnalystOpt) -> None:
    """Recompute the priority of every undecided item (keeps recency current; run daily)."""
    with state(ctx).db.session() as session:
        n = queue.reprioritise(session, actor=analyst)
    console.print(f"{n} item(s) re-prioritised")
