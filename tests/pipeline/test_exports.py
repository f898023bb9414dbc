"""Labels out (training corpus format) and cases out (evidence bundles verifiable with sha256sum)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, update

from classifier import read_corpus
from pipeline import audit, queue
from pipeline.db import Database
from pipeline.exports import ExportError, csv_safe, export_cases, export_labels
from pipeline.models import Decision, Snapshot
from tests.pipeline.factories import item, queue_items, store


def _decide_all(db: Database, labels: list[tuple[str, dict]]) -> list[int]:
    ids = []
    for label, kw in labels:
        with db.session() as session:
            item_id = queue.claim_next(session, "lan").id
        with db.session() as session:
            queue.decide(session, item_id, "lan", label, **kw)
        ids.append(item_id)
    return ids


def test_labels_export_is_a_valid_training_corpus(db: Database, tmp_path: Path) -> None:
    queue_items(db, 4)
    _decide_all(db, [("illegal", {"category": "pangolin", "kind": "slang"}), ("legal", {"kind": "substitute"}),
                     ("not_wildlife", {}), ("escalate", {})])
    out = tmp_path / "labels.jsonl"
    summary = export_labels(db, out, fmt="jsonl", actor="researcher")
    assert summary.records == 3  # escalate is not exported
    records = read_corpus(out)  # the classifier's own validation accepts it
    by_label = {r["label"]: r for r in records}
    assert by_label["positive"]["category"] == "pangolin" and by_label["positive"]["kind"] == "slang"
    assert by_label["negative"]["category"] == "none"
    assert {r["topic"] for r in records} <= {"pangolin", "ivory"}
    assert set(records[0]) >= {"id", "lang", "title", "text", "label", "category", "kind", "topic"}
    with db.session() as session:
        [entry] = audit.entries(session, action="export.labels")
        assert json.loads(entry.payload)["after"]["records"] == 3


def test_labels_export_since_and_csv(db: Database, tmp_path: Path) -> None:
    queue_items(db, 2)
    first, _ = _decide_all(db, [("illegal", {"category": "ivory"}), ("legal", {})])
    with db.session() as session:
        session.execute(update(Decision).where(Decision.review_item_id == first)
                        .values(decided_at=datetime.now(timezone.utc) - timedelta(days=10)))
    out = tmp_path / "labels.csv"
    export_labels(db, out, fmt="csv", since=datetime.now(timezone.utc) - timedelta(days=1), actor="r")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["label"] for r in rows] == ["negative"]
    with pytest.raises(ExportError, match="unknown format"):
        export_labels(db, out, fmt="xml", actor="r")


def test_csv_cells_that_a_spreadsheet_would_run_are_defused() -> None:
    assert csv_safe("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert [csv_safe(v) for v in ("+1", "-2", "@SUM(A1)", "ivory", None)] == ["'+1", "'-2", "'@SUM(A1)", "ivory", ""]


def test_cases_export_writes_csv_json_and_evidence_that_sha256sum_verifies(db: Database, tmp_path: Path) -> None:
    title = "=cmd|' /C calc'!A0 old ivory bangle"
    text = "Genuine elephant ivory bangle, 58 mm, yellowed patina, no papers, serious buyers only, ship discreetly."
    store(db, item("1", title=title, text=text, site="en_market"),
          item("2", title=title, text=text + " Price drop.", site="other_market"))
    from pipeline.scoring import score_listings
    from tests.pipeline.test_dedupe import FlagAll

    score_listings(db, FlagAll())
    queue_items(db, 1, site="s2")
    _decide_all(db, [("illegal", {"category": "ivory", "species": "Loxodonta africana", "note": "Schreger lines"}),
                     ("legal", {})])
    out = tmp_path / "cases"
    summary = export_cases(db, out, label="illegal", actor="investigator")
    assert (summary.cases, summary.listings, summary.snapshots) == (1, 2, 2)
    rows = list(csv.DictReader((out / "cases.csv").open(encoding="utf-8")))
    assert len(rows) == 1 and rows[0]["titles"].startswith("'=cmd")  # CSV injection defused
    assert rows[0]["species"] == "Loxodonta africana"
    cases = json.loads((out / "cases.json").read_text("utf-8"))
    case_dir = out / cases[0]["case"]
    assert len(cases[0]["listings"]) == 2 and (case_dir / "case.json").exists()
    # the evidence is the raw bytes as fetched, with the sha256 recorded at crawl time
    with db.session() as session:
        snaps = session.scalars(select(Snapshot).order_by(Snapshot.id).limit(2)).all()
        for snap in snaps:
            assert f"{snap.sha256}  snapshots/{snap.id}.html" in (case_dir / "SHA256SUMS").read_text()
    if shutil.which("sha256sum"):
        for where in (out, case_dir):
            check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=where, capture_output=True, text=True, check=False)
            assert check.returncode == 0, check.stdout + check.stderr
        # an investigator notices a changed file
        victim = next((case_dir / "snapshots").iterdir())
        victim.write_bytes(victim.read_bytes() + b"<!-- edited -->")
        check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True, check=False)
        assert check.returncode != 0 and "FAILED" in check.stdout
    with pytest.raises(ExportError, match="not empty"):
        export_cases(db, out, actor="investigator")


def test_cases_export_refuses_corrupted_evidence_and_writes_nothing(db: Database, tmp_path: Path) -> None:
    queue_items(db, 1)
    _decide_all(db, [("illegal", {"category": "ivory"})])
    with db.session() as session:
        session.execute(update(Snapshot).values(sha256="0" * 64))
    out = tmp_path / "cases"
    with pytest.raises(ExportError, match="evidence corrupted"):
        export_cases(db, out, actor="investigator")
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("wildwatch.db")] == []
