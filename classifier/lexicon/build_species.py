"""Build ``classifier/lexicon/species.json`` from the species lists in ``shared/data/species/``.

    python classifier/lexicon/build_species.py [--data DIR] [--out FILE]

Inputs (facts; see ``shared/data/species/SOURCES.md``):

* ``cites_index_2017-04-21.csv.gz`` — CITES Species+ checklist: scientific names, synonyms,
  English names, current appendix (I, II, III) and the taxonomy used to map a taxon to a
  Wildwatch category;
* ``china_national_key_wildlife_2021.json`` — China's 2021 national key protected list: Chinese
  and scientific names, level Ⅰ / Ⅱ, plus higher-taxon rules (闭壳龟属 Cuora …);
* ``vn_protected/*.json`` — Vietnam's decrees 06/2019, 84/2021, 64/2019, 160/2013 and circular
  27/2025: Vietnamese and scientific names, group IA / IB / IIA / IIB.

The lists are joined on the scientific name (synonyms from CITES included; a species that CITES
lists only through its genus — "Hippocampus spp." — gets the genus' appendix). Every entry
records which lists it comes from. Categories come from the taxonomy (CITES columns, or the
Vietnamese list's class / order / family): elephants -> ivory, rhinos -> rhino_horn, pangolins
-> pangolin, Panthera / Neofelis / Uncia / Acinonyx -> big_cat, bears -> bear, Testudines ->
turtle_tortoise, birds -> bird, primates -> primate, other reptiles and amphibians ->
reptile_amphibian, fish / corals / molluscs / marine mammals -> marine, other mammals ->
other_mammal, plants -> plant_timber. Insects, spiders and the like have no Wildwatch category
and are left out.

Scope (to keep the matcher specific): every taxon of the Chinese and Vietnamese lists; CITES
Appendix I / II animals at species rank; CITES plants only in the timber, agarwood and orchid
genera traders deal in (``CITES_PLANT_GENERA``) or when a national list names them. English
names of one word only enter when they are not an everyday word or brand (``EN_STOP``).

The output is deterministic (sorted), so re-running the script on the same inputs gives the
same file.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[2] / "shared" / "data" / "species"  # beside the repository
DEFAULT_OUT = HERE / "species.json"

CITES_FILE = "cites_index_2017-04-21.csv.gz"
CHINA_FILE = "china_national_key_wildlife_2021.json"
VN_FILES = {  # file -> short source label
    "nd06_2019.json": "vn_nd06_2019",
    "nd84_2021.json": "vn_nd84_2021",
    "nd64_2019.json": "vn_nd64_2019",
    "nd160_2013.json": "vn_nd160_2013",
    "tt27_2025.json": "vn_tt27_2025",
}
SOURCE_LABELS = {
    "cites_2017": "CITES Species+ checklist export 2017-04-21 (UNEP-WCMC)",
    "china_2021": "国家重点保护野生动物名录 2021 (NFGA & MARA announcement 2021 No. 3)",
    "vn_nd06_2019": "Vietnam Decree 06/2019/NĐ-CP",
    "vn_nd84_2021": "Vietnam Decree 84/2021/NĐ-CP",
    "vn_nd64_2019": "Vietnam Decree 64/2019/NĐ-CP",
    "vn_nd160_2013": "Vietnam Decree 160/2013/NĐ-CP (historical)",
    "vn_tt27_2025": "Vietnam Circular 27/2025/TT-BNNMT",
}

CITES_PLANT_GENERA = {
    "Dalbergia", "Pterocarpus", "Aquilaria", "Gyrinops", "Paphiopedilum", "Diospyros",
    "Santalum", "Swietenia", "Taxus", "Panax", "Saussurea", "Pericopsis", "Guibourtia",
}
# CITES classes left out unless a national list names the species (thousands of stony corals
# and hydrocorals whose Latin names sellers never write)
CITES_SKIP_CLASSES = {"Anthozoa", "Hydrozoa"}
# Chinese names that are also everyday words (鸳鸯锅 is a hot pot)
ZH_STOP = {"鸳鸯", "角鱼", "原鸡", "小鲤", "云雀"}
BIG_CAT_GENERA = {"Panthera", "Neofelis", "Uncia", "Acinonyx"}
MARINE_CLASSES = {
    "actinopteri", "actinopterygii", "elasmobranchii", "holocephali", "sarcopterygii",
    "coelacanthi", "dipneusti", "anthozoa", "hydrozoa", "bivalvia", "gastropoda", "cephalopoda",
    "holothuroidea", "echinoidea", "asteroidea", "merostomata", "cephalaspidomorphi",
}
MARINE_MAMMAL = {"cetacea", "sirenia", "otariidae", "phocidae", "odobenidae"}
PLANT_HINTS = ("opsida", "phyta", "cotyledon", "lớp hành", "ngành", "magnolio", "lilio", "pino",
               "cycado", "polypodio", "dicotyled", "monocotyled")
# one-word English names that are everyday words, brands or foods
EN_STOP = {
    "agar", "agaru", "jaguar", "puma", "python", "lynx", "falcon", "condor", "mustang", "cobra",
    "viper", "mamba", "eagle", "hawk", "kite", "swift", "robin", "jay", "crane", "bunting",
    "parrot", "mink", "sable", "ermine", "stoat", "fox", "wolf", "dolphin", "coral", "shell",
    "apple", "star", "sun", "moon", "queen", "king", "emperor", "monarch", "admiral", "major",
    "minor", "common", "golden", "black", "white", "red", "blue", "green", "brown", "grey",
    "gray", "yellow", "spotted", "striped", "giant", "dwarf", "pygmy", "royal", "cat", "dog",
    "horse", "goat", "sheep", "deer", "lion", "bear", "tiger", "monkey", "orchid", "cactus",
    "aloe", "ginseng", "ebony", "mahogany", "cedar", "yew", "sandalwood", "lignum", "vitae",
    "tree", "fern", "palm", "pine", "quetzal", "kiwi",
}
_LATIN_WORD = re.compile(r"^[A-Z][a-z]+(?: [a-z][a-z\-]+){0,2}$")
_SPLIT_NAMES = re.compile(r"\s*[(),;/]\s*")
_VN_GROUP_PREFIX = re.compile(r"^(các loài|loài)\b", re.IGNORECASE)


def _sci(name: str) -> str:
    """Binomial (or trinomial) without author: 'Manis javanica Desmarest, 1822' -> 'Manis javanica'."""
    words = (name or "").replace("\u00a0", " ").strip().split()
    if not words:
        return ""
    keep = [words[0]]
    for w in words[1:3]:
        if re.fullmatch(r"[a-z][a-z\-]+", w) and w not in ("spp", "sp", "var", "subsp", "ssp"):
            keep.append(w)
        else:
            break
    return " ".join(keep)


def category_for(kingdom: str, klass: str, order: str, family: str, genus: str) -> str | None:
    k, c, o, f = (x.strip().lower() for x in (kingdom, klass, order, family))
    if k == "plantae" or any(h in c for h in PLANT_HINTS):
        return "plant_timber"
    if f == "elephantidae" or o == "proboscidea":
        return "ivory"
    if f == "rhinocerotidae":
        return "rhino_horn"
    if f == "manidae" or o == "pholidota":
        return "pangolin"
    if f == "felidae" and genus in BIG_CAT_GENERA:
        return "big_cat"
    if f == "ursidae":
        return "bear"
    if o == "testudines" or o == "testudinata":
        return "turtle_tortoise"
    if c == "aves":
        return "bird"
    if o == "primates":
        return "primate"
    if c in ("reptilia", "amphibia"):
        return "reptile_amphibian"
    if c in MARINE_CLASSES or o in MARINE_MAMMAL or f in MARINE_MAMMAL:
        return "marine"
    if c == "mammalia":
        return "other_mammal"
    return None


def _appendix(listing: str) -> str:
    """'I/II' -> 'I/II'; 'II/NC' -> 'II'; '' / 'NC' -> ''."""
    parts = [p for p in (listing or "").split("/") if p in ("I", "II", "III")]
    return "/".join(parts)


def read_cites(path: Path):
    """-> (taxa by scientific name, synonym -> accepted name, genus -> (appendix, taxonomy))."""
    taxa, synonyms, genera = {}, {}, {}
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            rank = row["RankName"]
            tax = (row["Kingdom"], row["Class"], row["Order"], row["Family"], row["Genus"])
            app = _appendix(row["CurrentListing"])
            if rank == "GENUS":
                genera[row["FullName"].strip()] = (app, tax)
                continue
            if rank not in ("SPECIES", "SUBSPECIES"):
                continue
            name = _sci(row["FullName"])
            en = [n.strip() for n in (row["EnglishNames"] or "").split(",") if n.strip()]
            taxa[name] = {"appendix": app, "taxonomy": tax, "en": en, "rank": rank}
            for syn in (row["SynonymsWithAuthors"] or "").split(","):
                s = _sci(syn)
                if " " in s:
                    synonyms.setdefault(s, name)
    return taxa, synonyms, genera


def _norm_level(level: str) -> str:
    return {"Ⅰ": "I", "Ⅱ": "II"}.get(level, level)


def build(data_dir: Path) -> dict:
    taxa, synonyms, genera = read_cites(data_dir / CITES_FILE)
    entries: dict[str, dict] = {}

    def entry(sci: str) -> dict:
        sci = synonyms.get(sci, sci) if sci not in taxa else sci
        e = entries.get(sci)
        if e is None:
            e = entries[sci] = {"sci": sci, "names": {"zh": [], "vi": [], "en": []},
                                "sources": set(), "taxonomy": None}
            c = taxa.get(sci)
            genus = sci.split()[0]
            if c:
                e["cites"] = c["appendix"]
                e["taxonomy"] = c["taxonomy"]
                e["names"]["en"].extend(c["en"])
                if c["appendix"]:
                    e["sources"].add("cites_2017")
            elif genus in genera:
                app, tax = genera[genus]
                e["taxonomy"] = tax
                if app:
                    e["cites"] = f"{app} (genus)"
                    e["sources"].add("cites_2017")
        return e

    # China's list
    china = json.loads((data_dir / CHINA_FILE).read_text(encoding="utf-8"))
    for sp in china["species"]:
        sci = _sci(sp["scientificName"])
        if " " not in sci:
            continue
        e = entry(sci)
        e["cn"] = _norm_level(sp["level"])
        e["sources"].add("china_2021")
        if len(sp["chineseName"]) >= 2 and sp["chineseName"] not in ZH_STOP:
            e["names"]["zh"].append(sp["chineseName"])
    rules = []
    for rule in china.get("taxonRules", []):
        taxon = rule.get("genus") or rule.get("taxon")
        # genus rules take the genus' category; the other rules (coral orders and families,
        # two genera of fish that CITES does not list) are all marine
        cat = category_for(*genera[taxon][1]) if taxon in genera else "marine"
        rules.append({"taxon": taxon, "rank": rule.get("match"), "category": cat,
                      "zh": rule["chineseName"], "cn": _norm_level(rule["level"]),
                      "note": rule.get("note", ""), "sources": ["china_2021"]})

    # Vietnam's lists
    for fname, label in VN_FILES.items():
        path = data_dir / "vn_protected" / fname
        if not path.exists():
            continue
        for row in json.loads(path.read_text(encoding="utf-8")):
            sci = _sci(row["scientific_name"]["value"])
            vi = row["common_name"]["value"].replace("\r", " ").replace("\n", " ")
            if " " not in sci or _VN_GROUP_PREFIX.match(vi):
                continue  # whole genera / families ("Các loài Lan thuộc họ Orchidaceae")
            e = entry(sci)
            e["sources"].add(label)
            group = ",".join(law["value"] for law in row.get("laws") or [] if law.get("value"))
            if group and group != "X":
                e.setdefault("vn", group)
            if e["taxonomy"] is None:
                e["taxonomy"] = ("Plantae" if any(h in (row.get("class_latin") or "").lower()
                                                  for h in PLANT_HINTS) else "Animalia",
                                 row.get("class_latin") or "", row.get("order_latin") or "",
                                 row.get("family_latin") or "", sci.split()[0])
            for name in _SPLIT_NAMES.split(vi):
                name = " ".join(name.split())
                if len(name) >= 2 and not name.lower().startswith(("thuộc", "trừ")):
                    e["names"]["vi"].append(name)

    # CITES: Appendix I/II animals at species rank; plants of the traded genera
    for sci, c in taxa.items():
        if c["rank"] != "SPECIES" or not c["appendix"] or c["appendix"] == "III":
            continue
        kingdom, genus = c["taxonomy"][0], c["taxonomy"][4]
        if kingdom == "Plantae" and genus not in CITES_PLANT_GENERA:
            continue
        if c["taxonomy"][1] in CITES_SKIP_CLASSES:
            continue
        entry(sci)

    out = []
    skipped = 0
    for sci in sorted(entries):
        e = entries[sci]
        tax = e["taxonomy"] or ("", "", "", "", sci.split()[0])
        cat = category_for(*tax)
        if cat is None:
            skipped += 1
            continue
        names = {"latin": [sci]}
        for lang in ("zh", "vi", "en"):
            seen, keep = set(), []
            for n in e["names"][lang]:
                n = " ".join(n.split())
                key = n.lower()
                if not n or key in seen:
                    continue
                if lang == "en" and " " not in n and "-" not in n and (
                        key in EN_STOP or len(n) < 5):
                    continue
                # one Vietnamese syllable ("Trắc", "Hổ") collides with everyday words
                # ("trắc nghiệm"); the hand-written lexicons carry the few that matter
                if lang == "vi" and " " not in n:
                    continue
                seen.add(key)
                keep.append(n)
            if keep:
                names[lang] = keep
        item = {"sci": sci, "category": cat}
        for key in ("cites", "cn", "vn"):
            if e.get(key):
                item[key] = e[key]
        item["names"] = names
        item["sources"] = sorted(e["sources"])
        out.append(item)
    return {"entries": out, "rules": rules, "skipped": skipped}


def _digest(data_dir: Path) -> dict:
    files = [data_dir / CITES_FILE, data_dir / CHINA_FILE,
             *[data_dir / "vn_protected" / f for f in VN_FILES]]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest()[:16] for f in files if f.exists()}


def to_json(built: dict, data_dir: Path) -> str:
    """The lexicon document (the layout of ``classifier/lexicon.py``; JSON because it reads 50x
    faster than YAML at this size)."""
    doc = {
        "_comment": ("GENERATED by classifier/lexicon/build_species.py — do not edit; re-run the "
                     "script. Facts (names, CITES appendix, China level, Vietnam group) from "
                     "shared/data/species/; each entry's `sources` names the lists it was found in."),
        "name": "species",
        "version": 1,
        "source": ("generated by classifier/lexicon/build_species.py from shared/data/species/ "
                   "(CITES checklist 2017-04-21, China national key list 2021, Vietnam decrees "
                   "06/2019, 84/2021, 64/2019, 160/2013 and circular 27/2025); do not edit by hand"),
        "inputs": _digest(data_dir),
        "source_labels": SOURCE_LABELS,
        "taxon_rules": built["rules"],
        "species": built["entries"],
    }
    lines = [json.dumps({k: v for k, v in doc.items() if k != "species"}, ensure_ascii=False,
                        indent=1)[:-2] + ',\n "species": [']
    # one species per line: diffs stay readable
    lines.append(",\n".join("  " + json.dumps(e, ensure_ascii=False) for e in doc["species"]))
    lines.append(" ]\n}\n")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared/data/species folder")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    if not (args.data / CITES_FILE).exists():
        print(f"error: {args.data / CITES_FILE} not found (use --data)", file=sys.stderr)
        return 2
    built = build(args.data)
    args.out.write_text(to_json(built, args.data), encoding="utf-8")
    by_cat: dict[str, int] = {}
    for e in built["entries"]:
        by_cat[e["category"]] = by_cat.get(e["category"], 0) + 1
    print(f"wrote {args.out}: {len(built['entries'])} taxa ({built['skipped']} without a "
          f"Wildwatch category left out); per category {dict(sorted(by_cat.items()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
