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
