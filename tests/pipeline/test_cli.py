"""The wildwatch CLI, in process (no crawls here: see tests/e2e)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.scoring import score_listings
from tests.conftest import ROOT
from tests.pipeline.factories import item, store
from tests.pipeline.test_scoring import KeywordModel

MODEL = ROOT / "models" / "default"
runner = CliRunner()


def run(*args: str, input: str | None = None):  # noqa: A002 - click's name
    return runner.invoke(app, list(args), input=input)


def test_classify_adds_scores_and_passes_fields_through(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "a1", "title": "出老象牙手镯，懂的来，私聊", "seller": "x"}, ensure_ascii=False) + "\n"
        + json.dumps({"id": "a2", "text": "iPhone 12 64GB, battery 86%, $260 firm"}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = run("classify", str(src), "--model", str(MODEL), "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a1", "a2"]
    assert rows[0]["seller"] == "x"
    for r in rows:
        assert set(r) >= {"score", "flag", "category", "lang", "evidence"}
        assert 0.0 <= r["score"] <= 1.0
    assert rows[0]["flag"] and rows[0]["category"] == "ivory" and rows[0]["lang"] == "zh"
    assert not rows[1]["flag"] and rows[1]["category"] == "none" and rows[1]["lang"] == "en"


def test_classify_reads_stdin_and_writes_stdout() -> None:
    result = run("classify", "-", "--model", str(MODEL), input='{"id": 7, "title": "Pre-ban ivory netsuke, no papers"}\n')
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[-1])["id"] == 7


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": 1, "title": "ok"}\n{"id": 2, "title": \n', "in.jsonl:2: not valid JSON"),
        ('{"id": 1, "title": "ok"}\n[1, 2]\n', "in.jsonl:2: each line must be a JSON object"),
        ('{"id": 1, "title": "", "text": "  "}\n', "in.jsonl:1: needs a non-empty 'title' or 'text'"),
    ],
)
def test_classify_rejects_a_bad_line_with_file_and_line_and_writes_nothing(tmp_path: Path, content: str, message: str) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(content, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run("classify", str(src), "--model", str(MODEL), "--out", str(out))
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_classify_without_a_model_is_one_clear_line(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"title": "x"}\n', encoding="utf-8")
    result = run("classify", str(src), "--model", str(tmp_path / "nothing"))
    assert result.exit_code == 1
    assert "no model in" in result.stderr


def test_queue_commands_and_stats_json(db_url: str) -> None:
    from pipeline.db import Database

    db = Database(db_url)
    store(db, item("1", title="象牙手镯 [bold red]FAKE[/]"), item("2", title="iPhone"))
    score_listings(db, KeywordModel())
    db.dispose()

    listed = run("--db", db_url, "queue", "list", "--json")
    assert listed.exit_code == 0, listed.output
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]

    claimed = run("--db", db_url, "queue", "next", "-a", "lan")
    assert claimed.exit_code == 0, claimed.output
    assert "[bold red]FAKE[/]" in claimed.stdout  # scraped text is shown, never interpreted as markup
    item_id = row["id"]
    wrong = run("--db", db_url, "queue", "decide", str(item_id), "illegal", "-a", "minh")
    assert wrong.exit_code == 1 and "held by lan" in wrong.stderr
    bad_label = run("--db", db_url, "queue", "decide", str(item_id), "maybe", "-a", "lan")
    assert bad_label.exit_code == 1 and "unknown label 'maybe'" in bad_label.stderr
    ok = run("--db", db_url, "queue", "decide", str(item_id), "illegal", "-a", "lan", "-c", "ivory")
    assert ok.exit_code == 0, ok.output

    stats = json.loads(run("--db", db_url, "stats", "--json").stdout)
    assert stats["listings"] == 2 and stats["predictions"] == 2 and stats["flagged"] == 1
    assert stats["review_items_by_state"] == {"pending": 0, "claimed": 0, "decided": 1}


def test_a_bad_database_url_is_one_clear_line() -> None:
    result = run("--db", "nosuchdb://x", "stats")
    assert result.exit_code == 1
    assert "error:" in result.stderr and "Traceback" not in result.output
