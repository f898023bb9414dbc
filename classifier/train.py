"""Train, cross-validate and save a model folder."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

from .bundle import CARD_FILE, META_FILE, MODEL_FILE, Model, load_model, save_model
from .corpus import CorpusError, _check
from .labels import CATEGORIES, POSITIVE
from .model import WildwatchClassifier, title_groups

DEFAULT_NAME = "wildwatch-tfidf"
FORMAT_VERSION = 1


def data_sha256(records) -> str:
    """sha256 over the records' training fields, in order (stable across JSON formatting)."""
    h = hashlib.sha256()
    for r in records:
        core = {k: r.get(k) for k in ("id", "lang", "title", "text", "label", "category", "kind")}
        h.update(json.dumps(core, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def validate_records(records) -> None:
    errors = []
    for i, r in enumerate(records):
        where = r.get("_source", f"record {i}") if isinstance(r, dict) else f"record {i}"
        errors.extend(_check(r, where))
    if not records:
        errors.append("no records")
    if errors:
        raise CorpusError(errors)


def _binary_metrics(y: np.ndarray, scores: np.ndarray, flags: np.ndarray) -> dict:
    tp = int((flags & (y == 1)).sum())
    fp = int((flags & (y == 0)).sum())
    fn = int((~flags & (y == 1)).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    out = {"n": len(y), "n_positive": int(y.sum()), "tp": tp, "fp": fp, "fn": fn,
           "precision": round(p, 4), "recall": round(r, 4),
           "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}
    if 0 < y.sum() < len(y):
        out["average_precision"] = round(float(average_precision_score(y, scores)), 4)
        out["roc_auc"] = round(float(roc_auc_score(y, scores)), 4)
    return out


def cross_validate(records, *, n_splits=5, seed=13, target_recall=0.95, **params) -> dict:
    """Out-of-fold metrics: each fold's model (with its own threshold, chosen inside its own
    training data) scores the held-out fold. Folds keep near-identical titles together
    (StratifiedGroupKFold, stratified on label × language)."""
    y = np.array([1 if r["label"] == POSITIVE else 0 for r in records])
    langs = np.array([r.get("lang") or "other" for r in records])
    strata = np.array([f"{a}-{b}" for a, b in zip(y, langs)])
    groups = title_groups(records)
    n_splits = int(min(n_splits, np.bincount(y, minlength=2).min()))
    splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
    scores = np.zeros(len(records))
    flags = np.zeros(len(records), dtype=bool)
    pred_cat = np.array(["none"] * len(records), dtype=object)
    pred_lang = np.array(["other"] * len(records), dtype=object)
    thresholds = []
    for train, test in splitter.split(np.zeros(len(y)), strata, groups):
        est = WildwatchClassifier(seed=seed, target_recall=target_recall, **params)
        est.fit([records[i] for i in train], y[train],
                categories=[records[i]["category"] for i in train])
        thresholds.append(est.threshold_)
        for i, out in zip(test, est.describe([records[i] for i in test])):
            scores[i], flags[i] = out["score"], out["flag"]
            pred_cat[i], pred_lang[i] = out["category"], out["lang"]

    metrics = {"n_splits": n_splits, "fold_thresholds": [round(t, 4) for t in thresholds],
               "overall": _binary_metrics(y, scores, flags), "per_lang": {}}
    for lang in sorted(set(langs.tolist())):
        m = langs == lang
        metrics["per_lang"][lang] = _binary_metrics(y[m], scores[m], flags[m])
    # which kinds of listing get missed / falsely flagged
    kinds = np.array([r.get("kind") or "?" for r in records])
    per_kind = {}
    for kind in sorted(set(kinds.tolist())):
        m = kinds == kind
        label = POSITIVE if y[m].mean() >= 0.5 else "negative"
        rate = float(flags[m].mean())
        per_kind[kind] = {"label": label, "n": int(m.sum()),
                          ("recall" if label == POSITIVE else "flag_rate"): round(rate, 4)}
    metrics["per_kind"] = per_kind
    true_cat = np.array([r["category"] for r in records], dtype=object)
    caught = flags & (y == 1)
    metrics["category_accuracy_on_caught_positives"] = (
        round(float((pred_cat[caught] == true_cat[caught]).mean()), 4) if caught.any() else None)
    has_lang = np.array([bool(r.get("lang")) for r in records])
    if has_lang.any():
        metrics["lang_id_accuracy"] = round(float((pred_lang[has_lang] == langs[has_lang]).mean()), 4)
    return metrics


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    import jieba
    import joblib
    import numpy
    import pyvi  # noqa: F401
    import scipy
    import sklearn

    def v(dist):
        try:
            return version(dist)
        except PackageNotFoundError:
            return None

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "numpy": numpy.__version__, "scipy": scipy.__version__, "joblib": joblib.__version__,
            "jieba": getattr(jieba, "__version__", v("jieba")), "pyvi": v("pyvi"),
            "lingua-language-detector": v("lingua-language-detector")}


def train_model(records, out_dir, *, seed=13, target_recall=0.95, name=None, n_splits=5,
                **params) -> Model:
    """Fit a WildwatchClassifier on ``records`` (as from ``read_corpus``), cross-validate it,
    and save the model folder at ``out_dir``. Extra keyword arguments are estimator parameters.
    Returns the saved model, loaded back through ``load_model``."""
    records = list(records)
    validate_records(records)
    t0 = time.time()
    metrics = cross_validate(records, n_splits=n_splits, seed=seed, target_recall=target_recall,
                             **params)
    y = [r["label"] for r in records]
    est = WildwatchClassifier(seed=seed, target_recall=target_recall, **params)
    est.fit(records, y, categories=[r["category"] for r in records])
    elapsed = time.time() - t0

    now = datetime.now(UTC)
    digest = data_sha256(records)
    name = name or DEFAULT_NAME
    versions = _versions()
    meta = {
        "format": FORMAT_VERSION,
        "name": name,
        "version": f"{name}-{now:%Y%m%d%H%M%S}-{digest[:8]}",
        "created_at": now.isoformat(timespec="seconds"),
        "seed": seed,
        "python": versions["python"],
        "sklearn": versions["scikit-learn"],
        "numpy": versions["numpy"],
        "versions": versions,
        "data": {
            "sha256": digest,
            "n": len(records),
            "n_per_label": dict(Counter(y)),
            "n_per_lang": dict(Counter(r.get("lang") or "?" for r in records)),
            "n_per_category": dict(Counter(r["category"] for r in records)),
            "sources": sorted({r["_source"].rsplit(":", 1)[0] for r in records if "_source" in r}),
        },
        "threshold": est.threshold_,
        "target_recall": target_recall,
        "train_oof": {"precision": round(est.oof_precision_, 4),
                      "recall": round(est.oof_recall_, 4)},
        "categories": list(CATEGORIES),
        "estimator": type(est).__name__,
        "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in est.get_params().items()},
        "lexicon": est.lexicon_.sources,
        "embedding": None,
        "metrics": {"cross_validated": metrics},
        "train_seconds": round(elapsed, 1),
        "platform": f"{platform.system()} {platform.machine()} ({sys.implementation.name})",
    }
    save_model(est, meta, model_card(meta), out_dir)
    return load_model(out_dir)


def _fmt(m: dict) -> str:
    return (f"| {m['n']} | {m['n_positive']} | {m['precision']:.3f} | {m['recall']:.3f} | "
            f"{m['f1']:.3f} | {m.get('average_precision', float('nan')):.3f} |")


def model_card(meta: dict) -> str:
    cv = meta["metrics"]["cross_validated"]
    d = meta["data"]
    lines = [
        f"# Model card — {meta['version']}",
        "",
        "## What it is",
        "",
        ("Wildwatch's first classifier: it scores a marketplace or forum listing (title + text, "
         "Chinese, Vietnamese or English) with the calibrated probability that it offers, or asks "
         "to buy, an illegal wildlife product, and names a wildlife category."),
        "",
        ("- Features: TF-IDF over language-aware word 1–2-grams (jieba for zh, pyvi + "
         "diacritic-free syllables for vi, a regex elsewhere), TF-IDF over char_wb 2–4-grams of "
         "the normalised text, and hand-written seed-lexicon features (category terms; trade, "
         "substitute, news and decoy cues)."),
        ("- Score: logistic regression (balanced classes), sigmoid-calibrated "
         "(`CalibratedClassifierCV`, one base model). Category: multiclass logistic regression on "
         "the positives, falling back to the lexicon's top category when unsure."),
        (f"- Threshold {meta['threshold']:.4f}: chosen on out-of-fold scores of the training data "
         f"for a recall of {meta['target_recall']:.2f}."),
        "- No embeddings in this version.",
        "",
        "## Data",
        "",
        (f"{d['n']} hand-written listings (the project's own writing), sha256 `{d['sha256'][:16]}…`: "
         f"labels {d['n_per_label']}, languages {d['n_per_lang']}."),
        f"Categories: {d['n_per_category']}.",
        "",
        "## Intended use",
        "",
        ("Ranking listings for human review. A flag is a reason to look, not a finding: analysts "
         "decide. Not for automated enforcement, takedowns or judgements about people."),
        "",
        (f"## Cross-validated metrics ({cv['n_splits']}-fold, grouped by near-identical title; "
         "each fold chooses its own threshold on its training part)"),
        "",
        "| subset | n | positives | precision | recall | F1 | average precision |",
        "|---|---|---|---|---|---|---|",
        "| all " + _fmt(cv["overall"]),
    ]
    for lang, m in cv["per_lang"].items():
        lines.append(f"| {lang} " + _fmt(m))
    lines += ["", "Per kind of listing (recall for positives, share flagged for negatives):", "",
              "| kind | label | n | rate |", "|---|---|---|---|"]
    for kind, m in cv["per_kind"].items():
        rate = m.get("recall", m.get("flag_rate"))
        lines.append(f"| {kind} | {m['label']} | {m['n']} | {rate:.3f} |")
    lines += [
        "",
        (f"Category accuracy on caught positives: {cv.get('category_accuracy_on_caught_positives')}. "
         f"Language id accuracy against the corpus' lang field: {cv.get('lang_id_accuracy')}."),
        "",
        "## Limits",
        "",
        ("- Small, synthetic training set written by a few people: the metrics above are "
         "optimistic for real marketplaces, whose slang, spelling and topics drift."),
        ("- Word and character n-grams learn surface vocabulary: new code words, images-only "
         "listings and heavy obfuscation beyond the light de-obfuscation (犀.牛.角, n.g.à, 1v0ry) "
         "get through; legal look-alikes with unusual wording get flagged."),
        ("- The seed lexicon is short and hand-written; the species lexicon from the CITES / China / "
         "Vietnam lists is not in yet."),
        ("- Language id covers zh / vi / en only; anything else is `other` and scored with the "
         "regex tokenizer."),
        ("- `model.joblib` is a pickle: load only model folders you trust (`load_model` checks the "
         "sha256 of every file against `meta.json` first)."),
        "",
        "## Reproduce",
        "",
        "```python",
        "from classifier import read_corpus, train_model",
        f"records = read_corpus({d.get('sources') or ['<corpus files>']!r})",
        (f"train_model(records, 'models/default', seed={meta['seed']}, "
         f"target_recall={meta['target_recall']})"),
        "```",
        "",
        f"Versions: {meta['versions']}.",
        "",
    ]
    return "\n".join(lines)


__all__ = [
    "CARD_FILE",
    "META_FILE",
    "MODEL_FILE",
    "cross_validate",
    "data_sha256",
    "model_card",
    "train_model",
    "validate_records",
]
