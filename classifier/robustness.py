"""Variants of listings for robustness checks: does a positive keep its flag when a seller hides
the words, and do hard negatives stay quiet?

``variants(record)`` gives, deterministically:

* ``obfuscated`` — every wildlife term the lexicon finds is disguised the way sellers do it:
  Chinese terms split by dots (象牙 -> 象.牙), Latin terms spelled with separators or digits
  (ivory -> i.v.o.r.y / 1v0ry, ngà voi -> n.g.à v.o.i), alternating by term;
* ``stripped`` — Vietnamese without diacritics (vi), traditional characters (zh), upper-case
  spaced-out wildlife terms (en: "r h i n o");

Text is rewritten after normalisation (lower case), which the model applies anyway.
"""

from __future__ import annotations

import hashlib
import re

from .features import record_text
from .lexicon import Lexicon, default_lexicon
from .text import _HAN_RE, normalise, vi_shadow

_LEET = str.maketrans({"o": "0", "i": "1", "e": "3", "a": "4"})


def _pick(term: str, n: int) -> int:
    return int(hashlib.md5(term.encode()).hexdigest(), 16) % n


def _disguise(term: str) -> str:
    if _HAN_RE.search(term):
        return ".".join(term)
    choice = _pick(term, 2)
    if choice == 0 or not any(ch in "oiea" for ch in term):
        return " ".join(".".join(w) for w in term.split())
    return term.translate(_LEET)


def _spaced(term: str) -> str:
    return " ".join(" ".join(w) for w in term.split()) if not _HAN_RE.search(term) else term


_s2t = None


def to_traditional(text: str) -> str:
    global _s2t
    if _s2t is None:
        import opencc

        _s2t = opencc.OpenCC("s2t")
    return _s2t.convert(text)


def _replace_terms(text: str, terms: list[str], fn) -> str:
    for term in sorted(set(terms), key=len, reverse=True):
        if len(term) < 2 or term.startswith("__"):
            continue
        if _HAN_RE.search(term):
            text = text.replace(term, fn(term))
        else:
            text = re.sub(rf"(?<!\w){re.escape(term)}(?!\w)", fn(term), text)
    return text


def variants(record, lang: str, lexicon: Lexicon | None = None) -> dict[str, str]:
    """{"obfuscated": text, "stripped": text} for a record in ``lang`` (zh / vi / en)."""
    lexicon = lexicon if lexicon is not None else default_lexicon()
    norm = normalise(record_text(record))
    terms = lexicon.match(norm, normalised=True, deobfuscated=norm).category_terms
    out = {"obfuscated": _replace_terms(norm, terms, _disguise)}
    if lang == "vi":
        out["stripped"] = vi_shadow(norm)
    elif lang == "zh":
        out["stripped"] = to_traditional(norm)
    else:
        out["stripped"] = _replace_terms(norm, terms, _spaced)
    return out


__all__ = ["to_traditional", "variants"]
