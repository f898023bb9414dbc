"""The wildlife lexicon: category terms and context cues, matched on normalised text.

A lexicon is read from one or more YAML files (layout: see ``lexicon/seed.yaml``). The default
lexicon is ``seed.yaml`` merged with every other ``*.yaml`` in ``classifier/lexicon/`` — the seam
for the species lexicon that a later script generates from ``../shared/data/species/``.

``Lexicon.match(text)`` returns per-category hit counts, per-cue counts and the matched terms
(used as evidence). Matching is done with one trie-shaped regular expression per kind of term
(whole-word Latin terms, overlapping; CJK terms and emoji anywhere, leftmost-longest), on the
normalised text and on its lightly de-obfuscated variant (犀.牛.角, n.g.à v.o.i, 1v0ry).
Multi-word Vietnamese terms also match their shadow without diacritics ("nga voi" for "ngà voi").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .text import deobfuscate, normalise, vi_shadow

LEXICON_DIR = Path(__file__).parent / "lexicon"
SEED_PATH = LEXICON_DIR / "seed.yaml"

WILDLIFE_CATEGORIES = (
    "ivory", "rhino_horn", "pangolin", "big_cat", "bear", "turtle_tortoise", "bird", "primate",
    "reptile_amphibian", "marine", "other_mammal", "plant_timber",
)
CUE_CLASSES = ("trade", "substitute", "news", "decoy")
TERM_LANGS = ("zh", "vi", "en", "any")

# characters that make a Latin-script word (whole-word boundaries); Vietnamese letters included
_WORD_CHARS = r"0-9a-z\u00c0-\u024f\u1e00-\u1eff"
_LATIN_TERM_RE = re.compile(rf"^[{_WORD_CHARS}\s'\-.&]+$")


class LexiconError(ValueError):
    """A lexicon file that does not follow the layout."""


@dataclass
class LexiconMatch:
    category_hits: dict[str, int]
    cue_hits: dict[str, int]
    terms: list[str] = field(default_factory=list)  # matched terms, in order of appearance
    category_terms: list[str] = field(default_factory=list)  # those naming a wildlife category
    deobfuscated_gain: bool = False  # the de-obfuscated view found terms the plain text hides

    def top_category(self) -> str | None:
        """The category with most hits (ties: lexicon order), or None without any hit."""
        best, best_n = None, 0
        for cat in WILDLIFE_CATEGORIES:
            n = self.category_hits.get(cat, 0)
            if n > best_n:
                best, best_n = cat, n
        return best


def _trie_pattern(words: list[str]) -> str:
    """A regex alternation shaped as a trie (fast in ``re``; longest alternative first)."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        end = "" in node
        alts = [re.escape(ch) + build(node[ch]) for ch in sorted(k for k in node if k)]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if end:
            return "(?:" + body + ")?"
        return body

    return build(trie)


class Lexicon:
    """Category terms and cue terms. Build with ``from_yaml`` / ``from_dict``; combine with
    ``merged``. Picklable (the compiled matchers are rebuilt lazily after unpickling)."""

    def __init__(self, categories: dict[str, dict[str, list[str]]],
                 cues: dict[str, dict[str, list[str]]], sources: list[str] | None = None):
        self.categories = {c: {lang: list(ts) for lang, ts in d.items()} for c, d in categories.items()}
        self.cues = {c: {lang: list(ts) for lang, ts in d.items()} for c, d in cues.items()}
        self.sources = list(sources or [])
        self._compiled = None

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict, source: str = "<dict>") -> Lexicon:
        if not isinstance(data, dict):
            raise LexiconError(f"{source}: top level must be a mapping")
        cats = data.get("categories") or {}
        cues = data.get("cues") or {}
        for section, allowed, d in (("categories", WILDLIFE_CATEGORIES, cats),
                                    ("cues", CUE_CLASSES, cues)):
            if not isinstance(d, dict):
                raise LexiconError(f"{source}: {section} must be a mapping")
            for key, by_lang in d.items():
                if key not in allowed:
                    raise LexiconError(f"{source}: unknown {section} key {key!r}")
                if not isinstance(by_lang, dict):
                    raise LexiconError(f"{source}: {section}.{key} must map language -> list")
                for lang, terms in by_lang.items():
                    if lang not in TERM_LANGS:
                        raise LexiconError(f"{source}: {section}.{key}: unknown language {lang!r}")
                    if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip()
                                                              for t in terms):
                        raise LexiconError(f"{source}: {section}.{key}.{lang} must be a list of "
                                           f"non-empty strings")
        label = data.get("name") or source
        if data.get("source"):
            label = f"{label}: {data['source']}"
        return cls(cats, cues, [label])

    @classmethod
    def from_yaml(cls, path: str | Path) -> Lexicon:
        path = Path(path)
        with path.open(encoding="utf-8") as fh:
            return cls.from_dict(yaml.safe_load(fh), source=str(path))

    def merged(self, other: Lexicon) -> Lexicon:
        def merge(a, b):
            out = {k: {lang: list(ts) for lang, ts in v.items()} for k, v in a.items()}
            for k, by_lang in b.items():
                for lang, ts in by_lang.items():
                    dst = out.setdefault(k, {}).setdefault(lang, [])
                    dst.extend(t for t in ts if t not in dst)
            return out

        return Lexicon(merge(self.categories, other.categories), merge(self.cues, other.cues),
                       self.sources + other.sources)

    # -- queries ----------------------------------------------------------------------------
    def zh_terms(self) -> list[str]:
        """Chinese terms (for the jieba user dictionary)."""
        out = []
        for section in (self.categories, self.cues):
            for by_lang in section.values():
                out.extend(t for t in by_lang.get("zh", []) if len(t) > 1)
        return out

    def __len__(self) -> int:
        return sum(len(ts) for s in (self.categories, self.cues) for d in s.values()
                   for ts in d.values())

    def __repr__(self) -> str:
        return f"Lexicon({len(self)} terms from {self.sources})"

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_compiled"] = None
        return state

    # -- matching ---------------------------------------------------------------------------
    def _compile(self):
        labels: dict[str, set[str]] = {}   # canonical term -> {"cat:ivory", "cue:trade", ...}
        alias: dict[str, str] = {}         # surface form -> canonical term
        for prefix, section in (("cat", self.categories), ("cue", self.cues)):
            for key, by_lang in section.items():
                for terms in by_lang.values():
                    for term in terms:
                        canon = normalise(term)
                        if not canon:
                            continue
                        labels.setdefault(canon, set()).add(f"{prefix}:{key}")
                        alias.setdefault(canon, canon)
                        shadow = vi_shadow(canon)
                        # a multi-word term also matches without diacritics ("nga voi");
                        # single syllables would collide too often ("ngà" -> "nga")
                        if shadow != canon and " " in canon:
                            alias.setdefault(shadow, canon)
        bounded = [a for a in alias if _LATIN_TERM_RE.match(a)]
        free = [a for a in alias if not _LATIN_TERM_RE.match(a)]
        regexes = []
        if bounded:
            # in a lookahead, so that overlapping terms both match ("vòng ngà" + "ngà voi")
            regexes.append(re.compile(
                rf"(?<![{_WORD_CHARS}])(?=({_trie_pattern(bounded)})(?![{_WORD_CHARS}]))"))
        if free:
            regexes.append(re.compile(f"({_trie_pattern(free)})"))
        self._compiled = (regexes, alias, {t: tuple(sorted(v)) for t, v in labels.items()})
        return self._compiled

    def _count(self, text: str, regexes, alias) -> dict[str, int]:
        spans = []
        for rx in regexes:
            for m in rx.finditer(text):
                s = m.group(1)
                spans.append((m.start(1), -len(s), s))
        spans.sort()
        counts: dict[str, int] = {}
        covered = -1
        for start, neg_len, s in spans:
            end = start - neg_len
            if end <= covered:       # inside a longer match ("tê giác" in "sừng tê giác")
                continue
            covered = max(covered, end)
            canon = alias[s]
            counts[canon] = counts.get(canon, 0) + 1
        return counts

    def match(self, text: str, *, normalised: bool = False) -> LexiconMatch:
        """Match on ``text`` (normalised here unless ``normalised=True``)."""
        regexes, alias, labels = self._compiled or self._compile()
        norm = text if normalised else normalise(text)
        views = [norm]
        deob = deobfuscate(norm)
        if deob != norm:
            views.append(deob)
        counts: dict[str, int] = {}
        order: list[str] = []
        gain = False
        for i, v in enumerate(views):
            for term, n in self._count(v, regexes, alias).items():
                if term not in counts:
                    order.append(term)
                    gain = gain or i > 0
                elif n > counts[term]:
                    gain = gain or i > 0
                counts[term] = max(counts.get(term, 0), n)
        cat_hits = dict.fromkeys(WILDLIFE_CATEGORIES, 0)
        cue_hits = dict.fromkeys(CUE_CLASSES, 0)
        cat_terms = []
        for term in order:
            n = counts[term]
            for lab in labels[term]:
                kind, key = lab.split(":", 1)
                if kind == "cat":
                    cat_hits[key] += n
                    if not cat_terms or cat_terms[-1] != term:
                        cat_terms.append(term)
                else:
                    cue_hits[key] += n
        return LexiconMatch(cat_hits, cue_hits, order, cat_terms, gain)


def load_lexicon(paths) -> Lexicon:
    """Merge the lexicon files at ``paths`` (in order)."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise LexiconError("no lexicon files given")
    lex = Lexicon.from_yaml(paths[0])
    for p in paths[1:]:
        lex = lex.merged(Lexicon.from_yaml(p))
    return lex


def default_lexicon_paths() -> list[Path]:
    """seed.yaml first, then every other YAML file in classifier/lexicon/ (sorted)."""
    others = sorted(p for p in LEXICON_DIR.glob("*.yaml") if p.name != SEED_PATH.name)
    return [SEED_PATH, *others]


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return load_lexicon(default_lexicon_paths())
