from classifier.text import PHONE_TOKEN, normalise
from classifier.tokenize import add_zh_words, token_streams, tokens


def test_zh_keeps_lexicon_words_whole():
    add_zh_words(["白货"])
    toks = tokens(normalise("出白货手镯，加微信 13800001111"), "zh")
    assert "白货" in toks
    assert PHONE_TOKEN in toks
    assert "，" not in toks and "," not in toks


def test_vi_with_and_without_diacritics_meet():
    with_marks = set(tokens(normalise("Bán vòng ngà voi"), "vi"))
    without = set(tokens(normalise("ban vong nga voi"), "en"))
    assert {"nga", "voi"} <= with_marks & without
    # the accented stream keeps the diacritics
    assert any("ngà" in t for t in with_marks)


def test_vi_has_two_streams():
    streams = token_streams(normalise("cần bán ngà voi"), "vi")
    assert len(streams) == 2


def test_regex_tokens_keep_emoji_and_drop_punctuation():
    toks = tokens(normalise("Real 🐘 bangle!!! DM"), "en")
    assert toks == ["real", "🐘", "bangle", "dm"]


def test_mixed_text_cuts_chinese_runs_with_jieba():
    add_zh_words(["象牙手镯"])
    streams = token_streams(normalise("Genuine 象牙手镯 bangle, 品相很好"), "en")
    assert len(streams) == 2 and "genuine" in streams[0]
    assert "象牙手镯" in streams[1] and "品相" in streams[1]     # jieba with the lexicon words


def test_vi_segmenter_learns_compounds_from_pyvi():
    from classifier.tokenize import ViSegmenter

    seg = ViSegmenter.learn([normalise("Cần bán vòng ngà voi thật, liên hệ zalo")],
                            extra=["sừng tê giác"])
    assert len(seg) >= 2
    toks = seg.tokens(normalise("bán sừng tê giác và ngà voi"))
    assert "sừng_tê_giác" in toks
    # the streams with a segmenter: words + diacritic-free syllables
    words, shadow = token_streams(normalise("bán sừng tê giác"), "vi", seg)
    assert "sừng_tê_giác" in words and shadow == ["ban", "sung", "te", "giac"]


def test_rjieba_cuts_the_chinese_corpus_exactly_as_python_jieba():
    """The fast engine (jieba-rs) must not change a single token: same dictionary, same lexicon
    user words, HMM off — checked on every Chinese listing of the corpus."""
    import logging
    from pathlib import Path

    import jieba
    import pytest

    rjieba = pytest.importorskip("rjieba")
    from classifier import read_corpus
    from classifier.lexicon import default_lexicon

    corpus = Path(__file__).resolve().parents[2] / "classifier" / "data" / "corpus"
    texts = [normalise(f"{r['title']}\n{r['text']}")
             for r in read_corpus(sorted(corpus.glob("zh*.jsonl")))]
    words = default_lexicon().zh_terms()
    jieba.setLogLevel(logging.WARNING)
    py = jieba.Tokenizer()
    rs = rjieba.Jieba()
    for w in words:
        py.add_word(w)
        rs.add_word(w, None, None)
    differ = [t for t in texts if py.lcut(t, HMM=False) != rs.cut(t, False)]
    assert len(texts) >= 500 and not differ, differ[:3]


def test_forced_python_jieba_engine_gives_the_same_tokens(monkeypatch):
    import classifier.tokenize as tk

    text = normalise("出白货手镯 犀牛角杯 私聊，懂的来")
    add_zh_words(["白货", "犀牛角杯"])
    fast = tk.zh_tokens(text)
    monkeypatch.setattr(tk, "_engine", None)
    monkeypatch.setenv("WILDWATCH_JIEBA", "python")
    assert tk.zh_tokens(text) == fast and tk.jieba_engine() == "jieba"
    monkeypatch.setattr(tk, "_engine", None)
    monkeypatch.delenv("WILDWATCH_JIEBA")
    assert tk.jieba_engine() == "rjieba"
