"""Exports: decided listings as training data (labels) and illegal listings as cases with evidence.

**Labels** (``export_labels``): one record per listing of every decided cluster whose final decision
is ``illegal`` (→ ``positive``), ``legal`` or ``not_wildlife`` (→ ``negative``) — ``escalate`` is not
exported — in the training-corpus format (``classifier/data/corpus``, read by
``classifier.read_corpus``): ``id, lang, title, text, label, category, kind, topic``, plus
provenance (``review_item``, ``cluster``, ``reviewer``, ``decided_at``, ``url``). ``category`` is the
reviewer's (the model's when the reviewer gave none) for positives and ``none`` for negatives;
``topic`` is the category the ad is about (for a negative: what the model thought it was).

**Cases** (``export_cases``): ``DIR/cases.csv``, ``DIR/cases.json`` and one folder per case with
``case.json`` (decision history, every listing of the cluster), ``listings/<id>.json`` and the
evidence — every snapshot's raw bytes as fetched (``snapshots/<id>.<ext>``), checked against the
sha256 recorded at crawl time. Each case folder has a ``SHA256SUMS`` for its files and ``DIR`` one
for everything: ``cd DIR && sha256sum -c SHA256SUMS``.

Scraped text is hostile: CSV cells that a spreadsheet would run as a formula (starting with
``= + - @``, tab or CR) are prefixed with ``'``. Every export is written to the audit log.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline import audit
from pipeline.db import Database
from pipeline.ingest import snapshot_body
from pipeline.models import (
    ClusterMember,
    Decision,
    DecisionStatus,
    Label,
    Listing,
    ReviewItem,
    ReviewState,
    Snapshot,
)
from pipeline.queue import QueueError
from pipeline.sanitize import csv_safe


class ExportError(QueueError):
    """An export that cannot be done (bad option, existing output, corrupted evidence); a user
    error like ``QueueError`` (one line in the CLI), nothing is written."""


LABEL_MAP = {Label.illegal: "positive", Label.legal: "negative", Label.not_wildlife: "negative"}


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value else None


def _members(session: Session, item: ReviewItem) -> list[Listing]:
    if item.cluster_id is None:
        return [item.listing]
    ids = list(session.scalars(
        select(ClusterMember.listing_id).where(ClusterMember.cluster_id == item.cluster_id).order_by(ClusterMember.listing_id)
    ))
    if item.listing_id not in ids:
        ids.insert(0, item.listing_id)
    return list(session.scalars(select(Listing).where(Listing.id.in_(ids)).order_by(Listing.id)))


def _final_decisions(session: Session, *, labels: Iterable[Label], since: datetime | None,
                     until: datetime | None = None) -> list[Decision]:
    query = (
        select(Decision).join(ReviewItem, ReviewItem.id == Decision.review_item_id)
        .where(Decision.status == DecisionStatus.final, ReviewItem.state == ReviewState.decided,
               Decision.label.in_(list(labels)))
        .order_by(Decision.decided_at, Decision.id)
    )
    if since is not None:
        query = query.where(Decision.decided_at >= since)
    if until is not None:
        query = query.where(Decision.decided_at < until)
    return list(session.scalars(query))


# --------------------------------------------------------------------------------------------
# labels


@dataclass
class ExportSummary:
    records: int = 0
    decisions: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    sha256: str | None = None


def label_records(session: Session, *, since: datetime | None = None) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The training records for final decisions made at or after ``since`` (and what was skipped)."""
    from classifier import LANGS

    records: list[dict[str, Any]] = []
    skipped: dict[str, int] = {}
    seen: set[int] = set()
    for d in _final_decisions(session, labels=LABEL_MAP, since=since):
        item = d.review_item
        label = LABEL_MAP[d.label]
        predicted = item.category or (item.prediction.category if item.prediction else None)
        if label == "positive":
            category = d.category or predicted
            if not category or category == "none":
                skipped["positive without a wildlife category"] = skipped.get("positive without a wildlife category", 0) + 1
                continue
            topic = category
        else:
            category = "none"
            topic = predicted or "none"
        for listing in _members(session, item):
            if listing.id in seen:
                continue
            seen.add(listing.id)
            if not (listing.title or "").strip() and not (listing.text or "").strip():
                skipped["listing without title or text"] = skipped.get("listing without title or text", 0) + 1
                continue
            lang = listing.lang or item.lang
            records.append({
                "id": f"ww-{listing.id}",
                "lang": lang if lang in LANGS else "other",
                "title": listing.title or "",
                "text": listing.text or "",
                "label": label,
                "category": category,
                "kind": d.kind,
                "topic": topic,
                "review_item": item.id,
                "cluster": item.cluster_id,
                "reviewer": d.reviewer,
                "decided_at": _iso(d.decided_at),
                "url": listing.url,
            })
    return records, skipped


LABEL_COLUMNS = ("id", "lang", "title", "text", "label", "category", "kind", "topic",
                 "review_item", "cluster", "reviewer", "decided_at", "url")


def write_labels(records: list[dict[str, Any]], out: TextIO, fmt: str) -> None:
    if fmt == "jsonl":
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(LABEL_COLUMNS)
        for r in records:
            writer.writerow([csv_safe(r.get(c)) for c in LABEL_COLUMNS])
    else:
        raise ExportError(f"unknown format {fmt!r}; use jsonl or csv")


def export_labels(db: Database, out: Path | None, *, fmt: str = "jsonl", since: datetime | None = None,
                  actor: str, stream: TextIO | None = None) -> ExportSummary:
    """Write the labels to ``out`` (or ``stream``, e.g. stdout); audit the export."""
    if fmt not in ("jsonl", "csv"):
        raise ExportError(f"unknown format {fmt!r}; use jsonl or csv")
    with db.session() as session:
        records, skipped = label_records(session, since=since)
    buf = io.StringIO()
    write_labels(records, buf, fmt)
    data = buf.getvalue()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(data, encoding="utf-8", newline="")
    elif stream is not None:
        stream.write(data)
    summary = ExportSummary(records=len(records), decisions=len({r["review_item"] for r in records}),
                            skipped=skipped, sha256=hashlib.sha256(data.encode("utf-8")).hexdigest())
    with db.session() as session:
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        audit.append(session, actor, "export.labels", "export", str(out) if out else "-",
                     after={"records": summary.records, "decisions": summary.decisions, "sha256": summary.sha256,
                            "format": fmt, "since": _iso(since), "skipped": skipped})
    return summary


# --------------------------------------------------------------------------------------------
# cases


_EXT = {"text/html": "html", "application/json": "json", "text/plain": "txt", "application/xhtml+xml": "html"}


def _extension(headers: dict[str, Any]) -> str:
    ctype = ""
    for key, value in (headers or {}).items():
        if key.lower() == "content-type":
            ctype = str(value[0] if isinstance(value, list) else value).split(";")[0].strip().lower()
    return _EXT.get(ctype, "bin")


@dataclass
class CasesSummary:
    cases: int = 0
    listings: int = 0
    snapshots: int = 0
    files: int = 0
    manifest_sha256: str | None = None


class _Writer:
    """Writes files under a root and remembers their sha256 for the manifests."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sums: dict[str, str] = {}

    def write(self, rel: str, data: bytes) -> str:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        self.sums[rel] = digest
        return digest


def _manifest(sums: dict[str, str], prefix: str = "") -> bytes:
    # sha256sum -c format: "<hex>  <path>" (two spaces: binary-agnostic text mode)
    lines = [f"{digest}  {path[len(prefix):]}" for path, digest in sorted(sums.items()) if path.startswith(prefix)]
    return ("\n".join(lines) + "\n").encode("utf-8")


CASE_COLUMNS = ("case", "review_item", "label", "category", "species", "reviewer", "decided_at", "note",
                "listings", "sites", "first_seen", "last_seen", "titles", "urls")


def export_cases(db: Database, out_dir: Path, *, label: str = "illegal", since: datetime | None = None,
                 actor: str) -> CasesSummary:
    """Write every decided case with final ``label`` (decided at or after ``since``) to ``out_dir``."""
    try:
        label_enum = Label(label)
    except ValueError:
        raise ExportError(f"unknown label {label!r}; use one of: {', '.join(l.value for l in Label)}") from None
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ExportError(f"{out_dir} is not empty; cases are exported into a new or empty folder")
    # written into a staging folder, renamed into place only when complete
    staging = out_dir.parent / f".{out_dir.name}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        summary = _write_cases(db, staging, label_enum, since)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out_dir.exists():
        out_dir.rmdir()
    staging.rename(out_dir)
    with db.session() as session:
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        audit.append(session, actor, "export.cases", "export", str(out_dir),
                     after={"label": label_enum.value, "since": _iso(since), "cases": summary.cases,
                            "listings": summary.listings, "snapshots": summary.snapshots, "files": summary.files,
                            "manifest_sha256": summary.manifest_sha256})
    return summary


def _write_cases(db: Database, out_dir: Path, label_enum: Label, since: datetime | None) -> CasesSummary:
    w = _Writer(out_dir)
    summary = CasesSummary()
    cases: list[dict[str, Any]] = []
    rows: list[list[str]] = []
    with db.session() as session:
        for d in _final_decisions(session, labels=[label_enum], since=since):
            item = d.review_item
            case_id = f"case-{item.id:06d}"
            members = _members(session, item)
            listing_docs = []
            for listing in members:
                snaps = []
                for snap in session.scalars(select(Snapshot).where(Snapshot.listing_id == listing.id).order_by(Snapshot.id)):
                    body = snapshot_body(snap)
                    if hashlib.sha256(body).hexdigest() != snap.sha256:
                        raise ExportError(f"snapshot {snap.id} of listing {listing.id}: its bytes no longer match "
                                          f"the sha256 recorded at crawl time ({snap.sha256}); evidence corrupted")
                    rel = f"{case_id}/snapshots/{snap.id}.{_extension(snap.headers)}"
                    w.write(rel, body)
                    summary.snapshots += 1
                    snaps.append({"snapshot": snap.id, "file": rel.split("/", 1)[1], "sha256": snap.sha256,
                                  "size": snap.size, "url": snap.url, "status": snap.status,
                                  "fetched_at": _iso(snap.fetched_at), "headers": snap.headers,
                                  "crawl_run": snap.crawl_run_id})
                doc = {
                    "listing": listing.id, "site": listing.site.name, "external_id": listing.external_id,
                    "url": listing.url, "title": listing.title, "text": listing.text,
                    "price": listing.price_raw, "price_value": str(listing.price_value) if listing.price_value is not None else None,
                    "price_currency": listing.price_currency, "seller": listing.seller, "location": listing.location,
                    "posted_at": _iso(listing.posted_at), "first_seen": _iso(listing.first_seen),
                    "last_seen": _iso(listing.last_seen), "lang": listing.lang, "content_hash": listing.content_hash,
                    "predictions": [{"model_version": p.model_version, "score": p.score, "flag": p.flag,
                                     "category": p.category, "evidence": p.evidence, "at": _iso(p.created_at)}
                                    for p in listing.predictions],
                    "snapshots": snaps,
                }
                w.write(f"{case_id}/listings/{listing.id}.json",
                        json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8"))
                listing_docs.append(doc)
                summary.listings += 1
            case = {
                "case": case_id, "review_item": item.id, "cluster": item.cluster_id,
                "decision": {"label": d.label.value, "category": d.category or item.category, "species": d.species,
                             "kind": d.kind, "reviewer": d.reviewer, "decided_at": _iso(d.decided_at), "note": d.note},
                "history": [{"decision": h.id, "reviewer": h.reviewer, "label": h.label.value, "category": h.category,
                             "species": h.species, "note": h.note, "stage": h.stage.value, "status": h.status.value,
                             "decided_at": _iso(h.decided_at)} for h in item.decisions],
                "listings": listing_docs,
            }
            w.write(f"{case_id}/case.json", json.dumps(case, ensure_ascii=False, indent=2).encode("utf-8"))
            w.write(f"{case_id}/SHA256SUMS", _manifest(w.sums, f"{case_id}/"))
            cases.append(case)
            rows.append([
                case_id, str(item.id), d.label.value, d.category or item.category or "", d.species or "", d.reviewer,
                _iso(d.decided_at) or "", d.note or "", str(len(members)),
                " ".join(sorted({doc["site"] for doc in listing_docs})),
                min((doc["first_seen"] for doc in listing_docs), default="") or "",
                max((doc["last_seen"] for doc in listing_docs), default="") or "",
                " | ".join((doc["title"] or "") for doc in listing_docs),
                " ".join(doc["url"] for doc in listing_docs),
            ])
            summary.cases += 1
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CASE_COLUMNS)
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    w.write("cases.csv", buf.getvalue().encode("utf-8"))
    w.write("cases.json", json.dumps(cases, ensure_ascii=False, indent=2).encode("utf-8"))
    manifest = _manifest(w.sums)
    (out_dir / "SHA256SUMS").write_bytes(manifest)
    summary.files = len(w.sums)
    summary.manifest_sha256 = hashlib.sha256(manifest).hexdigest()
    return summary
