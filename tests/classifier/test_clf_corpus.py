import json

import pytest

from classifier import CorpusError, read_corpus, train_model

GOOD = {"id": "x-1", "lang": "en", "title": "Ivory bangle", "text": "for sale", "label": "positive",
        "category": "ivory", "kind": "explicit", "topic": "ivory"}


def test_reads_fixture(mini_records):
    assert len(mini_records) == 40
    assert {r["lang"] for r in mini_records} == {"zh", "vi", "en"}
    assert all(r["_source"].endswith(f":{i + 1}") for i, r in enumerate(mini_records[:13]))


def test_every_error_named_by_file_and_line(tmp_path, write_jsonl):
    path = write_jsonl(tmp_path / "bad.jsonl", [
        GOOD,
        "{not json",
        {**GOOD, "id": "x-3", "title": "", "text": "  "},
        {**GOOD, "id": "x-4", "label": "maybe"},
        {**GOOD, "id": "x-5", "category": "dragon"},
        {**GOOD, "id": "x-6", "category": "none"},
        {**GOOD, "id": "x-1"},
    ])
    with pytest.raises(CorpusError) as info:
        read_corpus([path])
    msg = str(info.value)
    for line, words in [(2, "bad JSON"), (3, "title and text"), (4, "unknown label"),
                        (5, "unknown category"), (6, "a positive needs a wildlife category"), (7, "duplicate id")]:
        assert f"bad.jsonl:{line}: {words}" in msg
    assert "bad.jsonl:1:" not in msg
    assert len(info.value.errors) == 6


def test_one_bad_line_in_a_later_file_rejects_everything(tmp_path, mini_path, write_jsonl):
    bad = write_jsonl(tmp_path / "later.jsonl", [GOOD, {**GOOD, "id": "x-2", "label": None}])
    with pytest.raises(CorpusError, match=r"later\.jsonl:2"):
        read_corpus([mini_path, bad])


def test_reports_at_most_20_errors(tmp_path, write_jsonl):
    path = write_jsonl(tmp_path / "many.jsonl", ["{"] * 30)
    with pytest.raises(CorpusError) as info:
        read_corpus(path)
    assert len(info.value.errors) == 30
    assert str(info.value).count("many.jsonl:") == 20
    assert "and 10 more" in str(info.value)


def test_missing_file_and_empty_file(tmp_path):
    with pytest.raises(CorpusError, match="cannot open"):
        read_corpus([tmp_path / "nope.jsonl"])
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(CorpusError, match="no records"):
        read_corpus([tmp_path / "empty.jsonl"])


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + '{"title": "caf\xe9"}'.encode("latin-1") + b"\n")
    with pytest.raises(CorpusError, match=r"latin1\.jsonl:2: not UTF-8"):
        read_corpus(path)


def test_train_model_refuses_invalid_records_and_writes_nothing(tmp_path, mini_records):
    records = [dict(r) for r in mini_records]
    records[5]["label"] = "unsure"
    out = tmp_path / "model"
    with pytest.raises(CorpusError, match="unknown label"):
        train_model(records, out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
