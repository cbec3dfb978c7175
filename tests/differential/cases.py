"""Deterministic test inputs: adversarial families aimed at each alternative of the split patterns, random
strings over a class-covering alphabet, random code points, invalid UTF-8. Every generator is seeded and
cached, so each test sees the same cases on every run and on every encoding."""
from __future__ import annotations

import functools
import itertools
import random

# ---------------------------------------------------------------------------------------------------------
# character classes
# ---------------------------------------------------------------------------------------------------------

# Every White_Space character, CR LF as a unit, and the C0 "separators" 1C..1F that Python's str.isspace()
# accepts but Unicode's White_Space (the regex engines' \s) does not.
WHITESPACE = [" ", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\x85", "\xa0", "\u1680",
              *[chr(c) for c in range(0x2000, 0x200B)], "\u2028", "\u2029", "\u202f", "\u205f", "\u3000",
              "\x1c", "\x1d", "\x1e", "\x1f"]
# Look like space but are not White_Space: ZWSP, Mongolian vowel separator (White_Space until Unicode 6.3),
# BOM / ZWNBSP, word joiner, NUL.
NOT_WHITESPACE = ["\u200b", "\u180e", "\ufeff", "\u2060", "\x00"]

DIGITS_UNICODE = ["٣", "۷", "१", "৩", "๓", "០", "߃", "𝟘", "𝟡", "²", "³", "¹", "½", "¾", "Ⅳ", "ⅷ", "〇", "㊿",
                  "①", "𐄇", "𑁒"]

UPPER = ["A", "Z", "É", "Ω", "Д", "Ǆ", "Ĳ", "Ａ", "𝐀", "Ꭰ", "Ա"]
LOWER = ["a", "z", "é", "ß", "ω", "д", "ǆ", "ĳ", "ａ", "𝐚", "ꭰ", "ա", "ſ", "ŉ"]
TITLE = ["ǅ", "ǈ", "ǋ", "ǲ", "ᾈ", "ᾟ", "ῼ"]
MODIFIER_LETTER = ["ʰ", "ʲ", "ˇ", "ˠ", "ー", "々", "ꜗ", "ᵃ", "ᴬ", "ⁱ"]
OTHER_LETTER = ["ª", "º", "ƻ", "中", "文", "あ", "カ", "한", "ا", "ש", "क", "ก", "ዐ", "ᚠ", "𠀀", "ㄱ"]
MARKS = ["\u0301", "\u0300", "\u0308", "\u0327", "\u20dd", "\u0488", "\u093e", "\u0903", "\u0e31", "\u0e48",
         "\u302a", "\ufe0f", "\U000e0100", "\u1ab0"]
PUNCT = [".", ",", "!", "?", "-", "_", "/", "\\", "(", ")", "[", "]", "{", "}", "<", ">", "|", "@", "#",
         "$", "%", "^", "&", "*", "+", "=", "~", "`", ":", ";", '"', "'", "…", "—", "«", "»", "、", "。",
         "¿", "¡", "€", "©", "∑", "√", "→", "★", "░", "\u00ad", "\u200d", "\u200c", "\x7f", "\x01", "\x1b"]
EMOJI = ["😀", "👍", "👍🏽", "👨‍👩‍👧‍👦", "🇺🇸", "🇫🇷", "🏳️‍🌈", "❤️", "1️⃣", "#️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🧑🏿‍💻",
         "☺", "✌🏻", "🫠"]
CONTRACTIONS = ["'s", "'S", "'t", "'T", "'d", "'D", "'m", "'M", "'ll", "'LL", "'Ll", "'lL", "'re", "'RE",
                "'Re", "'rE", "'ve", "'VE", "'Ve", "'vE", "'ſ", "'x", "'", "''", "’s", "'K", "'k"]

WORDS = {
    "latin": ["hello", "World", "naïve", "façade", "Straße", "ÆSIR", "oﬃce", "İstanbul", "ǅemal"],
    "greek": ["λόγος", "ΑΘΗΝΑ", "Ἀθῆναι", "ᾈδης", "ς"],
    "cyrillic": ["привет", "МИР", "Ёлка", "ґанок", "Ѳ"],
    "arabic": ["مرحبا", "العربية", "ﷺ", "\u0645\u064e\u0631\u0652", "٣٤٥"],
    "hebrew": ["שלום", "\u05e2\u05b4\u05d1\u05b0\u05e8\u05b4\u05d9\u05ea", "ﬠ"],
    "devanagari": ["नमस्ते", "हिन्दी", "क्षत्रिय", "\u0915\u093f", "१२३"],
    "thai": ["สวัสดี", "ภาษาไทย", "\u0e01\u0e48\u0e33"],
    "cjk": ["中文", "日本語", "漢字𠀀", "〇一二", "ひらがな", "カタカナー", "ｶﾀｶﾅ"],
    "hangul": ["한국어", "\u1100\u1161\u11a8", "ㅎㅏ"],
    "other": ["ኢትዮጵያ", "ᏣᎳᎩ", "ᠮᠣᠩᠭᠣᠯ", "ꦗꦮ", "𓀀𓀁", "𐌰𐌱", "ᚠᚢᚦ"],
}
ALL_WORDS = [w for ws in WORDS.values() for w in ws]

CONTEXT = ["", "a", "A", "hello", "HELLO", "1", "123", "1234", ".", "!!", "/", "'s", "é", "Ω", "д", "中",
           "😀", "\u0301", "ǅ", "ʰ", " ", "  ", "\n", "\t", "\r\n", "<|endoftext|>"]

SPECIAL_TEXT = [
    "<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|endofprompt|>",
    "<|startoftext|>", "<|return|>", "<|constrain|>", "<|channel|>", "<|start|>", "<|end|>", "<|message|>",
    "<|call|>", "<|reserved_200000|>", "<|reserved_200500|>", "<|reserved_201087|>", "<|reserved_201088|>",
    "<|reserved_200002|>", "<|endof", "<|endoftext", "endoftext|>", "<|endoftext|", "<|ENDOFTEXT|>",
    "<| endoftext|>", "<|<|endoftext|>|>", "<|endoftext|><|endoftext|>", "<|endoftext|><|fim_prefix|>",
    "<|", "|>", "<||>",
]


def _rng(name: str) -> random.Random:
    return random.Random(f"tokenmill-differential-{name}")


def _dedup(cases):
    return list(dict.fromkeys(cases))


# ---------------------------------------------------------------------------------------------------------
# adversarial families: name -> list of str
# ---------------------------------------------------------------------------------------------------------

def whitespace_cases() -> list[str]:
    out = []
    befores = ["", "a", "A", "1", ".", " ", "  ", "\n", "中", "'s"]
    afters = CONTEXT
    for w in WHITESPACE + NOT_WHITESPACE:
        for n in (1, 2, 3, 5, 17):
            for b in befores:
                for a in afters:
                    out.append(b + w * n + a)
    for w1, w2 in itertools.product(WHITESPACE, repeat=2):
        out += [w1 + w2, " " + w1 + w2 + "x", w1 + w2 + " x", "x" + w1 + w2, w1 + " " + w2 + "1",
                w1 + w2 + w1 + "!", "\n" + w1 + w2 + "\n"]
    rng = _rng("ws")
    pool = WHITESPACE * 3 + ["a", "b", "Z", "1", "!", ".", "/", "é", "中", "'s", "\u0301"]
    for _ in range(3000):
        out.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 24))))
    return _dedup(out)


def digit_cases() -> list[str]:
    out = []
    rng = _rng("digits")
    for n in range(1, 11):
        run = "".join(str((i * 7 + 3) % 10) for i in range(n))
        for b in ["", " ", "a", "A", "x1", ".", "-", "\n", "中", "'s", "²", "٣"]:
            for a in ["", " ", "a", "th", ".", "5", ",000", "\n", "²", "٣", "Ⅳ", "'s", "😀"]:
                out.append(b + run + a)
    for d in DIGITS_UNICODE:
        for n in (1, 2, 3, 4, 7):
            for b, a in [("", ""), (" ", ""), ("a", "b"), ("1", "2"), ("", "12"), ("12", ""), (" ", " x")]:
                out.append(b + d * n + a)
    pool = [str(i) for i in range(10)] + DIGITS_UNICODE + [" ", ".", ",", "a", "-", "e"]
    for _ in range(1500):
        out.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 20))))
    return _dedup(out)


def contraction_cases() -> list[str]:
    out = []
    befores = ["", "dog", "DOG", "Dog", "x", "X", "1", " ", "  ", ".", "é", "中", "ǅ", "ʰ", "e\u0301", "\n", "'"]
    afters = ["", "s", "a", "A", " ", "'", "1", "'s", "\n", ".", "é", "\u0301", "中", "ll", "ve"]
    for c in CONTRACTIONS:
        for b in befores:
            for a in afters:
                out.append(b + c + a)
                out.append(" " + b + c + a)
    out += ["don't", "DON'T", "I'M", "I'm", "y'all'll've", "it's'", "'s's's", "rock'n'roll", "O'Neil",
            "l'été", "aujourd'hui", "can'T", "we'Re", "they'LL", "she'D", "'twas", "''s", "' s", "'\u0301s",
            "'ſſ", "'ﬅ", "'st", "'S\u0301", "d'ʰ", "d'ǅ", "'ll'll", "x'llx", "X'LLX"]
    return _dedup(out)


def script_cases() -> list[str]:
    out = list(ALL_WORDS)
    rng = _rng("scripts")
    seps = [" ", "", "  ", "\n", ", ", "-", "'s ", "1", " 12 ", ".", "\u200d", "/"]
    for a, b in itertools.product(ALL_WORDS, repeat=2):
        out.append(a + rng.choice(seps) + b)
    for _ in range(1500):
        out.append("".join(rng.choice(ALL_WORDS) + rng.choice(seps) for _ in range(rng.randint(1, 6))))
    return _dedup(out)


def mark_cases() -> list[str]:
    out = []
    bases = ["", "e", "E", "A", "ABC", "abc", "1", " ", "  ", ".", "中", "ʰ", "ǅ", "क", "\n", "'", "😀", "\t"]
    for m in MARKS:
        for b in bases:
            for a in ["", "a", "A", "ABC", "abc", " x", "1", "'s", m, "\n", "."]:
                out.append(b + m + a)
    out += ["e\u0301", "\u0301", "\u0301ABC", "\u0301abc", "A\u0301BC", "ABC\u0301def", "abc\u0301DEF",
            "E\u0301\u0301\u0301", " \u0301", " \u0301\u0301a", "\u0301\u0301\u0301", "x\u20dd\u20dd",
            "\u093e\u093e", "क\u094d\u0937", "HELLO\u0301world", "hello\u0301WORLD"]
    return _dedup(out)


def case_class_cases() -> list[str]:
    """o200k's two letter alternatives split on case: Lu/Lt/Lm/Lo/M* then Ll/Lm/Lo/M+, and the reverse."""
    out = ["HELLOworld", "helloWORLD", "HTTPServer", "getHTTPResponse", "ǅemal", "ǅEMAL", "aǅb", "AǅB",
           "ABCʰdef", "Aʰ", "ʰA", "ʰa", "aʰA", "ー", "カタカナー", "Xー", "xーX", "ſS", "Sſ", "ßSS", "ẞß",
           "ªA", "Aª", "aªA", "中A", "A中a", "a中A", "Ǆǅǆ", "ǆǅǄ", "ᾈᾀ", "HelloWorldFooBar", "iPhone",
           "McDonald's", "MCDONALD'S", "macOS", "NASA's", "ÉCOLE", "École", "ÉCOLEécole", "écoleÉCOLE"]
    classes = [UPPER, LOWER, TITLE, MODIFIER_LETTER, OTHER_LETTER, MARKS]
    rng = _rng("case")
    for c1, c2, c3 in itertools.product(range(len(classes)), repeat=3):
        for _ in range(6):
            s = (rng.choice(classes[c1]) * rng.randint(1, 3) + rng.choice(classes[c2]) * rng.randint(1, 3)
                 + rng.choice(classes[c3]) * rng.randint(1, 2))
            out += [s, " " + s, s + "'s", s + "'S", "." + s, s + " " + s]
    return _dedup(out)


def emoji_cases() -> list[str]:
    out = list(EMOJI)
    for e in EMOJI:
        for b, a in [(" ", ""), ("a", "b"), ("", " "), ("1", "2"), ("", "\n"), (" ", "x"), ("中", "中")]:
            out.append(b + e + a)
    for e1, e2 in itertools.product(EMOJI, repeat=2):
        out.append(e1 + e2)
        out.append(e1 + " " + e2)
    out += ["\u200d", "\u200d\u200d", "a\u200db", "👨\u200d", "\u200d👨", "🏽", "🏽🏽", "🇺", "🇺🇸🇺", "🇺🇸🇫🇷🇩🇪",
            "\ufe0f", "a\ufe0f", "\U000e0067\U000e0062", "🏴" + "\U000e0067" * 5]
    return _dedup(out)


def long_word_cases() -> list[str]:
    rng = _rng("long")
    out = []
    for n in (100, 999, 1000, 1001, 4096, 5000):
        out += ["a" * n, "A" * n, " " + "a" * n, "ab" * (n // 2), "中" * n, "1" * n, "." * n, "😀" * (n // 4)]
    for _ in range(40):
        n = rng.randint(200, 3000)
        out.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n)))
        out.append("".join(rng.choice("etaoinshrdlu") for _ in range(n)))
    # Long single pieces in other scripts, where the byte pairs and their ranks look nothing like English.
    alphabets = ["абвгдеёжзийклмнопрстуфхцчшщъыьэюя", "αβγδεζηθικλμνξοπρστυφχψω",
                 "".join(chr(c) for c in range(0x4E00, 0x4F00)), "".join(chr(c) for c in range(0xAC00, 0xAD00)),
                 "कखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह\u093e\u093f\u0940\u0941\u0942\u0947\u0948\u094b\u094d",
                 "abcdefghijklmnopqrstuvwxyzé\u0301ßø"]
    for alphabet in alphabets * 3:
        out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(2000, 12000))))
    out += ["supercalifragilistic" * 50, "нечеловеконенавистничество" * 20, "क्षत्रिय" * 200,
            "ภาษาไทย" * 200, "'s" * 300, "x'" * 300, "\u0301" * 500, "a\u0301" * 500, "Hello" * 400,
            "".join(chr(0x4E00 + i) for i in range(3000)), "🇺🇸" * 300]
    return _dedup(out)


def punct_cases() -> list[str]:
    out = []
    runs = [".", "...", "?!", "—", "***", "/*", "//", '"', "'", ",", "-->", "#", "@@", "}}", "«»", "!?/"]
    tails = ["", "\r", "\n", "\r\n", "\r\n\r\n", "\n\r", "/", "//", "/\n", "\n/", " ", "\n\n", "a", " a",
             "\r\n a", "\r/", "/\r\n"]
    for r in runs:
        for t in tails:
            for p in ["", " ", "a", "  ", "\n", "1"]:
                out.append(p + r + t)
    out += ["://", "http://example.com/a/b", " ///\r\n", ", /", "*/\n\n", "?\r\n\r\n\r\n", " .\r\r\r",
            "a.\n/\n/", "end.\r\nNext", "x = y / z;\r\n", "#!/bin/sh\n", "<br/>\r\n", "</div>\n\n"]
    return _dedup(out)


def special_text_cases() -> list[str]:
    out = list(SPECIAL_TEXT)
    for s in SPECIAL_TEXT:
        for b, a in [("a", "b"), (" ", " "), ("\n", "\n"), ("", "x"), ("x", ""), ("<", ">"), ("1", "1"),
                     ("<|endoftext|>", ""), ("", "'s")]:
            out.append(b + s + a)
    return _dedup(out)


ADVERSARIAL = {
    "whitespace": whitespace_cases,
    "digits": digit_cases,
    "contractions": contraction_cases,
    "scripts": script_cases,
    "marks": mark_cases,
    "case_classes": case_class_cases,
    "emoji": emoji_cases,
    "long_words": long_word_cases,
    "punctuation": punct_cases,
    "special_text": special_text_cases,
}


@functools.lru_cache(maxsize=None)
def adversarial(name: str) -> tuple[str, ...]:
    return tuple(ADVERSARIAL[name]())


# ---------------------------------------------------------------------------------------------------------
# random strings
# ---------------------------------------------------------------------------------------------------------

# One or more characters of every class the patterns distinguish, weighted towards the interesting ones.
CLASS_ALPHABET = (
    list("abcdefghijklmnopqrstuvwxyz") + list("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + list("0123456789")
    + list("sStTdDmMlLvVrReE") * 2 + ["'"] * 12 + ["’"]
    + WHITESPACE * 2 + [" "] * 15 + ["\n"] * 4 + ["\r"] * 3 + NOT_WHITESPACE
    + DIGITS_UNICODE + UPPER + LOWER + TITLE + MODIFIER_LETTER + OTHER_LETTER + MARKS + PUNCT * 2
    + EMOJI + ["<|endoftext|>", "<|", "|>"]
)


@functools.lru_cache(maxsize=None)
def random_class_strings(n: int = 6000, max_len: int = 40, seed: str = "class") -> tuple[str, ...]:
    rng = _rng(seed)
    return tuple("".join(rng.choice(CLASS_ALPHABET) for _ in range(rng.randint(0, max_len))) for _ in range(n))


# Characters assigned (with today's General_Category and White_Space) since Unicode 9.0 or earlier, for
# comparisons against Debian's PCRE2 10.42, whose tables are older than tokenmill's Unicode 16.
OLD_ALPHABET = (
    list("abcdefghijklmnopqrstuvwxyz") + list("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + list("0123456789")
    + list("sStTdDmMlLvVrReE") * 2 + ["'"] * 12 + ["’"]
    + [w for w in WHITESPACE] * 2 + [" "] * 15 + ["\n"] * 4 + ["\r"] * 3 + ["\u200b", "\ufeff", "\x00"]
    + ["٣", "१", "²", "½", "Ⅳ", "ⅷ", "〇", "①"]
    + ["É", "Ω", "Д", "Ǆ", "Ĳ", "Ａ", "é", "ß", "ω", "д", "ǆ", "ſ", "ǅ", "ǈ", "ᾈ", "ʰ", "ˇ", "ー", "々", "ª",
       "中", "あ", "한", "ا", "ש", "क", "ก"]
    + ["\u0301", "\u0308", "\u20dd", "\u093e", "\u0903", "\u0e31", "\ufe0f"]
    + PUNCT[:48] + ["😀", "👍", "🏽", "\u200d", "🇺", "🇸"]
)


@functools.lru_cache(maxsize=None)
def random_old_strings(n: int = 6000, max_len: int = 40) -> tuple[str, ...]:
    rng = _rng("old")
    return tuple("".join(rng.choice(OLD_ALPHABET) for _ in range(rng.randint(0, max_len))) for _ in range(n))


def _random_scalar(rng: random.Random, hi: int) -> str:
    while True:
        c = rng.randint(0, hi)
        if not 0xD800 <= c <= 0xDFFF:
            return chr(c)


@functools.lru_cache(maxsize=None)
def random_codepoint_strings(n: int = 3000) -> tuple[str, ...]:
    """Code points drawn uniformly from all of Unicode (mostly unassigned / private use), from the BMP,
    and from the first 0x3000 (dense with assigned letters, marks, digits), mixed with spaces."""
    rng = _rng("codepoints")
    out = []
    for i in range(n):
        hi = (0x10FFFF, 0xFFFF, 0x2FFF)[i % 3]
        chars = []
        for _ in range(rng.randint(1, 24)):
            chars.append(" " if rng.random() < 0.15 else _random_scalar(rng, hi))
        out.append("".join(chars))
    return tuple(out)


# ---------------------------------------------------------------------------------------------------------
# invalid UTF-8
# ---------------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def invalid_utf8_cases() -> tuple[bytes, ...]:
    rng = _rng("bytes")
    out: list[bytes] = []
    valid = ["", "a", "hello", "hello world", " ", "   ", "\n", "中文", "e\u0301", "123", "'s", "HELLOworld",
             "😀", "a b c ", "<|endoftext|>"]
    truncations = []
    for ch in ["é", "中", "😀", "\u0301", "\u2028", "𝐀"]:
        b = ch.encode()
        truncations += [b[:k] for k in range(1, len(b))]
    bad = [b"\x80", b"\xbf", b"\x80\x80", b"\xc0\xaf", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",
           b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xed\xa0\x80\xed\xb0\x80", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80",
           b"\xff", b"\xfe", b"\xfe\xff", b"\xc3", b"\xc3\x28", b"\xe2\x28\xa1", b"\xf8\x88\x80\x80\x80",
           *truncations]
    for v in valid:
        vb = v.encode()
        for x in bad:
            out += [vb + x, x + vb, vb + x + vb, vb + x + x, x]
    for ws in [" ", "  ", "\n", "\t", " \n ", "\u3000", "\r\n"]:
        for x in bad:
            out += [ws.encode() + x, b"a" + ws.encode() + x, ws.encode() + x + b"a", x + ws.encode()]
    for _ in range(1500):
        out.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 30))))
    # mostly-valid text with a few bytes flipped
    texts = [s.encode() for s in random_class_strings()[:2000] if s]
    for t in texts[:1500]:
        b = bytearray(t)
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.randrange(128, 256)
        out.append(bytes(b))
    # only invalid input is interesting here; drop what happens to be valid UTF-8
    result = []
    for b in dict.fromkeys(out):
        try:
            b.decode("utf-8")
        except UnicodeDecodeError:
            result.append(b)
    return tuple(result)


# ---------------------------------------------------------------------------------------------------------
# long inputs
# ---------------------------------------------------------------------------------------------------------

MB = 1 << 20


def _random_text(seed: str, alphabet: str, n: int) -> str:
    rng = _rng(seed)
    return "".join(rng.choice(alphabet) for _ in range(n))


def _random_words(seed: str, n: int) -> str:
    """About n bytes of random lowercase "words" of 3-12 letters, with mixed capitals: nearly every piece
    misses the vocabulary and is distinct, so the encoder's per-thread piece cache fills and grows."""
    rng = _rng(seed)
    words, size = [], 0
    while size < n:
        w = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 12)))
        if rng.random() < 0.2:
            w = w.capitalize()
        words.append(" " + w)
        size += len(w) + 1
    return "".join(words)


# name -> (builder(size) -> text, composition(size) or None). A composition lists texts whose tiktoken
# encodings, concatenated, are the encoding of the whole; it holds for every built-in pattern, and is the
# oracle of last resort where tiktoken overflows its stack on the whole text and bpe-openai lacks the
# encoding. " "*n + "a": \s++$ fails before the 'a', \s+(?!\S) backtracks to n-1 spaces, then " a" is a word
# piece; the n-1 spaces alone are one \s++$ (r50k, cl100k) piece.
LONG_INPUTS = {
    "spaces": (lambda n: " " * n, None),
    "a": (lambda n: "a" * n, None),
    "spaces_then_a": (lambda n: " " * n + "a", lambda n: [" " * (n - 1), " a"]),
    "spaces_then_newline": (lambda n: " " * n + "\n", None),
    "newlines": (lambda n: "\n" * n, None),
    "tabs": (lambda n: "\t" * n, None),
    "crlf": (lambda n: "\r\n" * (n // 2), None),
    "ideographic_spaces": (lambda n: "\u3000" * (n // 3), None),
    "space_lines": (lambda n: (" " * 1023 + "\n") * (n // 1024), None),
    "short_words": (lambda n: " a" * (n // 2), None),
    "lowercase_100KB": (lambda n: _random_text("lower", "abcdefghijklmnopqrstuvwxyz", n // 10), None),
    "digits_100KB": (lambda n: _random_text("digits", "0123456789", n // 10), None),
    "digits_spaces_100KB": (lambda n: _random_text("digsp", "0123456789 ", n // 10), None),
    # One 1 MB piece each: BPE runs in 16 KiB chunks whose seams must be repaired exactly.
    "lowercase_1MB": (lambda n: _random_text("lower1m", "abcdefghijklmnopqrstuvwxyz", n), None),
    "ab_1MB": (lambda n: _random_text("ab1m", "ab", n), None),
    "mixed_case_1MB": (lambda n: _random_text("case1m", "etaoinETAOIN", n), None),
    # ~130k short pieces, nearly all distinct non-tokens: results cached per piece must stay exact while
    # the cache fills, evicts and grows.
    "rare_words_1MB": (lambda n: _random_words("words1m", n), None),
}


def long_input(name: str, size: int = MB) -> str:
    return LONG_INPUTS[name][0](size)


def long_input_parts(name: str, size: int = MB) -> list[str] | None:
    compose = LONG_INPUTS[name][1]
    return compose(size) if compose else None
