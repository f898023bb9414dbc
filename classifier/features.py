"""From records to feature matrices.

``prepare`` turns records (dicts with title / text, or strings) into ``Doc`` objects once:
normalised text, language, token streams and lexicon match. The feature transformers below read
``Doc`` objects, so tokenising happens once per listing however many vectorizers there are.
New feature families (embeddings, species lexicon …) are further transformers over ``Doc``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from .lexicon import CUE_CLASSES, WILDLIFE_CATEGORIES, Lexicon, LexiconMatch
from .text import deobfuscate, detect_lang, normalise
from .tokenize import add_zh_words, token_streams

NUM_TOKEN = "__num__"


@dataclass(slots=True)
class Doc:
    norm: str            # normalised title + text
    deob: str            # de-obfuscated view ("" when identical to norm)
    lang: str            # zh | vi | en | other
    streams: list        # list[list[str]] token streams
    lex: LexiconMatch

    @property
    def embed_text(self) -> str:
        """What the sentence embedder reads: the de-obfuscated view when there is one."""
        return self.deob or self.norm


def record_text(record) -> str:
    """Title and text of a record (dict or plain string), joined by a newline."""
    if isinstance(record, str):
        return record
    if isinstance(record, dict):
        parts = [record.get("title"), record.get("text")]
        return "\n".join(p for p in parts if isinstance(p, str) and p.strip())
    raise TypeError(f"a record is a dict with title/text or a string, not {type(record).__name__}")


def _shape(tok: str) -> str:
    # prices, sizes and phone fragments vary endlessly: one token for "a number"
    if tok[0].isdigit() and not any(map(str.isalpha, tok)):
        return NUM_TOKEN
    return tok


def prepare_one(record, lexicon: Lexicon, vi_segmenter=None) -> Doc:
    norm = normalise(record_text(record))
    lang = detect_lang(norm)
    deob = deobfuscate(norm, lang)
    if deob == norm:
        deob = ""
    lex = lexicon.match(norm, normalised=True, lang=lang, deobfuscated=deob or norm)
    streams = [[_shape(t) for t in s] for s in token_streams(norm, lang, vi_segmenter)]
    if deob:
        # the de-obfuscated view (犀.牛.角 -> 犀牛角, 🐘牙 -> 象牙): tokenise it too
        streams.extend([_shape(t) for t in s] for s in token_streams(deob, lang, vi_segmenter))
    return Doc(norm, deob, lang, streams, lex)


def prepare(records, lexicon: Lexicon, vi_segmenter=None) -> list[Doc]:
    if isinstance(records, (str, dict)):
        raise TypeError("prepare() takes a list of records, not a single record")
    add_zh_words(lexicon.zh_terms())
    return [r if isinstance(r, Doc) else prepare_one(r, lexicon, vi_segmenter) for r in records]


class CharNgrams:
    """Analyzer for ``TfidfVectorizer``: character n-grams (lo..hi) of the normalised text (and
    the de-obfuscated view), over the whole string with spaces — one slice per n-gram, about
    3x faster than scikit-learn's per-word ``char_wb``."""

    def __init__(self, lo: int = 2, hi: int = 4):
        self.lo = lo
        self.hi = hi

    def __call__(self, doc: Doc) -> list[str]:
        s = f" {doc_chars(doc)} "
        n = len(s)
        out: list[str] = []
        for k in range(self.lo, self.hi + 1):
            out.extend([s[i:i + k] for i in range(n - k + 1)])
        return out

    def __repr__(self) -> str:
        return f"CharNgrams({self.lo}, {self.hi})"


class WordNgrams:
    """Analyzer for ``TfidfVectorizer``: word n-grams (1..n) within each token stream of a Doc."""

    def __init__(self, n: int = 2):
        self.n = n

    def __call__(self, doc: Doc) -> list[str]:
        out: list[str] = []
        for stream in doc.streams:
            out.extend(stream)
            for k in range(2, self.n + 1):
                out.extend(" ".join(stream[i:i + k]) for i in range(len(stream) - k + 1))
        return out

    def __repr__(self) -> str:
        return f"WordNgrams(n={self.n})"


def doc_chars(doc: Doc) -> str:
    """Preprocessor of the char_wb vectorizer: normalised text (+ the de-obfuscated view when
    used)."""
    return f"{doc.norm} {doc.deob}" if doc.deob else doc.norm


class LexiconFeatures(TransformerMixin, BaseEstimator):
    """Dense lexicon features of Docs: log hits per category, log counts per cue class, and
    "category term together with cue" indicators (a linear model cannot make those itself)."""

    def fit(self, X, y=None):
        self.n_features_out_ = len(self._names())
        return self

    @staticmethod
    def _names() -> list[str]:
        names = [f"cat:{c}" for c in WILDLIFE_CATEGORIES]
        names += [f"cue:{c}" for c in CUE_CLASSES]
        names += ["any_category", "n_categories"]
        names += [f"category&{c}" for c in CUE_CLASSES]
        names += ["category&no_cue"]
        return names

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self._names(), dtype=object)

    def transform(self, X):
        rows = []
        for doc in X:
            m = doc.lex
            cats = [math.log1p(m.category_hits.get(c, 0)) for c in WILDLIFE_CATEGORIES]
            cues = [math.log1p(m.cue_hits.get(c, 0)) for c in CUE_CLASSES]
            n_cat = sum(1 for v in cats if v > 0)
            has = 1.0 if n_cat else 0.0
            inter = [has * (1.0 if m.cue_hits.get(c, 0) else 0.0) for c in CUE_CLASSES]
            no_cue = has * (0.0 if any(m.cue_hits.values()) else 1.0)
            rows.append(cats + cues + [has, math.log1p(n_cat)] + inter + [no_cue])
        return sp.csr_matrix(np.asarray(rows, dtype=np.float64).reshape(len(rows), -1))


class FastTfidfVectorizer(TfidfVectorizer):
    """``TfidfVectorizer`` whose ``transform`` looks features up with ``dict.get``.

    scikit-learn's transform raises and catches a ``KeyError`` for every n-gram outside the
    vocabulary, which is most word bigrams of a new listing: that made counting the costliest
    step of scoring. Same fit, same output (counts -> the fitted TfidfTransformer)."""

    def transform(self, raw_documents):
        check_is_fitted(self, msg="The TF-IDF vectorizer is not fitted")
        analyze = self.build_analyzer()
        get = self.vocabulary_.get
        parts = []
        for doc in raw_documents:
            feats = analyze(doc)
            parts.append(np.fromiter(map(get, feats, repeat(-1, len(feats))), dtype=np.int64,
                                     count=len(feats)))
        n = len(parts)
        cols = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        rows = np.repeat(np.arange(n), [len(p) for p in parts])
        keep = cols >= 0
        X = sp.csr_matrix((np.ones(int(keep.sum()), dtype=self.dtype), (rows[keep], cols[keep])),
                          shape=(n, len(self.vocabulary_)))
        if self.binary:
            X.data.fill(1)
        return self._tfidf.transform(X, copy=False)


class NBLogCountRatio(TransformerMixin, BaseEstimator):
    """Appends a naive-Bayes-weighted copy of sparse features (Wang & Manning's NB-SVM idea):
    each column scaled by r = log((alpha + positives with it) / |.|) − log((alpha + negatives
    with it) / |.|), learned in ``fit`` from the training labels. The linear model then sees both
    the plain TF-IDF values and values already pointed by how one-sided a feature is — with a
    small corpus that helps rare but telling n-grams.

    On the 1,800-listing corpus (grouped CV, with embeddings) this lifted average precision
    from 0.989 to 0.990 and the Vietnamese macro F1 at 0.95 recall by ~0.01."""

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def fit(self, X, y):
        X = sp.csr_matrix(X)
        y = np.asarray(y)
        B = (X > 0).astype(np.float64)
        p = self.alpha + np.asarray(B[y == 1].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(B[y == 0].sum(axis=0)).ravel()
        self.r_ = np.log(p / p.sum()) - np.log(q / q.sum())
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        check_is_fitted(self, "r_")
        X = sp.csr_matrix(X)
        return sp.hstack([X, X @ sp.diags(self.r_.astype(X.dtype))], format="csr")

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "r_")
        names = (np.asarray(input_features, dtype=object) if input_features is not None
                 else np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object))
        return np.concatenate([names, np.asarray([f"nb:{n}" for n in names], dtype=object)])
