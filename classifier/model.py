"""The scikit-learn estimator: records in, calibrated probability of "wildlife ad" out.

Features (``FeatureUnion`` over prepared ``Doc`` objects):
  words    TF-IDF over language-aware word n-grams (jieba / pyvi / regex tokens; 1..2-grams)
  chars    TF-IDF over char_wb n-grams (2..4) of the normalised text
  lexicon  seed-lexicon hits, cue counts, hit-and-cue indicators; weighted 0.1 by default: at
           weight 1 these few dense features crowd out the n-grams and cross-validated average
           precision on the corpus falls from 0.977 to 0.936 (the hard negatives are written to
           share the lexicon's words)
Score: ``LogisticRegression(class_weight="balanced")`` calibrated with
``CalibratedClassifierCV(method="sigmoid", ensemble=False)`` (one base model, so its weights can
explain a score). Threshold: chosen on out-of-fold scores for ``target_recall``.
Category: a multiclass ``LogisticRegression`` trained on the positives; when it is unsure, the
lexicon's top category. (Fitted without ``categories``, only the lexicon names categories.)
Evidence: the lexicon's wildlife terms found, the word n-grams present with the largest positive
contribution to the score (stop words and placeholders left out), then the cue terms found.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted

from .features import Doc, LexiconFeatures, WordNgrams, doc_chars, prepare
from .labels import CATEGORIES, NEGATIVE, POSITIVE
from .lexicon import default_lexicon, load_lexicon
from .text import near_dup_key


def _labels_to_int(y) -> np.ndarray:
    out = []
    for v in y:
        if v in (1, True, POSITIVE):
            out.append(1)
        elif v in (0, False, NEGATIVE):
            out.append(0)
        else:
            raise ValueError(f"labels are {POSITIVE!r}/{NEGATIVE!r} or 1/0, got {v!r}")
    return np.asarray(out, dtype=int)


def title_groups(X) -> np.ndarray:
    """CV groups: records whose titles are near-identical share a group (a title-less record
    uses the start of its text)."""
    keys = []
    for r in X:
        if isinstance(r, dict):
            title = r.get("title") or (r.get("text") or "")[:80]
        else:
            title = str(r)[:80]
        keys.append(near_dup_key(title))
    return np.asarray(keys)


# function words that carry weight only through the quirks of a small corpus: never evidence
_STOP_TEXT = """
的 了 是 我 你 有 在 和 也 都 就 不 要 一 个 这 那 吗 呢 啊 吧
the of for a an and to in on at with is it my me i you your this that from or are be by
ai có là và của cho thì mà này các những được không một em anh chị
"""
_EVIDENCE_STOP = frozenset(_STOP_TEXT.split())


def _readable_word_feature(name: str) -> str:
    """"words__ngà_voi" -> "ngà voi"; "" for non-word features, placeholders, numbers, stop
    words and one-letter Latin tokens."""
    if not name.startswith("words__"):
        return ""
    toks = name[len("words__"):].split(" ")
    if any(t.startswith("__") for t in toks):
        return ""
    if all(t in _EVIDENCE_STOP or (t.isascii() and len(t) < 2) for t in toks):
        return ""
    return " ".join(t.replace("_", " ") for t in toks)


def threshold_for_recall(y: np.ndarray, scores: np.ndarray, target_recall: float) -> float:
    """Highest threshold t such that recall(scores >= t) >= target_recall."""
    pos = np.sort(scores[y == 1])[::-1]
    if len(pos) == 0:
        return 0.5
    k = max(1, math.ceil(target_recall * len(pos) - 1e-9))
    return float(pos[k - 1])


class WildwatchClassifier(ClassifierMixin, BaseEstimator):
    """Wildlife-ad classifier over records (dicts with "title" / "text", or strings).

    Parameters
    ----------
    C : inverse regularisation of the scoring LogisticRegression
    category_C : the same for the category model
    target_recall : recall on out-of-fold scores that the stored threshold aims at
    word_ngrams : longest word n-gram
    char_ngrams : (min, max) char_wb n-gram lengths
    char_min_df : min_df of the char vectorizer
    lexicon_weight : weight of the lexicon block in the feature union
    lexicon_paths : lexicon YAML files; None = the default lexicon (seed + generated files)
    cv : folds for calibration and for the out-of-fold threshold
    category_min_proba : below this, the category falls back to the lexicon's top category
    max_evidence : most evidence strings per listing
    seed : random state for the folds
    """

    def __init__(self, *, C=30.0, category_C=8.0, target_recall=0.95, word_ngrams=2,
                 char_ngrams=(2, 4), char_min_df=2, lexicon_weight=0.1, lexicon_paths=None,
                 cv=5, category_min_proba=0.5, max_evidence=8, seed=13):
        self.C = C
        self.category_C = category_C
        self.target_recall = target_recall
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.char_min_df = char_min_df
        self.lexicon_weight = lexicon_weight
        self.lexicon_paths = lexicon_paths
        self.cv = cv
        self.category_min_proba = category_min_proba
        self.max_evidence = max_evidence
        self.seed = seed

    # -- building blocks --------------------------------------------------------------------
    def _features(self) -> FeatureUnion:
        return FeatureUnion([
            ("words", TfidfVectorizer(analyzer=WordNgrams(self.word_ngrams), sublinear_tf=True,
                                      dtype=np.float32)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngrams),
                                      preprocessor=doc_chars, min_df=self.char_min_df,
                                      sublinear_tf=True, dtype=np.float32)),
            ("lexicon", LexiconFeatures()),
        ], transformer_weights={"words": 1.0, "chars": 1.0, "lexicon": self.lexicon_weight})

    def _scorer(self, n_splits: int) -> Pipeline:
        base = LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear",
                                  max_iter=1000, random_state=self.seed)
        calibrated = CalibratedClassifierCV(
            base, method="sigmoid", ensemble=False,
            cv=StratifiedKFold(n_splits, shuffle=True, random_state=self.seed))
        return Pipeline([("features", self._features()), ("clf", calibrated)])

    def _prepare(self, X) -> list[Doc]:
        return prepare(X, self.lexicon_ if hasattr(self, "lexicon_") else self._load_lexicon())

    def _load_lexicon(self):
        return default_lexicon() if self.lexicon_paths is None else load_lexicon(self.lexicon_paths)

    # -- fit --------------------------------------------------------------------------------
    def fit(self, X, y, categories=None):
        """X: records; y: "positive"/"negative" (or 1/0); categories: per record, the wildlife
        category of positives (needed for the category model; ignored for negatives)."""
        X = list(X)
        y01 = _labels_to_int(y)
        if len(X) != len(y01):
            raise ValueError(f"X has {len(X)} records but y has {len(y01)} labels")
        counts = np.bincount(y01, minlength=2)
        if counts.min() < 2:
            raise ValueError("need at least two positive and two negative examples")
        self.lexicon_ = self._load_lexicon()
        docs = prepare(X, self.lexicon_)
        self.classes_ = np.array([NEGATIVE, POSITIVE], dtype=object)

        n_splits = int(min(self.cv, counts.min()))
        # out-of-fold scores for the threshold; near-identical titles stay in one fold
        groups = title_groups(X)
        outer = StratifiedGroupKFold(n_splits, shuffle=True, random_state=self.seed)
        inner_splits = max(2, min(n_splits, int(counts.min() * (n_splits - 1) / n_splits)))
        oof = cross_val_predict(self._scorer(inner_splits), docs, y01, groups=groups, cv=outer,
                                method="predict_proba")[:, 1]
        self.threshold_ = threshold_for_recall(y01, oof, self.target_recall)
        flags = oof >= self.threshold_
        tp = int((flags & (y01 == 1)).sum())
        self.oof_precision_ = tp / max(1, int(flags.sum()))
        self.oof_recall_ = tp / max(1, int((y01 == 1).sum()))

        self.scorer_ = self._scorer(n_splits).fit(docs, y01)
        self._fit_category(docs, y01, categories)
        self._index_evidence()
        return self

    def _fit_category(self, docs, y01, categories):
        self.category_model_ = None
        self.category_constant_ = None
        if categories is None:
            return
        categories = list(categories)
        if len(categories) != len(docs):
            raise ValueError("categories must have one entry per record")
        idx = [i for i in range(len(docs)) if y01[i] == 1]
        cats = [categories[i] for i in idx]
        bad = sorted({c for c in cats if c not in CATEGORIES or c == "none"})
        if bad:
            raise ValueError(f"positives need a wildlife category; got {bad}")
        if len(set(cats)) == 1:
            self.category_constant_ = cats[0]
            return
        Xf = self.scorer_.named_steps["features"].transform([docs[i] for i in idx])
        self.category_model_ = LogisticRegression(
            C=self.category_C, class_weight="balanced", max_iter=2000).fit(Xf, cats)

    def _index_evidence(self):
        union = self.scorer_.named_steps["features"]
        names = union.get_feature_names_out()
        base = self.scorer_.named_steps["clf"].calibrated_classifiers_[0].estimator
        coef = np.asarray(base.coef_).ravel()
        readable = np.array([_readable_word_feature(n) for n in names], dtype=object)
        # only readable word features with a positive weight can be evidence
        self.evidence_mask_ = (readable != "") & (coef > 0)
        self.evidence_names_ = readable
        self.coef_ = coef

    # -- predict ----------------------------------------------------------------------------
    def predict_proba(self, X):
        check_is_fitted(self, "scorer_")
        return self.scorer_.predict_proba(self._prepare(list(X)))

    def predict(self, X):
        check_is_fitted(self, "scorer_")
        scores = self.predict_proba(X)[:, 1]
        return np.where(scores >= self.threshold_, POSITIVE, NEGATIVE).astype(object)

    def describe(self, X, threshold=None) -> list[dict]:
        """One pass over X: score, flag, category, lang, evidence for each record."""
        check_is_fitted(self, "scorer_")
        threshold = self.threshold_ if threshold is None else threshold
        docs = self._prepare(list(X))
        if not docs:
            return []
        Xf = self.scorer_.named_steps["features"].transform(docs)
        scores = self.scorer_.named_steps["clf"].predict_proba(Xf)[:, 1]
        flags = scores >= threshold
        cats = self._categories(Xf, docs, flags)
        evidence = self._evidence(Xf, docs)
        return [{"score": float(s), "flag": bool(f), "category": c, "lang": d.lang,
                 "evidence": e}
                for s, f, c, d, e in zip(scores, flags, cats, docs, evidence)]

    def _categories(self, Xf, docs, flags) -> list[str]:
        out = ["none"] * len(docs)
        idx = np.flatnonzero(flags)
        if len(idx) == 0:
            return out
        if self.category_model_ is not None:
            proba = self.category_model_.predict_proba(Xf[idx])
            best = proba.argmax(axis=1)
            labels = self.category_model_.classes_
        for j, i in enumerate(idx):
            lex_top = docs[i].lex.top_category()
            if self.category_model_ is not None:
                cat = labels[best[j]]
                if proba[j, best[j]] < self.category_min_proba and lex_top:
                    cat = lex_top
            else:
                cat = self.category_constant_ or lex_top or "none"
            out[i] = str(cat)
        return out

    def _evidence(self, Xf, docs) -> list[list[str]]:
        Xf = Xf.tocsr()
        out = []
        n_max = self.max_evidence
        for i, doc in enumerate(docs):
            # wildlife terms first, then the strongest word features, then the cue terms
            ev = list(doc.lex.category_terms[: max(1, n_max - 3)])
            start, end = Xf.indptr[i], Xf.indptr[i + 1]
            cols = Xf.indices[start:end]
            keep = self.evidence_mask_[cols]
            if keep.any():
                cols = cols[keep]
                contrib = Xf.data[start:end][keep] * self.coef_[cols]
                n_feat = 0
                for c in cols[np.argsort(-contrib)][:8]:
                    name = self.evidence_names_[c]
                    if name in ev or any(name in t for t in ev):
                        continue
                    ev.append(name)
                    n_feat += 1
                    if n_feat >= 3 or len(ev) >= n_max:
                        break
            ev.extend(t for t in doc.lex.terms if t not in ev)
            out.append(ev[:n_max])
        return out
