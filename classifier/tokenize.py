"""Language-aware tokens: jieba for Chinese, pyvi for Vietnamese, a regex for the rest.

Input is text already passed through ``text.normalise`` (lower case, placeholders for URLs and
phone numbers). A text gives one or more token *streams*; word n-grams are built within a
stream, never across two. Vietnamese gives two streams: pyvi's words ("ngà_voi") and the
syllables without diacritics ("nga", "voi"), so that "nga voi" and "ngà voi" share features.
"""

from __future__ import annotations

import logging
import re
import threading

from .text import PHONE_TOKEN, URL_TOKEN, vi_shadow

_PLACEHOLDER_RE = re.compile(f"({re.escape(URL_TOKEN)}|{re.escape(PHONE_TOKEN)})")
_EMOJI = "\U0001F300-\U0001FAFF\u2600-\u27BF"
_WORD_RE = re.compile(rf"[^\W_]+|[{_EMOJI}]")
_KEEP_RE = re.compile(rf"[^\W_]|[{_EMOJI}]")

# pyvi's CRF costs ~5 µs a syllable; past this many characters a Vietnamese text is split into
# syllables by the regex only (the shadow stream still covers all of it).
PYVI_MAX_CHARS = 600

_lock = threading.Lock()
_zh_words: set[str] = set()
_jieba = None


def _get_jieba():
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def add_zh_words(words) -> None:
    """Teach jieba words it must keep whole (lexicon terms). Idempotent; cheap when repeated."""
    new = [w for w in words if w not in _zh_words]
    if not new:
        return
    jieba = _get_jieba()
    with _lock:
        for w in new:
            jieba.add_word(w, freq=None)
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
    jieba = _get_jieba()
    out: list[str] = []
    for is_ph, piece in _split_placeholders(text):
        if is_ph:
            out.append(piece)
        else:
            # HMM off: 3x faster, and unknown words fall back to characters, which the
            # character n-grams cover anyway
            out.extend(t for t in jieba.lcut(piece, HMM=False) if _keep(t))
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


def token_streams(text: str, lang: str) -> list[list[str]]:
    """Token streams of normalised ``text`` in language ``lang`` ("zh" | "vi" | "en" | "other")."""
    if lang == "zh":
        return [zh_tokens(text)]
    if lang == "vi":
        words = vi_tokens(text)
        shadow = regex_tokens(vi_shadow(text))
        return [words, shadow]
    return [regex_tokens(text)]


def tokens(text: str, lang: str) -> list[str]:
    """All tokens of normalised ``text`` (the streams of ``token_streams`` concatenated)."""
    return [t for stream in token_streams(text, lang) for t in stream]
