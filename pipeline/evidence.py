"""Evidence export: a listing's snapshots as the exact bytes fetched, with a checksum manifest.

    wildwatch evidence 42 --out case-42/
    cd case-42 && sha256sum -c SHA256SUMS

writes, for every snapshot of the listing (oldest first), ``snapshot-<n>-<id>.<ext>`` holding the
raw response body as received (before any decoding), ``listing.json`` (the listing as stored and
each snapshot's URL, fetch time, HTTP status, response headers, crawl run, size and sha256), and
``SHA256SUMS`` in the format of ``sha256sum`` covering every other file. A stored body whose
sha256 no longer matches the one recorded at fetch time is refused (:class:`EvidenceError`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.ingest import snapshot_body
from pipeline.models import Listing, Snapshot


class EvidenceError(RuntimeError):
    """No such listing, or stored evidence that does not match its recorded checksum."""


@dataclass(frozen=True)
class Exported:
    listing_id: int
    files: list[Path]
    manifest: Path


def _extension(content_type: str) -> str:
    ct = content_type.lower()
    if "json" in ct:
        return "json"
    if "html" in ct or not ct:
        return "html"
    if "text" in ct:
        return "txt"
    return "bin"


def export_evidence(session: Session, listing_id: int, out_dir: Path) -> Exported:
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise EvidenceError(f"no listing with id {listing_id}")
    snapshots = list(session.scalars(
        select(Snapshot).where(Snapshot.listing_id == listing_id).order_by(Snapshot.fetched_at, Snapshot.id)
    ))
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    described = []
    for n, snap in enumerate(snapshots, 1):
        body = snapshot_body(snap)
        digest = hashlib.sha256(body).hexdigest()
        if digest != snap.sha256:
            raise EvidenceError(f"snapshot {snap.id}: stored body has sha256 {digest}, recorded {snap.sha256}")
        headers = {k.lower(): v for k, v in (snap.headers or {}).items()}
        path = out_dir / f"snapshot-{n}-{snap.id}.{_extension(headers.get('content-type', ''))}"
        path.write_bytes(body)
        files.append(path)
        described.append({
            "file": path.name, "snapshot_id": snap.id, "url": snap.url, "fetched_at": snap.fetched_at.isoformat(),
            "status": snap.status, "headers": snap.headers, "crawl_run_id": snap.crawl_run_id,
            "size": snap.size, "sha256": snap.sha256, "content_hash": snap.content_hash,
        })
    meta = {
        "listing": {
            "id": listing.id, "site": listing.site.name, "external_id": listing.external_id, "url": listing.url,
            "title": listing.title, "text": listing.text, "price_raw": listing.price_raw,
            "price_value": str(listing.price_value) if listing.price_value is not None else None,
            "price_currency": listing.price_currency, "seller": listing.seller, "location": listing.location,
            "posted_raw": listing.posted_raw, "posted_at": listing.posted_at.isoformat() if listing.posted_at else None,
            "first_seen": listing.first_seen.isoformat(), "last_seen": listing.last_seen.isoformat(),
            "removed_at": listing.removed_at.isoformat() if listing.removed_at else None,
            "removed_reason": listing.removed_reason, "extras": listing.extras,
        },
        "snapshots": described,
    }
    meta_path = out_dir / "listing.json"
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    files.append(meta_path)
    manifest = out_dir / "SHA256SUMS"
    manifest.write_text(
        "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in files), encoding="utf-8"
    )
    return Exported(listing_id, files, manifest)
