"""From records to feature matrices.

``prepare`` turns records (dicts with title / text, or strings) into ``Doc`` objects once:
normalised text, language, token streams and lexicon match. The feature transformers below read
``Doc`` objects, so tokenising happens once per listing however many vectorizers there are.
New feature families (embeddings, species lexicon …) are further transformers over ``Doc``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

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


def prepare_one(record, lexicon: Lexicon) -> Doc:
    norm = normalise(record_text(record))
    lang = detect_lang(norm)
    lex = lexicon.match(norm, normalised=True)
    streams = [[_shape(t) for t in s] for s in token_streams(norm, lang)]
    deob = ""
    if lex.deobfuscated_gain:
        # the de-obfuscated text names wildlife the plain text hides: tokenise it too
        deob = deobfuscate(norm)
        streams.extend([_shape(t) for t in s] for s in token_streams(deob, lang))
    return Doc(norm, deob, lang, streams, lex)


def prepare(records, lexicon: Lexicon) -> list[Doc]:
    if isinstance(records, (str, dict)):
        raise TypeError("prepare() takes a list of records, not a single record")
    add_zh_words(lexicon.zh_terms())
    return [r if isinstance(r, Doc) else prepare_one(r, lexicon) for r in records]


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
