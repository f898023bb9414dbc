"""Precision / recall of the near-duplicate clustering on the hand-written labelled set.

    python bench/dedupe_eval.py [--data tests/pipeline/data/dedupe_groups.jsonl]

The labelled set (``tests/pipeline/data/dedupe_groups.jsonl``, written by the Wildwatch authors)
holds ads in zh / vi / en. Rows with the same ``group`` are one ad: reposted on another site, with
new contact details, without diacritics, with small edits (price, weight, a sentence added or cut,
an obfuscated keyword). Different groups on the same topic share vocabulary on purpose (two ivory
bangle ads, a buyer and a seller of pangolin scales, a real and a buffalo-horn libation cup, and
one seller's template used for two different items).

It prints (1) a sweep of the Jaccard threshold over all pairs of the same language and (2) the
end-to-end result: every row stored as a listing on its own site, clustered by
``pipeline.dedupe.assign_cluster`` through the database's LSH index, pairwise precision and recall
of the clusters that result.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATA = ROOT / "tests" / "pipeline" / "data" / "dedupe_groups.jsonl"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def true_pairs(rows: list[dict]) -> set[tuple[str, str]]:
    from pipeline.dedupe import cluster_pairs

    groups: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        groups[r["group"]].append(r["id"])
    return cluster_pairs(list(groups.values()))


def precision_recall(predicted: set, truth: set) -> tuple[float, float]:
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    return precision, recall


def sweep(rows: list[dict], same_product_check: bool = True) -> list[tuple[float, float, float, int]]:
    from pipeline.dedupe import fingerprint, jaccard, same_product, wildlife_categories

    fps = {r["id"]: set(fingerprint(r["title"], r["text"]).shingles) for r in rows}
    cats = {r["id"]: wildlife_categories(r["title"], r["text"]) for r in rows}
    truth = true_pairs(rows)
    sims = {}
    for a, b in combinations(rows, 2):
        if a["lang"] == b["lang"]:
            key = (min(a["id"], b["id"]), max(a["id"], b["id"]))
            sims[key] = jaccard(fps[a["id"]], fps[b["id"]])
            if same_product_check and not same_product(cats[a["id"]], cats[b["id"]]):
                sims[key] = 0.0
    out = []
    for t in (0.3, 0.4, 0.5, 0.55, 0.6, 0.7, 0.8):
        predicted = {k for k, s in sims.items() if s >= t}
        p, r = precision_recall(predicted, truth)
        out.append((t, p, r, len(predicted)))
    return out


def end_to_end(rows: list[dict], db_url: str | None = None) -> dict:
    """Cluster every row through the database; pairwise precision / recall per language and overall."""
    from datetime import datetime, timezone

    from crawlers.items import ListingItem
    from pipeline.db import Database
    from pipeline.dedupe import assign_cluster, cluster_pairs
    from pipeline.ingest import get_or_create_site, store_item
    from pipeline.models import ClusterMember, Listing

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(db_url or f"sqlite:///{tmp}/dedupe.db")
        ids: dict[int, str] = {}
        with db.session() as session:
            for i, r in enumerate(rows):
                site = get_or_create_site(session, f"site{i % 3}")
                it = ListingItem(site=site.name, url=f"http://127.0.0.1/{r['id']}", external_id=r["id"],
                                 title=r["title"], text=r["text"], body=b"<html></html>", headers={},
                                 fetched_at=datetime.now(timezone.utc))
                lid = store_item(session, site, it).listing_id
                ids[lid] = r["id"]
                assign_cluster(session, session.get(Listing, lid))
            clusters: dict[int, list[str]] = defaultdict(list)
            for m in session.query(ClusterMember):
                clusters[m.cluster_id].append(ids[m.listing_id])
        db.dispose()
    predicted = cluster_pairs(list(clusters.values()))
    truth = true_pairs(rows)
    result = {"rows": len(rows), "groups": len({r["group"] for r in rows}), "clusters": len(clusters),
              "true_pairs": len(truth), "predicted_pairs": len(predicted)}
    result["precision"], result["recall"] = precision_recall(predicted, truth)
    lang_of = {r["id"]: r["lang"] for r in rows}
    for lang in ("zh", "vi", "en"):
        p, r = precision_recall({x for x in predicted if lang_of[x[0]] == lang},
                                {x for x in truth if lang_of[x[0]] == lang})
        result[f"precision_{lang}"], result[f"recall_{lang}"] = p, r
    result["false_merges"] = sorted(predicted - truth)
    result["missed"] = sorted(truth - predicted)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    rows = load(args.data)
    print(f"labelled set: {len(rows)} ads, {len({r['group'] for r in rows})} distinct ads (groups)")
    for check in (False, True):
        what = "with" if check else "without"
        print(f"\nJaccard threshold sweep, all same-language pairs, {what} the same-product check:")
        print(f"{'threshold':>10} {'precision':>10} {'recall':>8} {'pairs':>6}")
        for t, p, r, n in sweep(rows, check):
            print(f"{t:>10.2f} {p:>10.3f} {r:>8.3f} {n:>6}")
    res = end_to_end(rows)
    print("\nend to end (database LSH index + exact Jaccard check):")
    print(f"  clusters {res['clusters']} for {res['groups']} true ads; pairs predicted {res['predicted_pairs']}, "
          f"true {res['true_pairs']}")
    print(f"  precision {res['precision']:.3f}  recall {res['recall']:.3f}")
    for lang in ("zh", "vi", "en"):
        print(f"  {lang}: precision {res[f'precision_{lang}']:.3f}  recall {res[f'recall_{lang}']:.3f}")
    print(f"  false merges: {res['false_merges']}")
    print(f"  missed pairs: {res['missed']}")


if __name__ == "__main__":
    main()
