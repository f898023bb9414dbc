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
    assert again.match("ivory and a tusk").category_hits["ivory"] == 2


def test_species_lexicon_has_names_facts_and_sources(lex):
    m = lex.match("bán tê tê java, Manis javanica, 马来穿山甲, Sunda Pangolin")
    assert m.category_hits["pangolin"] >= 4
    fact = lex.fact("manis javanica")
    assert fact.startswith("Manis javanica:") and "CITES I" in fact and "VN IB" in fact
    assert lex.fact("马来穿山甲") == fact
    assert any(s.startswith("species:") for s in lex.sources)
    assert lex.match("闭壳龟属").category_hits["turtle_tortoise"] >= 1       # a China taxon rule


def test_species_file_entries_record_their_sources():
    import json

    from classifier.lexicon import LEXICON_DIR

    doc = json.loads((LEXICON_DIR / "species.json").read_text(encoding="utf-8"))
    assert len(doc["species"]) > 3000
    by_sci = {e["sci"]: e for e in doc["species"]}
    tiger = by_sci["Panthera tigris"]
    assert tiger["category"] == "big_cat" and tiger["cites"] == "I" and tiger["cn"] == "I"
    assert {"cites_2017", "china_2021"} <= set(tiger["sources"])
    assert by_sci["Dalbergia cochinchinensis"]["category"] == "plant_timber"
    assert all(e["sources"] for e in doc["species"])
    assert set(doc["source_labels"]) >= {s for e in doc["species"] for s in e["sources"]}


def _build_script():
    """classifier/lexicon/ is a data folder beside the classifier.lexicon module: load the
    script by path."""
    import importlib.util

    from classifier.lexicon import LEXICON_DIR

    spec = importlib.util.spec_from_file_location("build_species", LEXICON_DIR / "build_species.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_category_mapping_from_taxonomy():
    category_for = _build_script().category_for

    assert category_for("Animalia", "Mammalia", "Proboscidea", "Elephantidae", "Loxodonta") == "ivory"
    assert category_for("Animalia", "Mammalia", "Carnivora", "Felidae", "Panthera") == "big_cat"
    assert category_for("Animalia", "Mammalia", "Carnivora", "Felidae", "Prionailurus") == "other_mammal"
    assert category_for("Animalia", "Reptilia", "Testudines", "Geoemydidae", "Cuora") == "turtle_tortoise"
    assert category_for("Animalia", "Actinopteri", "Syngnathiformes", "Syngnathidae", "Hippocampus") == "marine"
    assert category_for("Plantae", "Magnoliopsida", "Fabales", "Leguminosae", "Dalbergia") == "plant_timber"
    assert category_for("Animalia", "Insecta", "Lepidoptera", "Papilionidae", "Ornithoptera") is None


def test_build_script_is_reproducible(tmp_path):
    from classifier.lexicon import LEXICON_DIR

    script = _build_script()
    DEFAULT_DATA, main = script.DEFAULT_DATA, script.main
    if not (DEFAULT_DATA / "cites_index_2017-04-21.csv.gz").exists():
        pytest.skip("shared/data/species is not beside the repository")
    out = tmp_path / "species.json"
    assert main(["--out", str(out)]) == 0
    assert out.read_bytes() == (LEXICON_DIR / "species.json").read_bytes()


def test_trade_lexicon_is_merged(lex):
    assert lex.match("tiger bone glue").category_hits["big_cat"] >= 1
    assert lex.match("cash only, no lowballers").cue_hits["trade"] >= 2
