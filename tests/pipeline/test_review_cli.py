"""The analyst CLI end to end (CliRunner): queue next / decide / list / stats / release, labels,
cases, audit; user mistakes are one clear line and exit 1."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.db import Database
from tests.pipeline.factories import item, queue_items, store

runner = CliRunner()


def ww(db_url: str, *args: str):
    return runner.invoke(app, ["--db", db_url, *args], env={"COLUMNS": "200"})


def test_an_analyst_session_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    db = Database(url)
    queue_items(db, 3)
    store(db, item("x", title="[bold red]HACKED[/] ivory", text="[link=http://evil]click[/link]", site="s1"))
    db.dispose()

    res = ww(url, "queue", "next", "-a", "lan", "--json")
    assert res.exit_code == 0, res.output
    first = json.loads(res.stdout)
    assert first["state"] == "claimed" and first["why"]["severity"] == 1.0 and first["listings"]

    assert ww(url, "queue", "decide", str(first["id"]), "illegal", "-a", "lan", "-c", "ivory",
              "-s", "Elephas maximus", "-m", "carved tusk").exit_code == 0
    res = ww(url, "queue", "decide", str(first["id"]), "legal", "-a", "lan")
    assert res.exit_code == 1 and "already decided" in res.output and "Traceback" not in res.output
    res = ww(url, "queue", "decide", str(first["id"]), "maybe", "-a", "lan")
    assert res.exit_code == 1 and "unknown label" in res.output

    second = json.loads(ww(url, "queue", "next", "-a", "minh", "--json").stdout)
    res = ww(url, "queue", "decide", str(second["id"]), "illegal", "-a", "lan")
    assert res.exit_code == 1 and "held by minh" in res.output
    assert ww(url, "queue", "release", str(second["id"]), "-a", "minh").exit_code == 0
    assert ww(url, "queue", "change", str(first["id"]), "legal", "-a", "lan", "-m", "resin").exit_code == 0
    hist = ww(url, "queue", "history", str(first["id"]), "--json").stdout.splitlines()
    assert [json.loads(h)["status"] for h in hist] == ["superseded", "final"]

    res = ww(url, "queue", "list")
    assert res.exit_code == 0 and "#" not in res.stdout.split("\n")[0]
    stats = json.loads(ww(url, "queue", "stats", "--json").stdout)
    assert stats["items"]["decided"] == 1
    assert ww(url, "queue", "policy", "ivory", "--two-person", "-a", "lead").exit_code == 0

    res = ww(url, "labels", "export", "--format", "jsonl", "--since", "7d", "-a", "researcher")
    assert res.exit_code == 0 and json.loads(res.stdout.splitlines()[0])["label"] == "negative"
    res = ww(url, "labels", "export", "--since", "last tuesday")
    assert res.exit_code == 1 and "--since" in res.output
    res = ww(url, "cases", "export", "--label", "legal", "--out", str(tmp_path / "cases"), "-a", "inv")
    assert res.exit_code == 0 and "1 case(s)" in res.stdout and (tmp_path / "cases" / "SHA256SUMS").exists()

    res = ww(url, "audit", "-n", "5")
    assert res.exit_code == 0 and "audit chain verified" in res.stdout
    res = ww(url, "audit", "--json", "--item", str(first["id"]))
    assert json.loads(res.stdout.splitlines()[-1])["verification"]["ok"] is True


def test_hostile_listing_text_is_shown_escaped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    db = Database(url)
    from pipeline.scoring import score_listings
    from tests.pipeline.test_dedupe import FlagAll

    store(db, item("x", title="[bold red]HACKED[/] ivory", text="[link=http://evil]click[/link] real ivory here"))
    score_listings(db, FlagAll())
    db.dispose()
    res = ww(url, "queue", "next", "-a", "lan")
    assert res.exit_code == 0, res.output
    assert "[bold red]HACKED[/]" in res.stdout and "[link=http://evil]" in res.stdout
