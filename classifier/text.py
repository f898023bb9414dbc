"""Text normalisation and language identification.

Everything here is a pure function of its input (the lingua detector is built lazily once and
cached), so it is safe to call from any process and cheap to test.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

URL_TOKEN = "__url__"
PHONE_TOKEN = "__phone__"
HANDLE_TOKEN = "__handle__"
EMAIL_TOKEN = "__email__"
PLACEHOLDERS = (URL_TOKEN, PHONE_TOKEN, HANDLE_TOKEN, EMAIL_TOKEN)

_WS_RE = re.compile(r"\s+")
_HAN_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")
# one pass over characters that must go before anything else: zero-width and soft-hyphen
# characters (invisible, and used to split words: "i\u200bvory") are dropped; lone surrogates
# (valid in JSON: "\ud800") break C-level tokenisers and encoders and become U+FFFD; control
# characters (NUL …) are not text and become spaces
_INVISIBLE = "\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
_STRIP_RE = re.compile(f"[{_INVISIBLE}\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")


def _strip_one(m: re.Match[str]) -> str:
    ch = m.group()
    if "\ud800" <= ch <= "\udfff":
        return "\ufffd"
    return "" if _INVISIBLE_RE.match(ch) else " "


_EMAIL_RE = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|net|org|vn|cn|hk|tw|io|me|shop|info)\b(?:/\S*)?"
)
# Phone numbers, including masked ones (138****0000, 09xx.xxx.xxx), on lower-cased text:
# international (+84 ...), national with a leading 0 (9-13 digits), Chinese mobiles (11 digits,
# never dot-grouped: dot-grouped digits are Vietnamese prices such as 150.000.000).
# Boundaries are ASCII-only on purpose: Chinese characters count as \w, and "电话13800000000"
# must still match.
_PHONE_RE = re.compile(
    r"(?<![0-9a-z+*])"
    r"(?:\+\d{1,3}[\s.\-]?[\dx*](?:[\s.\-]?[\dx*]){7,11}"
    r"|0[\dx*](?:[\s.\-]?[\dx*]){7,11}"
    r"|1[3-9][\dx*](?:[\s\-]?[\dx*]){8})"
    r"(?![0-9a-z*])"
)
# Messenger handles: "@some_user", and an id after a messenger name and a colon
# ("wx：fake_id_12", "zalo: bantrang88", "加v: abc123", "telegram - @x"). The messenger name stays
# (it is a useful cue); only the id becomes a placeholder.
_HANDLE_AT_RE = re.compile(r"(?<![\w@.])@[a-z0-9_][a-z0-9_.]{1,30}")
_HANDLE_ID_RE = re.compile(
    r"((?:wx|vx|wechat|weixin|微信号?|薇信|威信|v信|加v|加微|zalo|zl|tele(?:gram)?|tg|line|whatsapp|wa|"
    r"signal|viber|ig|insta(?:gram)?|fb|facebook|qq|kakao|skype|snap(?:chat)?|id)"
    r"\s*(?:id|号)?\s*[:：=]\s*)(?!__)([a-z0-9][a-z0-9_.\-]{2,40})")

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


@dataclass(frozen=True)
class _T2S:
    trad: frozenset       # traditional-only characters (the table's keys, as a set to scan)
    table: dict           # str.translate table: each one -> its first simplified form
    phrasal: frozenset    # characters whose conversion may depend on the phrase around them
    opencc: object        # opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _t2s_tools() -> _T2S:
    """OpenCC's t2s tables, and what lets most texts skip OpenCC's (pure Python, ~1 ms a
    listing) phrase segmentation: a character translation table and the set of characters for
    which it is not enough — those with several simplified forms, and those that a phrase of
    TSPhrases.txt converts otherwise than the table does. A text without such a character
    converts the same through the table as through OpenCC, whatever phrases it contains."""
    from pathlib import Path

    import opencc

    folder = Path(opencc.__file__).parent / "dictionary"
    table: dict[int, str] = {}
    phrasal = set()
    for line in (folder / "TSCharacters.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 1 and parts[0] != parts[1]:
            table[ord(parts[0])] = parts[1]
            if len(parts) > 2:
                phrasal.add(parts[0])
    for line in (folder / "TSPhrases.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) < 2 or parts[0].translate(table) == parts[1]:
            continue
        src, dst = parts[0], parts[1]
        if len(src) != len(dst):
            phrasal.update(src)
        else:
            phrasal.update(c for c, t in zip(src, dst) if c.translate(table) != t)
    return _T2S(frozenset(map(chr, table)), table, frozenset(phrasal), opencc.OpenCC("t2s"))


def to_simplified(text: str) -> str:
    """Traditional Chinese -> simplified (OpenCC's t2s tables, phrase-aware), for matching.

    Text without a traditional-only character is returned as it is (one set scan); text
    without a phrase-dependent character through the character table (same result as OpenCC,
    ~30x faster; ``test_clf_text.py`` checks); the rest through OpenCC."""
    t2s = _t2s_tools()
    if t2s.trad.isdisjoint(text):
        return text
    if t2s.phrasal.isdisjoint(text):
        return text.translate(t2s.table)
    return t2s.opencc.convert(text)


def normalise(text: str | None) -> str:
    """NFKC (full-width -> half-width, compatibility forms such as ⽜ -> 牛 and 𝐢𝐯𝐨𝐫𝐲 -> ivory),
    invisible characters dropped, lower-case, traditional -> simplified Chinese, e-mail
    addresses, URLs, phone numbers and messenger handles -> placeholder tokens, whitespace
    collapsed; lone surrogates become U+FFFD and control characters spaces."""
    if not text:
        return ""
    text = _STRIP_RE.sub(_strip_one, text)
    s = unicodedata.normalize("NFKC", text).lower().translate(_QUOTES)
    if _HAN_RE.search(s):
        s = to_simplified(s)
    if "@" in s:
        s = _EMAIL_RE.sub(f" {EMAIL_TOKEN} ", s)
    if "." in s or "://" in s:   # a URL has "://" or a dot, a bare domain a dot
        s = _URL_RE.sub(f" {URL_TOKEN} ", s)
    s = _PHONE_RE.sub(f" {PHONE_TOKEN} ", s)
    if "@" in s:
        s = _HANDLE_AT_RE.sub(f" {HANDLE_TOKEN} ", s)
    if ":" in s or "=" in s or "：" in s:
        s = _HANDLE_ID_RE.sub(rf"\1 {HANDLE_TOKEN} ", s)
    return _WS_RE.sub(" ", s).strip()


def _build_shadow_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord("đ"): "d", ord("Đ"): "D"}
    for lo, hi in ((0x00C0, 0x024F), (0x1E00, 0x1EFF)):
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            if cp in table:
                continue
            base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
            if base != ch and base.isascii() and base:
                table[cp] = base
    for cp in range(0x0300, 0x0370):  # stray combining marks (decomposed input)
        table[cp] = None
    return table


_SHADOW_TABLE = _build_shadow_table()


def vi_shadow(text: str) -> str:
    """Vietnamese without diacritics ("ngà voi" -> "nga voi", "đồi mồi" -> "doi moi").

    Only Latin letters lose their marks; CJK and other scripts pass through unchanged."""
    if text.isascii():
        return text
    return text.translate(_SHADOW_TABLE)


# ---------------------------------------------------------------------------------------------
# de-obfuscation

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SEP = r"[\s.\-*_·•~|/\\,+:#=^'\"`]"
# single CJK characters split by separators: 犀.牛.角, 象 牙, 穿*山*甲 (not "全新 未拆封")
_CJK_SPLIT_RE = re.compile(
    rf"(?<![{_CJK}])[{_CJK}](?:{_SEP}+[{_CJK}](?![{_CJK}]))*{_SEP}+[{_CJK}]")
_SEP_RE = re.compile(_SEP)
_CJK_ANY_RE = re.compile(f"[{_CJK}]")
# CJK characters joined by symbols (not spaces): 老象.牙, 穿*山*甲片, 犀|牛|角
_CJK_SYM = r"[.\-*_·•~|\\+#=^'\"`]"
_CJK_SYM_RE = re.compile(rf"[{_CJK}](?:{_CJK_SYM}+[{_CJK}])+")
_CJK_SYM_SEP_RE = re.compile(_CJK_SYM)
# single letters joined by non-space separators: n.g.à, s-ừ-n-g, i*v*o*r*y
_DOTTED_RE = re.compile(r"(?<!\w)(?:[^\W\d_][.\-*_·•~|/+]+){1,}[^\W\d_](?!\w)")
# runs of >= 3 single letters separated by single spaces: "r h i n o"
_SPACED_RE = re.compile(r"(?<!\w)(?:[^\W\d_] ){2,}[^\W\d_](?!\w)")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "!": "i", "€": "e", "¡": "i"})
_LEET_CHARS = "01345@$!€¡"
_LEET_RE = re.compile(
    rf"(?<![\w@$!])[a-z{_LEET_CHARS}\u00c0-\u024f\u1e00-\u1eff]*[{_LEET_CHARS}]"
    rf"[a-z{_LEET_CHARS}\u00c0-\u024f\u1e00-\u1eff]*(?<![!])(?![\w@$])")
# Cyrillic and Greek look-alikes of Latin letters ("іvоrу" typed with Cyrillic і, о, у)
_HOMOGLYPHS = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
    "ɡ": "g", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ɪ": "i", "ʀ": "r", "ᴏ": "o",
})
_HOMOGLYPH_RE = re.compile("[авеёкмнорстухіїјѕԁɡαβεηικνορτυχωɪʀᴏ]")
# Emoji that stand for an animal (🐘 bangle, 🦏 horn, sừng 🦏, 🐘牙), with the word each language
# uses for it: (zh, vi, en). Folded to the word in the de-obfuscated view.
ANIMAL_EMOJI = {
    "🐘": ("象", "voi", "elephant"), "🦣": ("象", "voi", "mammoth"),
    "🦏": ("犀牛", "tê giác", "rhino"),
    "🐯": ("虎", "hổ", "tiger"), "🐅": ("虎", "hổ", "tiger"), "🐆": ("豹", "báo", "leopard"),
    "🦁": ("狮", "sư tử", "lion"),
    "🐻": ("熊", "gấu", "bear"), "🐼": ("熊猫", "gấu trúc", "panda"),
    "🐢": ("龟", "rùa", "turtle"),
    "🦜": ("鹦鹉", "vẹt", "parrot"), "🦉": ("猫头鹰", "cú", "owl"), "🦅": ("鹰", "đại bàng", "eagle"),
    "🐒": ("猴", "khỉ", "monkey"), "🐵": ("猴", "khỉ", "monkey"), "🦧": ("猩猩", "đười ươi", "orangutan"),
    "🦍": ("大猩猩", "khỉ đột", "gorilla"),
    "🐍": ("蛇", "rắn", "snake"), "🦎": ("蜥蜴", "kỳ đà", "lizard"), "🐊": ("鳄鱼", "cá sấu", "crocodile"),
    "🐸": ("蛙", "ếch", "frog"),
    "🦈": ("鲨鱼", "cá mập", "shark"), "🪸": ("珊瑚", "san hô", "coral"), "🐠": ("鱼", "cá", "fish"),
    "🦦": ("水獭", "rái cá", "otter"), "🦌": ("鹿", "hươu", "deer"), "🦔": ("刺猬", "nhím", "hedgehog"),
}
_EMOJI_RE = re.compile("|".join(map(re.escape, sorted(ANIMAL_EMOJI, key=len, reverse=True))))
_LANG_COL = {"zh": 0, "vi": 1, "en": 2}


def _unleet(match: re.Match[str]) -> str:
    s = match.group(0)
    letters = sum(ch.isalpha() for ch in s)
    # "1v0ry", "rh1n0", "h*rnb!ll" but not "mp3", "3d", "iphone15", "h2o", "wow!"
    leet = len(s) - letters
    if letters < 3 or re.search(f"[{_LEET_CHARS}]{{2}}", s) or (s[-1] in "01345" and leet < 2):
        return s
    return s.translate(_LEET)


_SEPS_ONLY = re.compile(r"[.\-*_·•~|/+ ]")


def fold_emoji(text: str, lang: str | None = None) -> str:
    """Animal emoji -> the animal's word: next to a Chinese character (🐘牙) the Chinese word,
    elsewhere the word of ``lang`` (English when unknown), spaced as a word."""
    if not _EMOJI_RE.search(text):
        return text
    col = _LANG_COL.get(lang or "en", 2)

    def repl(m: re.Match[str]) -> str:
        words = ANIMAL_EMOJI[m.group(0)]
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        if _HAN_RE.match(before) or _HAN_RE.match(after) or (lang == "zh" and col == 0):
            return words[0]
        return f" {words[col]} "

    return _WS_RE.sub(" ", _EMOJI_RE.sub(repl, text)).strip()


def deobfuscate(text: str, lang: str | None = None) -> str:
    """Undo the commonest spelling tricks on normalised text: 犀.牛.角 -> 犀牛角,
    n.g.à v.o.i -> ngà voi, r h i n o -> rhino, 1v0ry / h*rnb!ll -> ivory / hornbill,
    Cyrillic / Greek look-alike letters -> Latin, animal emoji -> the animal's word
    (🐘牙 -> 象牙, sừng 🦏 -> sừng tê giác; see ``fold_emoji``).

    Returns the input unchanged when nothing applies."""
    s = text
    if _HOMOGLYPH_RE.search(s):
        s = s.translate(_HOMOGLYPHS)
    if _CJK_ANY_RE.search(s):   # two scans that only Chinese / Japanese text needs
        s = _CJK_SPLIT_RE.sub(lambda m: _SEP_RE.sub("", m.group(0)), s)
        s = _CJK_SYM_RE.sub(lambda m: _CJK_SYM_SEP_RE.sub("", m.group(0)), s)
    s = _DOTTED_RE.sub(lambda m: _SEPS_ONLY.sub("", m.group(0)), s)
    s = _SPACED_RE.sub(lambda m: m.group(0).replace(" ", ""), s)
    s = _LEET_RE.sub(_unleet, s)
    s = fold_emoji(s, lang)
    return s


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def near_dup_key(title: str | None) -> str:
    """A short hash of the title with case, digits, punctuation and diacritics removed:
    listings whose titles differ only in such details share a key (used as CV group)."""
    s = vi_shadow(normalise(title))
    s = "".join(ch for ch in s if ch.isalpha())
    return hashlib.sha1(s.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# language identification

LANGS = ("zh", "vi", "en", "other")

# letters that (among zh / vi / en) only Vietnamese uses
_VI_ONLY_RE = re.compile("[ăđơưĂĐƠƯ\u1ea0-\u1ef9]")
# Vietnamese written without diacritics ("ban nga voi that") looks like English to lingua; but
# nearly every word of it is a Vietnamese syllable (onset + vowels + coda), which English words
# mostly are not ("legal", "sell", "wifi"). On the corpus: vi 5th percentile 0.70, en max 0.46.
_VI_SYLLABLE_RE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?")
_ASCII_WORD_RE = re.compile(r"[a-z]+")
_VI_SYLLABLE_SHARE = 0.65
_VI_SYLLABLE_MIN_WORDS = 4


def vi_syllable_share(text: str) -> float:
    """Share of the (lower-case, diacritic-free) words of ``text`` that are possible Vietnamese
    syllables; 0.0 when it has fewer than 4 words."""
    words = _ASCII_WORD_RE.findall(vi_shadow(text.lower()))
    if len(words) < _VI_SYLLABLE_MIN_WORDS:
        return 0.0
    return sum(1 for w in words if _VI_SYLLABLE_RE.fullmatch(w)) / len(words)
# English function words: ASCII text where they are frequent is English, without asking lingua
# (lingua costs ~0.3 ms a listing; these two checks ~10 µs)
_EN_FUNCTION = frozenset(["the", "a", "an", "and", "or", "of", "for", "to", "in", "on", "at", "with", "is", "are", "was", "were", "be", "been", "this", "that", "these", "it", "its", "my", "me", "i", "you", "your", "we", "our", "they", "their", "he", "she", "his", "her", "will", "can", "could", "would", "should", "not", "no", "from", "by", "as", "if", "have", "has", "had", "do", "does", "did", "please", "only", "just", "very", "new", "used", "any", "all", "some", "one", "what", "how", "who", "which"])
_EN_FUNCTION_SHARE = 0.15
# ASCII text with at most this share of possible Vietnamese syllables is English (on the corpus,
# English listings reach 0.46, Vietnamese without diacritics stay above 0.65; lingua decides in
# between). Among zh / vi / en, plain ASCII that is neither Chinese nor Vietnamese is English.
_EN_MAX_VI_SHARE = 0.5
# a letter outside ASCII (the shortcut above applies to text whose letters are all ASCII)
_NON_ASCII_LETTER_RE = re.compile(r"(?![a-zA-Z])[^\W\d_]")
_MIN_RELATIVE_DISTANCE = 0.1
_MIN_CONFIDENCE = 0.6
_DETECT_CHARS = 400
_LINGUA_CHARS = 200  # lingua costs ~1.5 µs a character here; 200 characters decide well


@lru_cache(maxsize=1)
def _detector():
    """lingua for zh / vi / en, its models loaded at once (0.4 s, ~90 MB): loaded lazily they
    would be loaded again in every forked worker (see ``WildwatchClassifier.warm_up``)."""
    from lingua import Language, LanguageDetectorBuilder

    return (
        LanguageDetectorBuilder.from_languages(Language.CHINESE, Language.VIETNAMESE, Language.ENGLISH)
        .with_preloaded_language_models()
        .build()
    )


def detect_lang(text: str | None) -> str:
    """"zh" | "vi" | "en" | "other".

    Cheap shortcuts first (share of CJK characters; letters only Vietnamese uses; share of words
    that are Vietnamese syllables, for Vietnamese typed without diacritics; share of English
    function words in ASCII text), then lingua restricted to the three languages; "other" when
    there are no letters or lingua is unsure.

    Mixed text gets the language that carries it: a Chinese listing with English brand names is
    "zh" as soon as 30% of its letters are Chinese characters; an English or Vietnamese listing
    that quotes Chinese is tokenised with jieba for its Chinese runs as well (see
    ``tokenize.token_streams``), so the language decides the main tokenizer, not what is seen."""
    if not text:
        return "other"
    s = unicodedata.normalize("NFC", text[:_DETECT_CHARS])
    letters = sum(map(str.isalpha, s))
    if not letters:
        return "other"
    if len(_HAN_RE.findall(s)) / letters >= 0.3:
        return "zh"
    if len(_VI_ONLY_RE.findall(s)) >= 2:
        return "vi"
    if letters < 2:
        return "other"
    vi_share = vi_syllable_share(s)
    if vi_share >= _VI_SYLLABLE_SHARE:
        return "vi"
    if s.isascii() or not _NON_ASCII_LETTER_RE.search(s):   # emoji, £ or — are no letters
        words = _ASCII_WORD_RE.findall(s.lower())
        if len(words) >= 4 and (
                sum(w in _EN_FUNCTION for w in words) / len(words) >= _EN_FUNCTION_SHARE
                or vi_share < _EN_MAX_VI_SHARE):
            return "en"
    from lingua import Language

    values = _detector().compute_language_confidence_values(s[:_LINGUA_CHARS])
    best = values[0]
    runner_up = values[1].value if len(values) > 1 else 0.0
    if best.value < _MIN_CONFIDENCE or best.value - runner_up < _MIN_RELATIVE_DISTANCE:
        return "other"
    return {Language.CHINESE: "zh", Language.VIETNAMESE: "vi", Language.ENGLISH: "en"}[best.language]
