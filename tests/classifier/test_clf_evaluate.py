import json

import numpy as np
import pytest

from classifier.baseline import KeywordBaseline
from classifier.evaluate import (
    binary_metrics,
    calibration,
    category_report,
    evaluate,
    summarise,
    write_report,
)
from classifier.groups import near_duplicate_groups


def test_binary_metrics_and_macro_f1():
    y = [1, 1, 1, 0, 0, 0]
    m = binary_metrics(y, [0.9, 0.8, 0.2, 0.7, 0.1, 0.0], [True, True, False, True, False, False])
    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (2, 1, 1, 2)
    assert m["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["macro_f1"] == pytest.approx(2 / 3, abs=1e-4)


def test_calibration_table():
    cal = calibration([0, 0, 1, 1], [0.05, 0.15, 0.85, 0.95])
    assert [b["n"] for b in cal["bins"]] == [1, 1, 1, 1]
    assert cal["ece"] == pytest.approx(0.1, abs=1e-6)
    assert cal["brier"] == pytest.approx((0.05**2 + 0.15**2 + 0.15**2 + 0.05**2) / 4)


def test_category_report():
    rep = category_report(["ivory", "ivory", "none", "bear"], ["ivory", "none", "none", "ivory"])
    per = rep["per_category"]
    assert per["ivory"]["support"] == 2 and per["ivory"]["recall"] == 0.5
    assert per["ivory"]["precision"] == 0.5
    assert np.asarray(rep["matrix"]).sum() == 4


def test_near_duplicates_share_a_group():
    recs = [{"title": "Vòng ngà voi 58mm", "text": "bán vòng ngà voi thật, ib zalo"},
            {"title": "vong nga voi 60mm!!", "text": "something else entirely"},
            {"title": "Road bike", "text": "Used road bike, 54cm frame, new tyres, collection only"},
            {"title": "Bike for sale", "text": "Used road bike, 54cm frame, new tyres, collection only!"},
            {"title": "Sofa", "text": "three seater, grey"}]
    g = near_duplicate_groups(recs)
    assert g[0] == g[1] and g[2] == g[3] and len({g[0], g[2], g[4]}) == 3


def test_keyword_baseline_flags_any_wildlife_term():
    out = KeywordBaseline().describe([{"title": "Ivory white dress"}, {"title": "road bike"},
                                      {"title": "象牙手镯"}])
    assert [o["flag"] for o in out] == [True, False, True]
    assert out[2]["category"] == "ivory" and out[1]["category"] == "none"


def test_evaluate_held_out_and_report(toy_model_dir, mini_records, tmp_path):
    from classifier import load_model

    model = load_model(toy_model_dir)
    rep = evaluate(model, mini_records, robustness=True)
    assert rep["mode"] == "held-out" and rep["overlap_with_training"] == len(mini_records)
    m = rep["metrics"]
    assert set(m["per_lang"]) == {"zh", "vi", "en"}
    assert {"overall", "per_kind", "categories", "calibration", "hard_negatives"} <= set(m)
    assert set(rep["baseline"]["per_lang"]) == {"zh", "vi", "en"}
    assert set(rep["robustness"]) == {"obfuscated", "stripped"}
    paths = write_report(rep, tmp_path / "r")
    for key in ("markdown", "html", "json", "pr_curve", "calibration"):
        assert paths[key].is_file() and paths[key].stat().st_size > 0
    assert paths["pr_curve"].read_bytes()[:4] == b"\x89PNG"
    md = paths["markdown"].read_text(encoding="utf-8")
    assert "keyword baseline" in md.lower() and "Calibration" in md and "Confusion" in md
    assert "Warning" in md          # scored on its own training data: said so
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["mode"] == "held-out"


def test_summarise_counts_hard_negatives(mini_records):
    preds = [{"score": 1.0, "flag": True, "category": r["category"] if r["category"] != "none"
              else "ivory", "lang": r["lang"]} for r in mini_records]
    s = summarise(mini_records, preds)
    assert s["hard_negatives"]["flag_rate"] == 1.0
    assert s["overall"]["recall"] == 1.0
