"""Evaluation: metrics, grouped cross-validation, the keyword baseline side by side, robustness,
and a report (Markdown + HTML with PR-curve and calibration PNGs).

Two modes:

* **held-out** — a fitted model scores labelled data it was not trained on;
* **cross-validation** (``cv=K``) — the model's parameters are refitted K times, grouped so that
  near-duplicates never straddle folds (``groups.near_duplicate_groups``), stratified on label ×
  language; each fold's model (threshold chosen inside its own training part) scores its
  held-out fold. Robustness variants of the held-out positives are scored by the same fold
  model.

Every report carries the keyword baseline (``baseline.KeywordBaseline``) on the same listings.
"""

from __future__ import annotations

import html
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from .baseline import KeywordBaseline
from .labels import CATEGORIES, NEGATIVE_KINDS, POSITIVE

HARD_NEGATIVE_KINDS = tuple(k for k in NEGATIVE_KINDS if k != "ordinary")
VARIANT_KINDS = ("obfuscated", "stripped")


# ---------------------------------------------------------------------------------------------
# metrics

def binary_metrics(y, scores, flags) -> dict:
    y = np.asarray(y, dtype=int)
    scores = np.asarray(scores, dtype=float)
    flags = np.asarray(flags, dtype=bool)
    tp = int((flags & (y == 1)).sum())
    fp = int((flags & (y == 0)).sum())
    fn = int((~flags & (y == 1)).sum())
    tn = int((~flags & (y == 0)).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    # F1 of the negative class, for the macro average over both classes
    pn = tn / (tn + fn) if tn + fn else 0.0
    rn = tn / (tn + fp) if tn + fp else 0.0
    f1n = 2 * pn * rn / (pn + rn) if pn + rn else 0.0
    out = {"n": len(y), "n_positive": int(y.sum()), "tp": tp, "fp": fp, "fn": fn, "tn": tn,
           "precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4),
           "macro_f1": round((f1 + f1n) / 2, 4)}
    if 0 < y.sum() < len(y):
        out["average_precision"] = round(float(average_precision_score(y, scores)), 4)
        out["roc_auc"] = round(float(roc_auc_score(y, scores)), 4)
    return out


def calibration(y, scores, n_bins: int = 10) -> dict:
    """Reliability table (equal-width bins), Brier score and expected calibration error."""
    y = np.asarray(y, dtype=float)
    scores = np.clip(np.asarray(scores, dtype=float), 0.0, 1.0)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.minimum((scores * n_bins).astype(int), n_bins - 1)
    bins, ece = [], 0.0
    for b in range(n_bins):
        m = idx == b
        n = int(m.sum())
        if not n:
            continue
        mean_s, rate = float(scores[m].mean()), float(y[m].mean())
        ece += n / len(y) * abs(mean_s - rate)
        bins.append({"lo": round(float(edges[b]), 2), "hi": round(float(edges[b + 1]), 2), "n": n,
                     "mean_score": round(mean_s, 4), "positive_rate": round(rate, 4)})
    return {"bins": bins, "brier": round(float(np.mean((scores - y) ** 2)), 4),
            "ece": round(float(ece), 4)}


def category_report(true_cats, pred_cats) -> dict:
    """Confusion matrix over the 13 categories ("none" included) and per-category P/R/F1."""
    labels = list(CATEGORIES)
    pos = {c: i for i, c in enumerate(labels)}
    mat = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(true_cats, pred_cats):
        mat[pos[t], pos[p]] += 1
    per = {}
    for c, i in pos.items():
        tp = mat[i, i]
        support = int(mat[i].sum())
        predicted = int(mat[:, i].sum())
        p = tp / predicted if predicted else 0.0
        r = tp / support if support else 0.0
        per[c] = {"support": support, "predicted": predicted, "precision": round(p, 4),
                  "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}
    wild = [c for c in labels if c != "none" and per[c]["support"]]
    return {"labels": labels, "matrix": mat.tolist(), "per_category": per,
            "macro_f1_wildlife": round(float(np.mean([per[c]["f1"] for c in wild])), 4)
            if wild else None}


def summarise(records, preds) -> dict:
    """All metrics of predictions ``preds`` (dicts with score / flag / category / lang) against
    labelled ``records``."""
    y = np.array([1 if r["label"] == POSITIVE else 0 for r in records])
    scores = np.array([p["score"] for p in preds], dtype=float)
    flags = np.array([p["flag"] for p in preds], dtype=bool)
    langs = np.array([r.get("lang") or p["lang"] for r, p in zip(records, preds)])
    kinds = np.array([r.get("kind") or "?" for r in records])
    out = {"overall": binary_metrics(y, scores, flags), "per_lang": {}, "per_kind": {}}
    for lang in sorted(set(langs.tolist())):
        m = langs == lang
        out["per_lang"][lang] = binary_metrics(y[m], scores[m], flags[m])
    for kind in sorted(set(kinds.tolist())):
        m = kinds == kind
        label = POSITIVE if y[m].mean() >= 0.5 else "negative"
        rate = float(flags[m].mean())
        out["per_kind"][kind] = {"label": label, "n": int(m.sum()),
                                 ("recall" if label == POSITIVE else "flag_rate"): round(rate, 4)}
    hard = np.isin(kinds, HARD_NEGATIVE_KINDS) & (y == 0)
    ordinary = (kinds == "ordinary") & (y == 0)
    out["hard_negatives"] = {"n": int(hard.sum()),
                             "flag_rate": round(float(flags[hard].mean()), 4) if hard.any() else None}
    out["ordinary_negatives"] = {"n": int(ordinary.sum()),
                                 "flag_rate": round(float(flags[ordinary].mean()), 4)
                                 if ordinary.any() else None}
    hard_by_lang = {}
    for lang in sorted(set(langs.tolist())):
        m = hard & (langs == lang)
        if m.any():
            hard_by_lang[lang] = round(float(flags[m].mean()), 4)
    out["hard_negatives"]["flag_rate_per_lang"] = hard_by_lang
    true_cat = [r["category"] for r in records]
    pred_cat = [p["category"] if p["flag"] else "none" for p in preds]
    out["categories"] = category_report(true_cat, pred_cat)
    caught = flags & (y == 1)
    out["category_accuracy_on_caught_positives"] = (
        round(float(np.mean([true_cat[i] == pred_cat[i] for i in np.flatnonzero(caught)])), 4)
        if caught.any() else None)
    has_lang = np.array([bool(r.get("lang")) for r in records])
    if has_lang.any():
        pl = np.array([p["lang"] for p in preds])
        out["lang_id_accuracy"] = round(float((pl[has_lang] == langs[has_lang]).mean()), 4)
    out["calibration"] = calibration(y, scores)
    return out


# ---------------------------------------------------------------------------------------------
# cross-validation

def cv_splits(records, n_splits: int, seed: int):
    from sklearn.model_selection import StratifiedGroupKFold

    from .groups import near_duplicate_groups

    y = np.array([1 if r["label"] == POSITIVE else 0 for r in records])
    langs = np.array([r.get("lang") or "other" for r in records])
    strata = np.array([f"{a}-{b}" for a, b in zip(y, langs)])
    groups = near_duplicate_groups(records)
    n_splits = int(min(n_splits, np.bincount(y, minlength=2).min()))
    splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), strata, groups)), groups


def oof_predictions(records, *, n_splits=5, seed=13, robustness=True, on_fold=None,
                    **params) -> dict:
    """Out-of-fold predictions of ``WildwatchClassifier(**params)`` under grouped CV, plus (with
    ``robustness``) the fold model's predictions on variants of the held-out positives."""
    from .model import WildwatchClassifier
    from .robustness import variants

    records = list(records)
    folds, groups = cv_splits(records, n_splits, seed)
    preds: list[dict | None] = [None] * len(records)
    thresholds = []
    robust = {k: {"orig": [], "variant": [], "lang": []} for k in VARIANT_KINDS}
    for k, (train, test) in enumerate(folds):
        est = WildwatchClassifier(seed=seed, **params)
        est.fit([records[i] for i in train], [records[i]["label"] for i in train],
                categories=[records[i]["category"] for i in train])
        thresholds.append({"overall": round(est.threshold_, 4),
                           **{lang: round(t, 4) for lang, t in est.lang_thresholds_.items()}})
        for i, out in zip(test, est.describe([records[i] for i in test])):
            preds[i] = out
        if robustness:
            pos = [i for i in test if records[i]["label"] == POSITIVE]
            lex = est.lexicon_
            vs = [variants(records[i], records[i].get("lang") or preds[i]["lang"], lex)
                  for i in pos]
            for kind in VARIANT_KINDS:
                texts = [v[kind] for v in vs]
                # the variant is scored in the record's language (its threshold)
                outs = est.describe(texts)
                for i, o in zip(pos, outs):
                    robust[kind]["orig"].append(bool(preds[i]["flag"]))
                    robust[kind]["variant"].append(bool(o["flag"]))
                    robust[kind]["lang"].append(records[i].get("lang") or preds[i]["lang"])
        if on_fold:
            on_fold(k + 1, len(folds))
    return {"preds": preds, "fold_thresholds": thresholds, "n_splits": len(folds),
            "n_groups": len(set(groups.tolist())),
            "robustness": summarise_robustness(robust) if robustness else None}


def summarise_robustness(robust: dict) -> dict:
    out = {}
    for kind, d in robust.items():
        orig = np.array(d["orig"], dtype=bool)
        var = np.array(d["variant"], dtype=bool)
        langs = np.array(d["lang"])
        entry = {"n": len(orig),
                 "variant_recall": round(float(var.mean()), 4) if len(var) else None,
                 "kept_flag": round(float(var[orig].mean()), 4) if orig.any() else None,
                 "per_lang": {}}
        for lang in sorted(set(langs.tolist())):
            m = langs == lang
            entry["per_lang"][lang] = {
                "n": int(m.sum()), "variant_recall": round(float(var[m].mean()), 4),
                "kept_flag": round(float(var[m & orig].mean()), 4) if (m & orig).any() else None}
        out[kind] = entry
    return out


def robustness_of(model_like, records) -> dict:
    """Robustness of a fitted model (``describe``) on the positives of ``records``."""
    from .robustness import variants

    lex = getattr(model_like, "lexicon_", None)
    pos = [r for r in records if r["label"] == POSITIVE]
    base = model_like.describe(pos)
    robust = {k: {"orig": [], "variant": [], "lang": []} for k in VARIANT_KINDS}
    vs = [variants(r, r.get("lang") or b["lang"], lex) for r, b in zip(pos, base)]
    for kind in VARIANT_KINDS:
        outs = model_like.describe([v[kind] for v in vs])
        for r, b, o in zip(pos, base, outs):
            robust[kind]["orig"].append(bool(b["flag"]))
            robust[kind]["variant"].append(bool(o["flag"]))
            robust[kind]["lang"].append(r.get("lang") or b["lang"])
    return summarise_robustness(robust)


# ---------------------------------------------------------------------------------------------
# evaluation of a model folder

def evaluate(model, records, *, cv: int | None = None, seed: int = 13, robustness: bool = True,
             on_fold=None) -> dict:
    """Evaluate ``model`` (a loaded ``bundle.Model``) on labelled ``records``: held out, or with
    ``cv`` folds of its parameters. The keyword baseline is scored on the same listings."""
    records = list(records)
    est = model.estimator
    report = {"model": model.version, "n": len(records),
              "data": dict(Counter(r.get("lang") or "?" for r in records))}
    if cv:
        params = {k: v for k, v in est.get_params().items() if k != "seed"}
        res = oof_predictions(records, n_splits=cv, seed=seed, robustness=robustness,
                              on_fold=on_fold, **params)
        preds = res["preds"]
        report.update(mode="cross-validation", n_splits=res["n_splits"], n_groups=res["n_groups"],
                      fold_thresholds=res["fold_thresholds"], robustness=res["robustness"])
    else:
        preds = model.predict(records)
        trained_ids = set(model.meta.get("data", {}).get("ids") or [])
        overlap = sum(1 for r in records if r.get("id") in trained_ids)
        report.update(mode="held-out", overlap_with_training=overlap,
                      robustness=robustness_of(est, records) if robustness else None)
    report["metrics"] = summarise(records, preds)
    base = KeywordBaseline(getattr(est, "lexicon_", None)).describe(records)
    report["baseline"] = summarise(records, base)
    report["_arrays"] = {
        "y": [1 if r["label"] == POSITIVE else 0 for r in records],
        "lang": [r.get("lang") or p["lang"] for r, p in zip(records, preds)],
        "score": [p["score"] for p in preds], "baseline_score": [b["score"] for b in base],
        "baseline_flag": [b["flag"] for b in base],
    }
    return report


# ---------------------------------------------------------------------------------------------
# report

def _plot_pr(arrays: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y = np.asarray(arrays["y"])
    s = np.asarray(arrays["score"])
    langs = np.asarray(arrays["lang"])
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=100)
    if 0 < y.sum() < len(y):
        p, r, _ = precision_recall_curve(y, s)
        ax.plot(r, p, label=f"model, all (AP {average_precision_score(y, s):.3f})", lw=2)
        for lang in ("zh", "vi", "en"):
            m = langs == lang
            if m.any() and 0 < y[m].sum() < m.sum():
                p, r, _ = precision_recall_curve(y[m], s[m])
                ax.plot(r, p, lw=1, alpha=0.8,
                        label=f"model, {lang} (AP {average_precision_score(y[m], s[m]):.3f})")
        bf = np.asarray(arrays["baseline_flag"], dtype=bool)
        tp = (bf & (y == 1)).sum()
        if bf.any():
            ax.scatter([tp / y.sum()], [tp / bf.sum()], marker="x", s=80, color="black",
                       zorder=5, label="keyword baseline")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1.01)
    ax.set_ylim(0, 1.01)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("Precision-recall")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _plot_calibration(cal: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4.5), dpi=100)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect")
    xs = [b["mean_score"] for b in cal["bins"]]
    ys = [b["positive_rate"] for b in cal["bins"]]
    ns = [b["n"] for b in cal["bins"]]
    ax.plot(xs, ys, marker="o", label=f"model (ECE {cal['ece']:.3f}, Brier {cal['brier']:.3f})")
    for x, y_, n in zip(xs, ys, ns):
        ax.annotate(str(n), (x, y_), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set_xlabel("mean score in bin")
    ax.set_ylabel("share positive")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("Calibration (reliability)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _f(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else (
        f"{x:.3f}" if isinstance(x, float) else str(x))


def report_tables(report: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """The report as (title, header, rows) tables — shared by Markdown, HTML and the CLI."""
    m, b = report["metrics"], report["baseline"]
    tables = []
    rows = []
    for name, mm, bb in [("all", m["overall"], b["overall"]),
                         *[(lang, m["per_lang"][lang], b["per_lang"].get(lang, {}))
                           for lang in m["per_lang"]]]:
        rows.append([name, str(mm["n"]), str(mm["n_positive"]), _f(mm["precision"]),
                     _f(mm["recall"]), _f(mm["f1"]), _f(mm["macro_f1"]),
                     _f(mm.get("average_precision")), _f(bb.get("precision")),
                     _f(bb.get("recall")), _f(bb.get("macro_f1"))])
    tables.append(("Per language (model vs keyword baseline)",
                   ["subset", "n", "pos", "P", "R", "F1", "macro F1", "AP", "baseline P",
                    "baseline R", "baseline macro F1"], rows))
    rows = []
    for kind, d in m["per_kind"].items():
        key = "recall" if d["label"] == POSITIVE else "flag_rate"
        rows.append([kind, d["label"], str(d["n"]), key.replace("_", " "), _f(d[key]),
                     _f(b["per_kind"][kind][key])])
    rows.append(["hard negatives (all)", "negative", str(m["hard_negatives"]["n"]), "flag rate",
                 _f(m["hard_negatives"]["flag_rate"]), _f(b["hard_negatives"]["flag_rate"])])
    for lang, rate in m["hard_negatives"]["flag_rate_per_lang"].items():
        rows.append([f"hard negatives ({lang})", "negative", "", "flag rate", _f(rate),
                     _f(b["hard_negatives"]["flag_rate_per_lang"].get(lang))])
    tables.append(("Per kind of listing (recall of positives, share flagged of negatives)",
                   ["kind", "label", "n", "measure", "model", "keyword baseline"], rows))
    rows = []
    for cat, d in m["categories"]["per_category"].items():
        bd = b["categories"]["per_category"][cat]
        rows.append([cat, str(d["support"]), _f(d["precision"]), _f(d["recall"]), _f(d["f1"]),
                     _f(bd["precision"]), _f(bd["recall"]), _f(bd["f1"])])
    tables.append(("Per category (flag and category both right; 'none' = negatives)",
                   ["category", "support", "P", "R", "F1", "baseline P", "baseline R",
                    "baseline F1"], rows))
    o = m["overall"]
    tables.append(("Confusion matrix (flag)", ["", "flagged", "not flagged"],
                   [["positive", str(o["tp"]), str(o["fn"])],
                    ["negative", str(o["fp"]), str(o["tn"])]]))
    labels = m["categories"]["labels"]
    short = [c[:7] for c in labels]
    mat = m["categories"]["matrix"]
    tables.append(("Category confusion matrix (rows: true, columns: predicted)",
                   ["true \\ pred", *short],
                   [[labels[i], *[str(v) if v else "·" for v in mat[i]]]
                    for i in range(len(labels))]))
    cal = m["calibration"]
    tables.append((f"Calibration (Brier {cal['brier']:.4f}, ECE {cal['ece']:.4f})",
                   ["bin", "n", "mean score", "share positive"],
                   [[f"{bb['lo']:.1f}–{bb['hi']:.1f}", str(bb["n"]), _f(bb["mean_score"]),
                     _f(bb["positive_rate"])] for bb in cal["bins"]]))
    rob = report.get("robustness")
    if rob:
        rows = []
        for kind, d in rob.items():
            rows.append([kind, "all", str(d["n"]), _f(d["kept_flag"]), _f(d["variant_recall"])])
            for lang, dl in d["per_lang"].items():
                rows.append([kind, lang, str(dl["n"]), _f(dl["kept_flag"]),
                             _f(dl["variant_recall"])])
        tables.append((("Robustness: variants of positives (obfuscated terms; stripped = vi "
                        "without diacritics, zh traditional, en spaced-out terms)"),
                       ["variant", "lang", "n", "kept flag (of flagged originals)",
                        "recall on variants"], rows))
    return tables


def _md_table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _intro(report: dict) -> list[str]:
    lines = [f"Model `{report['model']}` on {report['n']} listings {report['data']}."]
    if report["mode"] == "cross-validation":
        lines.append(
            f"Mode: **{report['n_splits']}-fold cross-validation** of the model's parameters, "
            f"grouped so that near-duplicates never straddle folds ({report['n_groups']} groups), "
            "stratified on label × language; each fold's threshold is chosen on validation folds "
            "inside its own training part, never on the held-out fold.")
    else:
        lines.append("Mode: **held-out** — the fitted model scores these listings as they are.")
        if report.get("overlap_with_training"):
            lines.append(f"**Warning:** {report['overlap_with_training']} of these listings were in "
                         "the model's training data: those numbers are optimistic.")
    lines.append("Keyword baseline: every wildlife term of the same lexicon matched as a plain "
                 "keyword (no cues, no de-obfuscation, no learning).")
    return lines


def write_report(report: dict, out_dir: str | Path) -> dict[str, Path]:
    """Write report.md, report.html, metrics.json, pr_curve.png, calibration.png."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out / "report.md", "html": out / "report.html",
             "json": out / "metrics.json", "pr_curve": out / "pr_curve.png",
             "calibration": out / "calibration.png"}
    _plot_pr(report["_arrays"], paths["pr_curve"])
    _plot_calibration(report["metrics"]["calibration"], paths["calibration"])
    tables = report_tables(report)
    md = [f"# Evaluation — {report['model']}", "", *_intro(report), "",
          "![precision-recall](pr_curve.png) ![calibration](calibration.png)", ""]
    for title, header, rows in tables:
        md += [f"## {title}", "", _md_table(header, rows), ""]
    paths["markdown"].write_text("\n".join(md), encoding="utf-8")
    h = ["<!doctype html><html><head><meta charset='utf-8'>",
         f"<title>Evaluation — {html.escape(report['model'])}</title>",
         ("<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
          "table{border-collapse:collapse;margin-bottom:1.5em;font-size:14px}"
          "td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}"
          "td:first-child,th:first-child{text-align:left}</style></head><body>"),
         f"<h1>Evaluation — {html.escape(report['model'])}</h1>"]
    h += [f"<p>{html.escape(line).replace('**', '')}</p>" for line in _intro(report)]
    h.append("<p><img src='pr_curve.png' alt='precision-recall curve'> "
             "<img src='calibration.png' alt='calibration curve'></p>")
    for title, header, rows in tables:
        h.append(f"<h2>{html.escape(title)}</h2><table><tr>"
                 + "".join(f"<th>{html.escape(c)}</th>" for c in header) + "</tr>")
        h += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows]
        h.append("</table>")
    h.append("</body></html>")
    paths["html"].write_text("\n".join(h), encoding="utf-8")
    paths["json"].write_text(json.dumps({k: v for k, v in report.items() if k != "_arrays"},
                                        indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths


__all__ = ["HARD_NEGATIVE_KINDS", "binary_metrics", "calibration", "category_report",
           "cv_splits", "evaluate", "oof_predictions", "report_tables", "robustness_of",
           "summarise", "write_report"]
