"""Wildwatch classifier: text in, scores out.

Knows nothing of databases or Scrapy, and imports neither ``pipeline`` nor ``crawlers``.

    from classifier import load_model
    model = load_model("models/default")
    model.predict([{"title": "...", "text": "..."}])
    # -> [{"score": 0.97, "flag": True, "category": "ivory", "lang": "zh", "evidence": [...]}]
"""

from .bundle import Model, ModelIntegrityError, load_model
from .corpus import CorpusError, read_corpus
from .labels import CATEGORIES, LANGS
from .model import WildwatchClassifier
from .train import train_model

__all__ = ["CATEGORIES", "LANGS", "CorpusError", "Model", "ModelIntegrityError",
           "WildwatchClassifier", "load_model", "read_corpus", "train_model"]
