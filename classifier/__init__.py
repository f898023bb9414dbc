"""Wildwatch classifier: text in, scores out.

Knows nothing of databases or Scrapy, and imports neither ``pipeline`` nor ``crawlers``.

    from classifier import load_model
    model = load_model("models/default")
    model.predict([{"title": "...", "text": "..."}])
    # -> [{"score": 0.97, "flag": True, "category": "ivory", "lang": "zh", "evidence": [...]}]
"""

from .baseline import KeywordBaseline
from .bundle import Model, ModelIntegrityError, load_model, predict_many
from .corpus import CorpusError, read_corpus
from .embed import EmbeddingTransformer
from .labels import CATEGORIES, LANGS
from .model import WildwatchClassifier
from .train import train_model

__all__ = ["CATEGORIES", "LANGS", "CorpusError", "EmbeddingTransformer", "KeywordBaseline", "Model",
           "ModelIntegrityError", "WildwatchClassifier", "load_model", "predict_many",
           "read_corpus", "train_model"]
