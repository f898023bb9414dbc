import pytest

from classifier.lexicon import (
    SEED_PATH,
    Lexicon,
    LexiconError,
    default_lexicon,
    default_lexicon_paths,
    load_lexicon,
)


@pytest.fixture(scope="module")
def lex():
    return default_lexicon()


def test_category_hits_cues_and_terms(lex):
    m = lex.match("Cần bán vòng ngà voi thật, ib zalo")
    assert m.category_hits["ivory"] >= 1
    assert m.cue_hits["trade"] >= 2
    assert "ngà voi" in m.terms and "ngà voi" in m.category_terms
    assert m.top_category() == "ivory"


def test_diacritic_free_and_obfuscated_text_match(lex):
    assert lex.match("can ban nga voi").category_hits["ivory"] >= 1
    assert lex.match("犀.牛.角 杯").category_hits["rhino_horn"] >= 1
    assert lex.match("s-ừ-n-g t-ê").category_hits["rhino_horn"] >= 1
    assert lex.match("carved 1v0ry").category_hits["ivory"] >= 1


def test_cue_classes(lex):
    assert lex.match("resin faux ivory").cue_hits["substitute"] >= 2
    assert lex.match("海关查获象牙").cue_hits["news"] >= 2
    assert lex.match("Tiger Balm 20g").cue_hits["decoy"] == 1


def test_latin_terms_match_whole_words_only(lex):
    assert lex.match("a monkeywrench and otterbox case").category_hits["primate"] == 0
    assert lex.match("otterbox case").category_hits["other_mammal"] == 0


def test_no_hits(lex):
    m = lex.match("used road bike, 54cm")
    assert not any(m.category_hits.values())
    assert m.top_category() is None


def test_species_lexicon_seam(tmp_path):
    extra = tmp_path / "species.yaml"
    extra.write_text("name: species\ncategories:\n  primate:\n    en: [hoolock]\n", encoding="utf-8")
    lex = load_lexicon([SEED_PATH, extra])
    assert lex.match("hoolock for sale").category_hits["primate"] == 1
    assert "species" in lex.sources[-1]
    assert default_lexicon_paths()[0] == SEED_PATH


def test_bad_lexicon_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("categories:\n  dragons:\n    en: [dragon]\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="dragons"):
        Lexicon.from_yaml(bad)


def test_lexicon_pickles(lex):
    import pickle

    again = pickle.loads(pickle.dumps(lex))
    assert again.match("ivory tusk").category_hits["ivory"] == 2
