import pytest

from classifier.text import (
    PHONE_TOKEN,
    URL_TOKEN,
    deobfuscate,
    detect_lang,
    near_dup_key,
    normalise,
    vi_shadow,
)


def test_normalise_width_case_whitespace():
    assert normalise("ＩＶＯＲＹ　Bangle \n\n  象牙 ") == "ivory bangle 象牙"
    assert normalise(None) == ""
    assert normalise("") == ""


def test_normalise_placeholders_but_not_prices():
    s = normalise("See https://shop.example.com/x?id=1 or call 0912.345.678, 138****0000, "
                  "+84 912 345 678; 电话13800001111. Giá 150.000.000đ, zalo 09xx.xxx.xxx")
    assert URL_TOKEN in s
    assert s.count(PHONE_TOKEN) == 5
    assert "150.000.000đ" in s
    assert "13800001111" not in s


def test_vi_shadow():
    assert vi_shadow("Ngà voi ĐỒI MỒI") == "Nga voi DOI MOI"
    assert vi_shadow("象牙 ivory") == "象牙 ivory"


@pytest.mark.parametrize("raw, expected", [
    ("犀.牛.角 杯", "犀牛角杯"),
    ("老 象 牙 筷子", "老象牙筷子"),
    ("n.g.à v.o.i", "ngà voi"),
    ("s-ừ-n-g t-ê", "sừng tê"),
    ("r h i n o horn", "rhino horn"),
    ("real 1v0ry", "real ivory"),
    ("mp3 3d iphone15 covid19", "mp3 3d iphone15 covid19"),
    ("全新 未拆封", "全新 未拆封"),
])
def test_deobfuscate(raw, expected):
    assert deobfuscate(normalise(raw)) == expected


@pytest.mark.parametrize("text, lang", [
    ("出老象牙手镯，加微信", "zh"),
    ("Cần bán vòng ngà voi thật, ib zalo", "vi"),
    ("xin chào các bạn", "vi"),
    ("ban dua nga voi 10 doi, hang cu, inbox gia", "vi"),
    ("Is it legal to sell my late uncle's carved cup?", "en"),
    ("Genuine old bangle for sale, DM me for the price", "en"),
    ("12345", "other"),
    ("🐘🐘 🦏", "other"),
    ("", "other"),
    (None, "other"),
])
def test_detect_lang(text, lang):
    assert detect_lang(text) == lang


def test_near_dup_key_ignores_case_digits_punctuation_diacritics():
    assert near_dup_key("Vòng NGÀ voi 10 đôi!!") == near_dup_key("vong nga voi 12 doi")
    assert near_dup_key("vòng ngà voi") != near_dup_key("vòng nhựa")


def test_normalise_traditional_to_simplified_and_invisible_characters():
    from classifier.text import to_simplified

    assert normalise("出售老象牙手鐲，請加微信") == "出售老象牙手镯,请加微信"
    assert to_simplified("犀牛角杯") == "犀牛角杯"          # simplified text passes unchanged
    assert normalise("i\u200bvo\u200dry") == "ivory"
    assert normalise("犀⽜⾓ 𝐢𝐯𝐨𝐫𝐲") == "犀牛角 ivory"          # Kangxi radicals, math letters


def test_normalise_handles_and_emails_become_tokens():
    from classifier.text import EMAIL_TOKEN, HANDLE_TOKEN

    s = normalise("DM @ivory_king or mail a.b@example.com — wx：fake_id_12, zalo: bantrang88")
    assert s.count(HANDLE_TOKEN) == 3 and EMAIL_TOKEN in s
    assert "zalo:" in s and "wx:" in s               # the messenger's name stays as a cue
    assert "fake_id_12" not in s and "ivory_king" not in s


@pytest.mark.parametrize("raw, lang, expected", [
    ("🐘牙手镯", "zh", "象牙手镯"),
    ("sừng 🦏 thật", "vi", "sừng tê giác thật"),
    ("real 🦏 horn", "en", "real rhino horn"),
    ("іvоrу bangle", "en", "ivory bangle"),               # Cyrillic і, о, у
    ("p@ngolin sc@les", "en", "pangolin scales"),
    ("老象.牙.手.镯", "zh", "老象牙手镯"),
    ("穿*山*甲片", "zh", "穿山甲片"),
    ("价格:面议 wow!", "zh", "价格:面议 wow!"),
])
def test_deobfuscate_emoji_lookalikes_and_symbols(raw, lang, expected):
    assert deobfuscate(normalise(raw), lang) == expected


@pytest.mark.parametrize("text, lang", [
    ("出售 Rolex 手表 Submariner 116610LN，全套", "zh"),           # Chinese with English names
    ("Genuine 象牙 bangle from Hong Kong, DM for price", "en"),    # English quoting Chinese
    ("Bán đồng hồ Casio G-Shock chính hãng, like new", "vi"),      # Vietnamese with brand names
    ("Ban dong ho cu con dep, gia mem, ai can ib", "vi"),           # no diacritics
])
def test_detect_lang_mixed_text(text, lang):
    assert detect_lang(normalise(text)) == lang


def test_lone_surrogates_and_control_characters_are_neutralised():
    from classifier.text import normalise as norm

    out = norm('Ng\u00e0\ud800 voi\x00\x07 b\u00e1n')
    assert "\ud800" not in out and "\x00" not in out and "\x07" not in out
    assert out == "ngà\ufffd voi bán"
    out.encode("utf-8")   # encodable again: nothing downstream chokes on it


def test_fast_traditional_to_simplified_equals_opencc_on_the_corpus():
    """The character-table path of to_simplified gives OpenCC's result wherever it is taken
    (every traditional corpus listing and each line of OpenCC's own phrase table), and the
    phrase-dependent characters still go through OpenCC."""
    import json
    from pathlib import Path

    from classifier.text import _t2s_tools, to_simplified

    t2s = _t2s_tools()
    corpus = Path(__file__).resolve().parents[2] / "classifier" / "data" / "corpus"
    texts = [f"{r['title']}\n{r['text']}" for f in sorted(corpus.glob("zh*.jsonl"))
             for r in map(json.loads, f.read_text(encoding="utf-8").splitlines())]
    folder = Path(__import__("opencc").__file__).parent / "dictionary"
    texts += [line.split()[0] for line in
              (folder / "TSPhrases.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    trad = [t for t in texts if not t2s.trad.isdisjoint(t)]
    fast = [t for t in trad if t2s.phrasal.isdisjoint(t)]
    assert len(fast) > 50 and len(trad) > len(fast)
    assert [to_simplified(t) for t in trad] == [t2s.opencc.convert(t) for t in trad]
