"""Language-aware tokens: jieba for Chinese, pyvi for Vietnamese, a regex for the rest.

Chinese goes through jieba's algorithm and dictionary as implemented by **jieba-rs** (the
``rjieba`` binding): on the 900 Chinese corpus listings it cuts every listing exactly as Python
jieba does (HMM off, same user words; ``tests/classifier/test_clf_tokenize.py`` checks) and is
~16x faster — jieba was the costliest step of scoring without embeddings. Where no ``rjieba``
wheel installs, Python jieba is used (``WILDWATCH_JIEBA=python`` forces it).

Input is text already passed through ``text.normalise`` (lower case, placeholders for URLs and
phone numbers). A text gives one or more token *streams*; word n-grams are built within a
stream, never across two. Vietnamese gives two streams: pyvi's words ("ngà_voi") and the
syllables without diacritics ("nga", "voi"), so that "nga voi" and "ngà voi" share features.
"""

from __future__ import annotations

import logging
import os
import re
import threading

from .text import PLACEHOLDERS, vi_shadow

_PLACEHOLDER_RE = re.compile("(" + "|".join(map(re.escape, PLACEHOLDERS)) + ")")
_HAN_RUN_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]{2,}")
_EMOJI = "\U0001F300-\U0001FAFF\u2600-\u27BF"
_WORD_RE = re.compile(rf"[^\W_]+|[{_EMOJI}]")
_KEEP_RE = re.compile(rf"[^\W_]|[{_EMOJI}]")

# pyvi's CRF costs ~5 µs a syllable; past this many characters a Vietnamese text is split into
# syllables by the regex only (the shadow stream still covers all of it).
PYVI_MAX_CHARS = 600

_lock = threading.Lock()
_zh_words: set[str] = set()
_engine = None   # (cut(text) -> list[str], add_word(word)) of rjieba or Python jieba
_engine_name = ""


def _python_jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return (lambda text: jieba.lcut(text, HMM=False)), (lambda w: jieba.add_word(w, freq=None))


def _rust_jieba():
    import rjieba

    seg = rjieba.Jieba()
    return (lambda text: seg.cut(text, False)), (lambda w: seg.add_word(w, None, None))


def jieba_engine() -> str:
    """"rjieba" or "jieba": which implementation cuts Chinese in this process."""
    _get_engine()
    return _engine_name


def _get_engine():
    global _engine, _engine_name
    if _engine is None:
        with _lock:
            if _engine is None:
                if os.environ.get("WILDWATCH_JIEBA", "").lower() == "python":
                    engine, name = _python_jieba(), "jieba"
                else:
                    try:
                        engine, name = _rust_jieba(), "rjieba"
                    except ImportError:
                        engine, name = _python_jieba(), "jieba"
                for w in _zh_words:
                    engine[1](w)
                _engine, _engine_name = engine, name
    return _engine


def add_zh_words(words) -> None:
    """Teach jieba words it must keep whole (lexicon terms). Idempotent; cheap when repeated."""
    new = [w for w in words if w not in _zh_words]
    if not new:
        return
    _cut, add = _get_engine()
    with _lock:
        for w in new:
            add(w)
            _zh_words.add(w)


def _keep(tok: str) -> bool:
    return bool(_KEEP_RE.search(tok))


def _split_placeholders(text: str):
    """Yield (is_placeholder, piece)."""
    for i, piece in enumerate(_PLACEHOLDER_RE.split(text)):
        if piece:
            yield i % 2 == 1, piece


def regex_tokens(text: str) -> list[str]:
    out: list[str] = []
    for is_ph, piece in _split_placeholders(text):
        out.extend([piece] if is_ph else _WORD_RE.findall(piece))
    return out


def zh_tokens(text: str) -> list[str]:
    cut = _get_engine()[0]
    out: list[str] = []
    for is_ph, piece in _split_placeholders(text):
        if is_ph:
            out.append(piece)
        else:
            # HMM off: 3x faster, and unknown words fall back to characters, which the
            # character n-grams cover anyway
            out.extend(t for t in cut(piece) if _keep(t))
    return out


def vi_tokens(text: str) -> list[str]:
    from pyvi import ViTokenizer

    head, tail = text[:PYVI_MAX_CHARS], text[PYVI_MAX_CHARS:]
    out: list[str] = []
    for is_ph, piece in _split_placeholders(head):
        if is_ph:
            out.append(piece)
        elif piece.strip():
            out.extend(t for t in ViTokenizer.tokenize(piece).split() if _keep(t))
    if tail:
        out.extend(regex_tokens(tail))
    return out


class ViSegmenter:
    """Vietnamese words by greedy longest match over the compounds pyvi found in a training
    corpus ("ngà voi" -> "ngà_voi" when pyvi made "ngà_voi" there).

    pyvi's CRF costs ~1 ms a listing — most of the whole pipeline without embeddings; this
    segmenter costs ~20 µs. The estimator learns it in ``fit`` (``vi_tokenizer="pyvi-dict"``)
    and uses it for training and scoring alike, so features stay consistent. A compound pyvi
    would find only at scoring time could not have a weight anyway (it is not in the
    vocabulary); what is lost is pyvi's choice between overlapping compounds by context."""

    def __init__(self, compounds=(), max_words: int = 4):
        self.compounds = frozenset(compounds)
        self.max_words = max_words

    @property
    def _starts(self) -> dict[str, int]:
        # first word of a compound -> its most words (built on first use; not pickled)
        starts = self.__dict__.get("_starts_")
        if starts is None:
            starts = {}
            for c in self.compounds:
                words = c.split(" ")
                starts[words[0]] = max(starts.get(words[0], 0), len(words))
            self._starts_ = starts
        return starts

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_starts_", None)
        return state

    @classmethod
    def learn(cls, texts, extra=(), max_words: int = 4) -> ViSegmenter:
        """Run pyvi over normalised Vietnamese ``texts``; keep every compound it makes, plus the
        multi-word ``extra`` terms (the lexicon's)."""
        found = set()
        for text in texts:
            for tok in vi_tokens(text):
                if "_" in tok and tok.count("_") < max_words:
                    found.add(tok.replace("_", " "))
        for term in extra:
            words = regex_tokens(term)
            if 1 < len(words) <= max_words:
                found.add(" ".join(words))
        return cls(found, max_words)

    def tokens(self, text: str) -> list[str]:
        words = regex_tokens(text)
        out: list[str] = []
        i, n, comp, starts = 0, len(words), self.compounds, self._starts
        while i < n:
            longest = starts.get(words[i], 0)   # no compound starts here: one word
            for k in range(min(longest, n - i), 1, -1):
                key = " ".join(words[i:i + k])
                if key in comp:
                    out.append(key.replace(" ", "_"))
                    i += k
                    break
            else:
                out.append(words[i])
                i += 1
        return out

    def __len__(self) -> int:
        return len(self.compounds)

    def __repr__(self) -> str:
        return f"ViSegmenter({len(self.compounds)} compounds)"


def token_streams(text: str, lang: str, vi_segmenter: ViSegmenter | None = None) -> list[list[str]]:
    """Token streams of normalised ``text`` in language ``lang`` ("zh" | "vi" | "en" | "other").

    Vietnamese words come from pyvi, or from ``vi_segmenter`` when given (see ``ViSegmenter``).
    Mixed text: in a text that is not Chinese, runs of Chinese characters ("genuine 象牙 bangle")
    are also cut by jieba, as a stream of their own (the regex alone would keep each run whole)."""
    if lang == "zh":
        return [zh_tokens(text)]
    if lang == "vi":
        words = vi_segmenter.tokens(text) if vi_segmenter is not None else vi_tokens(text)
        streams = [words, regex_tokens(vi_shadow(text))]
    else:
        streams = [regex_tokens(text)]
    runs = _HAN_RUN_RE.findall(text)
    if runs:
        streams.append(zh_tokens(" ".join(runs)))
    return streams


def tokens(text: str, lang: str, vi_segmenter: ViSegmenter | None = None) -> list[str]:
    """All tokens of normalised ``text`` (the streams of ``token_streams`` concatenated)."""
    return [t for stream in token_streams(text, lang, vi_segmenter) for t in stream]
