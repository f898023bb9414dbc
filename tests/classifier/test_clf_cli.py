"""``wildwatch train`` and ``wildwatch evaluate`` through the CLI (CliRunner, in process)."""

import json

from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


def test_evaluate_writes_report_with_baseline(toy_model_dir, mini_path, tmp_path):
    out = tmp_path / "report"
    result = runner.invoke(app, ["evaluate", str(mini_path), "--model", str(toy_model_dir),
                                 "--out", str(out), "--no-robustness"])
    assert result.exit_code == 0, result.output
    assert "keyword baseline" in result.output.lower()
    assert "Per category" in result.output and "Calibration" in result.output
    assert "warning" in result.output.lower()           # mini.jsonl is its training data
    for name in ("report.md", "report.html", "metrics.json", "pr_curve.png", "calibration.png"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["metrics"]["per_lang"]) == {"zh", "vi", "en"}


def test_evaluate_rejects_malformed_data_with_file_and_line(toy_model_dir, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "x", "label": "positive", "category": "ivory"}\n{oops\n',
                   encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(bad), "--model", str(toy_model_dir)])
    assert result.exit_code != 0
    assert f"{bad}:2" in result.stderr and "Traceback" not in result.output


def test_train_without_embeddings_and_folds(mini_path, tmp_path):
    out = tmp_path / "m"
    result = runner.invoke(app, ["train", str(mini_path), "--out", str(out), "--folds", "0",
                                 "--embedding", "none"])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert meta["embedding"] is None and meta["metrics"] == {}


def test_train_refuses_half_a_corpus(mini_path, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(mini_path.read_text(encoding="utf-8") + '{"title": "x", "label": "maybe", '
                   '"category": "none"}\n', encoding="utf-8")
    out = tmp_path / "m"
    result = runner.invoke(app, ["train", str(bad), "--out", str(out)])
    assert result.exit_code != 0 and f"{bad}:41" in result.stderr
    assert not out.exists()


def test_train_without_data_arguments_uses_the_corpus_files(mini_path, tmp_path, monkeypatch):
    from pipeline.cli import model_cmd

    monkeypatch.setattr(model_cmd, "corpus_files", lambda: [mini_path])
    out = tmp_path / "m"
    result = runner.invoke(app, ["train", "--out", str(out), "--folds", "0", "--embedding", "none"])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert meta["data"]["n"] == len(mini_path.read_text(encoding="utf-8").splitlines())
