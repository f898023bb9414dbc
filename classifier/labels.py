"""Fixed label vocabularies (contracts in DESIGN.md)."""

from .lexicon import WILDLIFE_CATEGORIES
from .text import LANGS

CATEGORIES = (*WILDLIFE_CATEGORIES, "none")
POSITIVE = "positive"
NEGATIVE = "negative"
LABELS = (POSITIVE, NEGATIVE)
POSITIVE_KINDS = ("explicit", "slang", "obfuscated")
NEGATIVE_KINDS = ("colour", "brand", "substitute", "farmed", "news", "awareness",
                  "legality_question", "food", "ordinary")

__all__ = ["CATEGORIES", "LABELS", "LANGS", "NEGATIVE", "NEGATIVE_KINDS", "POSITIVE",
           "POSITIVE_KINDS"]
