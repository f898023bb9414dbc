"""Species facts for review: protection levels by scientific (and common) name.

Until the species lexicon (issue 4, ``classifier/lexicon/``) carries CITES appendix, China level
and Vietnam group per species, this module reads a table generated from the real species lists in
``../shared/data/species/`` (see that folder's SOURCES.md) by

    python -m pipeline.review.species build [SRC_DIR]

into ``pipeline/review/data/species_facts.json.gz``; the file records its sources. The seam for
the lexicon is ``lookup()``: once the lexicon has these facts, ``lookup`` reads them from there and
the generated table goes.

Tiers (what ``pipeline.review.priority.severity`` uses):

* tier 1: CITES Appendix I (also split listings such as I/II), China national level Ⅰ, Vietnam
  Decree 06/2019 + 84/2021 / Circular 27/2025 group IA or IB, or Decree 64/2019 (priority protection)
* tier 2: CITES Appendix II, China level Ⅱ, Vietnam group IIA / IIB
* tier 3: CITES Appendix III only
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_PATH = Path(__file__).with_name("data") / "species_facts.json.gz"
DEFAULT_SRC = Path(__file__).resolve().parents[3] / "shared" / "data" / "species"

VN_FILES = ("nd06_2019.json", "nd84_2021.json", "tt27_2025.json", "nd64_2019.json")


@dataclass(frozen=True)
class SpeciesFacts:
    name: str  # scientific name as listed
    rank: str  # SPECIES, GENUS, FAMILY … (CITES rank; SPECIES for the national lists)
    cites: str | None  # "I", "II", "I/II" …
    cn_level: str | None  # "Ⅰ" | "Ⅱ"
    vn_group: str | None  # "IA" | "IB" | "IIA" | "IIB" | "X" (Decree 64/2019 priority protection)
    names: tuple[str, ...]  # common names (en, zh, vi)

    @property
    def tier(self) -> int | None:
        cites = set((self.cites or "").split("/"))
        if "I" in cites or self.cn_level == "Ⅰ" or self.vn_group in ("IA", "IB", "X"):
            return 1
        if "II" in cites or self.cn_level == "Ⅱ" or self.vn_group in ("IIA", "IIB"):
            return 2
        if "III" in cites:
            return 3
        return None


def _vn_rank(group: str) -> int:
    return {"IA": 0, "X": 1, "IB": 1, "IIA": 2, "IIB": 3}.get(group, 9)


def build(src: Path = DEFAULT_SRC, out: Path = DATA_PATH) -> int:
    """Join the CITES, China and Vietnam lists on scientific name; write the compact table."""
    entries: dict[str, dict] = {}

    def entry(name: str, rank: str = "SPECIES") -> dict:
        key = " ".join(name.split()).lower()
        return entries.setdefault(key, {"n": " ".join(name.split()), "r": rank, "c": None, "cn": None,
                                        "vn": None, "names": []})

    with gzip.open(src / "cites_index_2017-04-21.csv.gz", "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            listing = row["CurrentListing"].strip()
            if not listing or listing == "NC":
                continue
            e = entry(row["FullName"], row["RankName"])
            e["c"] = listing
            e["taxa"] = {row["Genus"].lower(), row["Family"].lower(), row["Order"].lower()} - {""}
            e["names"] += [n.strip() for n in row["EnglishNames"].split(",") if n.strip()]
    china = json.loads((src / "china_national_key_wildlife_2021.json").read_text("utf-8"))
    for sp in china["species"]:
        e = entry(sp["scientificName"])
        e["cn"] = sp["level"]
        e["names"].append(sp["chineseName"])
    rules: dict[str, str] = {}
    for rule in china.get("taxonRules", []):
        taxon = rule.get("genus") or rule["taxon"]
        e = entry(taxon, (rule.get("rank") or "genus").upper())
        e["cn"] = rule["level"]
        e["names"].append(rule["chineseName"])
        rules[taxon.lower()] = rule["level"]
    # China's higher-taxon rules (闭壳龟属 Cuora, 红珊瑚科 Coralliidae …) cover every species below them
    for e in entries.values():
        if e["cn"] is None:
            hit = [rules[t] for t in e.get("taxa", ()) if t in rules]
            hit += [rules[g] for g in [e["n"].split(" ")[0].lower()] if g in rules and " " in e["n"]]
            if hit:
                e["cn"] = min(hit)
    for fname in VN_FILES:
        for sp in json.loads((src / "vn_protected" / fname).read_text("utf-8")):
            name = (sp.get("scientific_name") or {}).get("value") or ""
            if not name.strip():
                continue
            groups = [law["value"] for law in sp.get("laws", []) if law.get("value")]
            if not groups:
                continue
            e = entry(name)
            best = min([*groups, *( [e["vn"]] if e["vn"] else [])], key=_vn_rank)
            e["vn"] = best
            common = (sp.get("common_name") or {}).get("value")
            if common:
                e["names"].append(common.strip())
    rows = []
    for e in sorted(entries.values(), key=lambda e: e["n"].lower()):
        names = list(dict.fromkeys(e["names"]))
        rows.append([e["n"], e["r"], e["c"], e["cn"], e["vn"], names])
    doc = {
        "source": "generated by `python -m pipeline.review.species build` from ../shared/data/species/: "
                  "CITES Species+ export 2017-04-21 (UNEP-WCMC, via naturalis/HTS-barcode-checker); "
                  "China national key protected wildlife list 2021 (NFGA & MARA 2021 No. 3, compiled from "
                  "zh.wikipedia via lanyuechen/zoo-world); Vietnam Decrees 06/2019, 84/2021, 64/2019 and "
                  "Circular 27/2025 (via panda1835/conservation-law-lookup). See SOURCES.md there.",
        "columns": ["name", "rank", "cites", "cn_level", "vn_group", "names"],
        "rows": rows,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:  # reproducible bytes
        gz.write(raw)
    out.write_bytes(buf.getvalue())
    return len(rows)


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, SpeciesFacts], dict[str, SpeciesFacts]]:
    if not DATA_PATH.exists():
        return {}, {}
    doc = json.loads(gzip.decompress(DATA_PATH.read_bytes()).decode("utf-8"))
    by_name: dict[str, SpeciesFacts] = {}
    by_common: dict[str, SpeciesFacts] = {}
    for name, rank, cites, cn, vn, names in doc["rows"]:
        facts = SpeciesFacts(name, rank, cites, cn, vn, tuple(names))
        by_name[name.lower()] = facts
        for common in names:
            key = common.lower()
            # a common name shared by several taxa resolves to the strictest one
            if key not in by_common or (facts.tier or 9) < (by_common[key].tier or 9):
                by_common[key] = facts
    return by_name, by_common


def lookup(name: str | None) -> SpeciesFacts | None:
    """Facts for a scientific name (or its genus), or a listed common name (en / zh / vi)."""
    if not name or not name.strip():
        return None
    key = " ".join(name.split()).lower()
    by_name, by_common = _table()
    if key in by_name:
        return by_name[key]
    if key in by_common:
        return by_common[key]
    genus = key.split(" ")[0]
    if " " in key and genus in by_name:
        return by_name[genus]
    return None


def canonical(name: str) -> str | None:
    """The listed scientific name for ``name`` (as ``lookup`` resolves it), or None if unknown."""
    facts = lookup(name)
    if facts is None:
        return None
    key = " ".join(name.split()).lower()
    # a species under a listed genus keeps its own name
    if facts.name.lower() != key and facts.rank == "GENUS" and key.split(" ")[0] == facts.name.lower():
        return " ".join(name.split()).capitalize()
    return facts.name


if __name__ == "__main__":  # pragma: no cover - maintenance script
    if len(sys.argv) >= 2 and sys.argv[1] == "build":
        src = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_SRC
        n = build(src)
        print(f"wrote {n} taxa to {DATA_PATH} ({DATA_PATH.stat().st_size} bytes)")
    else:
        print(__doc__)
