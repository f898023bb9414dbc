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
