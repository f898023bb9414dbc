"""The keyword baseline: the lexicon matched as plain keywords, as most monitors work today.

A listing is flagged when its normalised text (lower case, NFKC, simplified Chinese) contains
any wildlife term of the lexicon — the same lexicon the model uses, without its cues, without
de-obfuscation and without any learning. Its score is the number of wildlife terms found,
squashed into 0..1 (so a PR curve can be drawn), and its category the lexicon's top category.
"""

from __future__ import annotations

from .features import record_text
from .lexicon import Lexicon, default_lexicon
from .text import detect_lang, normalise


class KeywordBaseline:
    """``describe(records)`` like ``WildwatchClassifier.describe``; nothing to fit."""

    name = "keyword baseline (lexicon terms as plain keywords)"

    def __init__(self, lexicon: Lexicon | None = None):
        lex = lexicon if lexicon is not None else default_lexicon()
        # wildlife terms only: a keyword monitor knows no decoys ("ivory white" stays "ivory")
        self.lexicon = Lexicon(lex.categories, {}, lex.sources, lex.facts)

    def describe(self, records) -> list[dict]:
        out = []
        for r in records:
            norm = normalise(record_text(r))
            m = self.lexicon.match(norm, normalised=True, deobfuscated=norm)
            hits = sum(m.category_hits.values())
            top = m.top_category()
            out.append({"score": hits / (hits + 1.0), "flag": hits > 0,
                        "category": top if hits else "none", "lang": detect_lang(norm),
                        "evidence": list(m.category_terms[:8])})
        return out


__all__ = ["KeywordBaseline"]
