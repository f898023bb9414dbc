"""The shipped default model against listings it never saw (tests/classifier/data/robustness.jsonl,
written for these tests) and against disguised variants of positives: obfuscated terms
(象.牙, i.v.o.r.y, rh1n0), Vietnamese without diacritics, traditional Chinese."""

from pathlib import Path

import pytest

from classifier import load_model, read_corpus
from classifier.robustness import variants

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "default"
FIXTURE = Path(__file__).parent / "data" / "robustness.jsonl"


@pytest.fixture(scope="module")
def model():
    return load_model(MODEL)


@pytest.fixture(scope="module")
def fixture_records():
    return read_corpus([FIXTURE])


def test_unseen_positives_are_flagged_with_their_category(model, fixture_records):
    pos = [r for r in fixture_records if r["label"] == "positive"]
    out = model.predict(pos)
    missed = [r["id"] for r, o in zip(pos, out) if not o["flag"]]
    assert not missed
    right = sum(o["category"] == r["category"] for r, o in zip(pos, out))
    assert right >= len(pos) - 1
    assert all(o["lang"] == r["lang"] for r, o in zip(pos, out))


def test_unseen_hard_negatives_stay_unflagged(model, fixture_records):
    neg = [r for r in fixture_records if r["label"] == "negative"]
    flagged = [r["id"] for r, o in zip(neg, model.predict(neg)) if o["flag"]]
    assert len(flagged) <= 1, flagged


@pytest.mark.parametrize("kind", ["obfuscated", "stripped"])
def test_disguised_positives_keep_their_flag(model, fixture_records, kind):
    pos = [r for r in fixture_records if r["label"] == "positive"]
    # plus ten corpus positives per language (in the training data; their variants are not)
    corpus = read_corpus(sorted((ROOT / "classifier" / "data" / "corpus").glob("*-2.jsonl")))
    for lang in ("zh", "vi", "en"):
        pos += [r for r in corpus if r["lang"] == lang and r["label"] == "positive"
                and r["kind"] == "explicit"][:10]
    base = model.predict(pos)
    texts = [variants(r, r["lang"], model.estimator.lexicon_)[kind] for r in pos]
    assert sum(t != b for t, b in zip(texts, [None] * len(texts))) == len(texts)
    out = model.predict(texts)
    flagged = [i for i, b in enumerate(base) if b["flag"]]
    kept = sum(out[i]["flag"] for i in flagged)
    assert kept / len(flagged) >= 0.9, [texts[i] for i in flagged if not out[i]["flag"]]


def test_evidence_names_the_disguised_term(model):
    out = model.predict([{"title": "老象.牙.手.镯 出", "text": "包真 私聊"},
                         {"title": "ban vong nga voi that", "text": "ib zalo"},
                         {"title": "real 1v0ry bangle", "text": "DM me"}])
    assert all(o["flag"] for o in out)
    assert any("象牙" in e for e in out[0]["evidence"])
    assert any("nga voi" in e or "ngà voi" in e for e in out[1]["evidence"])
    assert any("ivory" in e for e in out[2]["evidence"])


SHORT_POSITIVES = ["出老象牙手镯，懂的来，私聊", "出象牙手镯", "卖犀牛角杯，私聊", "穿山甲片出售，加微信",
                   "熊胆粉出售 私聊", "bán vòng ngà voi", "bán sừng tê giác, ib zalo",
                   "cần bán vảy tê tê", "ivory bangle for sale", "real rhino horn for sale, DM me",
                   "Pre-ban ivory netsuke, no papers", "pangolin scales for sale"]
SHORT_NEGATIVES = ["象牙白连衣裙 M码", "树脂仿象牙摆件 工艺品", "váy cưới màu ngà size S",
                   "vòng sừng trâu mỹ nghệ", "Ivory satin wedding dress, size 10",
                   "Tiger Balm red, 6 jars"]


def test_short_plain_ads(model):
    """Bare one-line ads. These probes were used to choose the lexicon weight on the
    1,800-listing corpus (docs/classifier.md, "Choices"), so this is a regression guard, not an
    unbiased measurement; since round 3 of the corpus its one-liners are measured by CV."""
    pos = model.predict(SHORT_POSITIVES)
    neg = model.predict(SHORT_NEGATIVES)
    assert sum(o["flag"] for o in pos) >= 8, [(t, round(o["score"], 3)) for t, o in zip(SHORT_POSITIVES, pos)]
    assert not any(o["flag"] for o in neg)
