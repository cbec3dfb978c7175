"""tokenmill.Encoding against tiktoken.Encoding, side by side: every expected value, exception type and
message comes from tiktoken 0.14.0 called in the same test."""
from __future__ import annotations

import pickle
import random

import numpy as np
import pytest

import tokenmill
from conftest import ENCODINGS, corpus_lines, tiktoken_encoding

SAMPLES = [
    "",
    "hello world",
    "hello  world\n\n\n  ",
    "Hello, World! It's 2024 — they'll've done it. DON'T",
    "   leading and trailing   ",
    "\t\ttabs\r\nwindows\rmac\n",
    "1234567890 12 123 1234 3.14159",
    "日本語のテキストと中文和한국어",
    "emoji 👍🏽👨‍👩‍👧 and flags 🇫🇷",
    "combining: e\u0301 a\u0308 \u0915\u093f",
    "Ⅻ ⅷ ǅ ǈ ᾈ Σσς ΣΑΣ",
    "def f(x):\n    return x ** 2  # comment\n",
    "<|endoftext|> in the middle <|endoftext|>",
    "<|fim_prefix|>a<|fim_middle|>b<|fim_suffix|>c<|endofprompt|>",
    "a" * 1000,
    " " * 1000,
    "\n" * 100 + "x",
    "x" + "\u00a0" * 50 + "y",
]


def special_texts(tt) -> list[str]:
    toks = sorted(tt.special_tokens_set)[:20]
    return [f"pre {t} post" for t in toks] + ["".join(toks[:5]) + "tail"]


def outcome(fn, *args, **kwargs):
    """(kind, value): the result, or the exception's type and message."""
    try:
        return ("ok", fn(*args, **kwargs))
    except Exception as e:  # noqa: BLE001
        return (type(e), str(e))


@pytest.fixture(scope="module", params=ENCODINGS)
def pair(request):
    return tokenmill.get_encoding(request.param), tiktoken_encoding(request.param)


# ---- attributes ----

def test_attributes(pair):
    tm, tt = pair
    assert tm.name == tt.name
    assert tm.n_vocab == tt.n_vocab
    assert tm.max_token_value == tt.max_token_value
    assert tm.special_tokens_set == tt.special_tokens_set
    assert tm._special_tokens == tt._special_tokens
    assert tm._pat_str == tt._pat_str
    assert repr(tm) == repr(tt)
    assert outcome(lambda: tm.eot_token) == outcome(lambda: tt.eot_token)
    for v in list(tt._special_tokens.values())[:50] + [0, 1, 100, tt.n_vocab - 1, tt.n_vocab, 10**9]:
        assert tm.is_special_token(v) == tt.is_special_token(v)
    with pytest.raises(AssertionError):
        tm.is_special_token("x")


def test_token_byte_values(pair):
    tm, tt = pair
    assert tm.token_byte_values() == tt.token_byte_values()


def test_mergeable_ranks_attribute():
    tm, tt = tokenmill.get_encoding("r50k_base"), tiktoken_encoding("r50k_base")
    assert tm._mergeable_ranks == tt._mergeable_ranks


def test_registry():
    import tiktoken

    assert tokenmill.list_encoding_names() == [n for n in ENCODINGS]
    assert set(tokenmill.list_encoding_names()) <= set(tiktoken.list_encoding_names())
    assert tokenmill.get_encoding("cl100k_base") is tokenmill.get_encoding("cl100k_base")
    for model in ["gpt-4o", "gpt-4o-mini-2024", "gpt-4", "gpt-3.5-turbo-0613", "text-davinci-003", "gpt2",
                  "text-embedding-3-small", "o1-preview", "gpt-5", "davinci-002", "code-davinci-002",
                  "ft:gpt-4o:org::id", "gpt-oss-120b"]:
        assert outcome(tokenmill.encoding_name_for_model, model) == outcome(tiktoken.encoding_name_for_model, model)
    assert tokenmill.encoding_for_model("gpt-4o").name == "o200k_base"
    tm_err = outcome(tokenmill.encoding_name_for_model, "no-such-model")
    tt_err = outcome(tiktoken.encoding_name_for_model, "no-such-model")
    assert tm_err[0] is tt_err[0] is KeyError
    assert tm_err[1] == tt_err[1]


def test_unknown_encoding():
    with pytest.raises(ValueError) as e:
        tokenmill.get_encoding("no_such_encoding")
    for n in ENCODINGS:
        assert n in str(e.value)
    assert "Unknown encoding no_such_encoding" in str(e.value)
    with pytest.raises(TypeError):
        tokenmill.get_encoding(None)


# ---- encode ----

def test_encode_samples(pair):
    tm, tt = pair
    for s in SAMPLES + special_texts(tt):
        assert tm.encode_ordinary(s) == tt.encode_ordinary(s), s
        assert outcome(tm.encode, s) == outcome(tt.encode, s), s
        assert tm.encode(s, disallowed_special=()) == tt.encode(s, disallowed_special=()), s
        assert tm.encode(s, allowed_special="all") == tt.encode(s, allowed_special="all"), s


def test_encode_corpus(pair):
    tm, tt = pair
    lines = corpus_lines("multi.txt", 200_000) + corpus_lines("code.txt", 100_000)
    for line in lines:
        assert tm.encode_ordinary(line) == tt.encode_ordinary(line), line


def test_one_long_text_on_threads(pair):
    """encode_ordinary(num_threads=2) cuts one text into parts; tiktoken encodes it whole."""
    tm, tt = pair
    from conftest import corpus_text

    # Parts are at least 1 MiB: 3.2 MB gives three, so both thread counts cut it.
    text = corpus_text("en.txt", 1_200_000) + corpus_text("multi.txt", 1_000_000) + corpus_text("code.txt", 1_000_000)
    expected = tt.encode_ordinary(text)
    assert tm.encode_ordinary(text, num_threads=2) == expected
    assert tm.encode_ordinary(text, num_threads=3) == expected


def test_special_token_rules():
    tm, tt = tokenmill.get_encoding("cl100k_base"), tiktoken_encoding("cl100k_base")
    text = "a<|endoftext|>b<|fim_prefix|>c<|endofprompt|>d"
    cases = [
        {},
        {"allowed_special": "all"},
        {"allowed_special": {"<|endoftext|>"}},
        {"allowed_special": {"<|endoftext|>"}, "disallowed_special": ()},
        {"allowed_special": frozenset({"<|fim_prefix|>", "<|endofprompt|>"})},
        {"disallowed_special": ()},
        {"disallowed_special": {"<|endofprompt|>"}},
        {"disallowed_special": ["<|fim_prefix|>"]},
        {"disallowed_special": ("d",)},                        # any string, special or not, as tiktoken
        {"allowed_special": "all", "disallowed_special": {"<|endoftext|>"}},  # disallowed wins
        {"allowed_special": "all", "disallowed_special": "all"},
        {"allowed_special": {"<|not_a_token|>"}},
        {"allowed_special": {"<|endoftext|>"}, "disallowed_special": {"<|endoftext|>"}},
        {"allowed_special": ["<|endoftext|>"]},                # tiktoken: TypeError (set - list)
        {"allowed_special": "al"},                             # tiktoken: TypeError
    ]
    for kw in cases:
        for t in [text, "plain text", "<|endoftext|>", "x<|endofprompt|><|endoftext|>"]:
            exp = outcome(tt.encode, t, **kw)
            got = outcome(tm.encode, t, **kw)
            if isinstance(exp[0], type) and exp[0] is TypeError:
                assert got[0] is TypeError, (kw, t, got)
            else:
                assert got == exp, (kw, t)
            exp_np = outcome(lambda: list(tt.encode_to_numpy(t, **kw)))
            got_np = outcome(lambda: list(tm.encode_to_numpy(t, **kw)))
            if exp_np[0] is TypeError:
                assert got_np[0] is TypeError
            else:
                assert got_np == exp_np, (kw, t)


def test_disallowed_message_shape(pair):
    tm, tt = pair
    for tok in sorted(tt.special_tokens_set)[:10]:
        t = f"some text {tok} more"
        with pytest.raises(ValueError) as got:
            tm.encode(t)
        with pytest.raises(ValueError) as exp:
            tt.encode(t)
        assert str(got.value) == str(exp.value)


def test_surrogates(pair):
    tm, tt = pair
    for s in ["👍", "\ud83d\udc4d", "\ud83d", "a\udfffb", "\ud800 hi \udfff", "x\ud83d\ude00y", "\udc00" * 5,
              "<|endoftext|>\ud800"]:
        assert tm.encode_ordinary(s) == tt.encode_ordinary(s), repr(s)
        assert outcome(tm.encode, s) == outcome(tt.encode, s), repr(s)
        assert tm.encode(s, allowed_special="all") == tt.encode(s, allowed_special="all"), repr(s)
        assert tm.encode_ordinary_batch([s, "ok"]) == tt.encode_ordinary_batch([s, "ok"]), repr(s)
        assert tm.encode_batch([s], allowed_special="all") == tt.encode_batch([s], allowed_special="all")


def test_encode_bytes(pair):
    tm, tt = pair
    rng = random.Random(4)
    cases = [b"", b"\xff", b"hello \xf0\x9f", b"\x80abc", bytes(range(256))]
    cases += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))) for _ in range(200)]
    for b in cases:
        assert tm._encode_bytes(b) == tt._encode_bytes(b), b


def test_encode_single_token(pair):
    tm, tt = pair
    for t in ["hello", " world", b"hello", b"\xff", "<|endoftext|>", "hello world foo", b"\xff\xfe", "", b""]:
        assert outcome(tm.encode_single_token, t) == outcome(tt.encode_single_token, t), t
    for tok in list(tt.special_tokens_set)[:20]:
        assert tm.encode_single_token(tok) == tt.encode_single_token(tok)


# ---- batch ----

def test_batch_any_threads(pair):
    tm, tt = pair
    texts = SAMPLES * 3 + corpus_lines_or_empty()
    exp = tt.encode_ordinary_batch(texts)
    for n in [1, 2, 3, 8, 64]:
        assert tm.encode_ordinary_batch(texts, num_threads=n) == exp
    specials = special_texts(tt)
    for kw in [{"allowed_special": "all"}, {"disallowed_special": ()}]:
        exp = tt.encode_batch(texts + specials, **kw)
        for n in [1, 2, 7]:
            assert tm.encode_batch(texts + specials, num_threads=n, **kw) == exp
    assert outcome(tm.encode_batch, ["fine", specials[0]]) == outcome(tt.encode_batch, ["fine", specials[0]])
    assert tm.encode_ordinary_batch([]) == tt.encode_ordinary_batch([]) == []
    ids = tt.encode_ordinary_batch(texts)
    # Cut lists mid-character too, so "replace" has work to do in every thread.
    ids += [t[: len(t) // 2] for t in ids] + [t[len(t) // 2 :] for t in ids]
    for n in [1, 2, 8]:
        assert tm.decode_batch(ids, num_threads=n) == tt.decode_batch(ids, num_threads=n)
        assert tm.decode_bytes_batch(ids, num_threads=n) == tt.decode_bytes_batch(ids, num_threads=n)


def corpus_lines_or_empty() -> list[str]:
    import os

    if not os.environ.get("TOKENMILL_CORPUS_DIR"):
        return []
    return corpus_lines("en.txt", 300_000)


# ---- decode ----

def test_decode(pair):
    tm, tt = pair
    rng = random.Random(7)
    n = tt.max_token_value
    ordinary = [i for i in range(0, min(n, 100_000), 37) if not tt.is_special_token(i)]
    for _ in range(300):
        ids = [rng.choice(ordinary) for _ in range(rng.randrange(0, 12))]
        ids = [i for i in ids if outcome(tt.decode_single_token_bytes, i)[0] == "ok"]
        assert tm.decode_bytes(ids) == tt.decode_bytes(ids)
        assert tm.decode(ids) == tt.decode(ids)
        for errors in ["strict", "ignore", "backslashreplace", "surrogateescape"]:
            assert outcome(tm.decode, ids, errors=errors) == outcome(tt.decode, ids, errors=errors)
        assert tm.decode_tokens_bytes(ids) == tt.decode_tokens_bytes(ids)
    specials = sorted(tt._special_tokens.values())[:20]
    assert tm.decode(specials) == tt.decode(specials)
    assert tm.decode_tokens_bytes(specials) == tt.decode_tokens_bytes(specials)
    for i in specials + [0, 255, 1000]:
        assert tm.decode_single_token_bytes(i) == tt.decode_single_token_bytes(i)
    arr = tt.encode_to_numpy("numpy input to decode")
    assert tm.decode(arr) == tt.decode(arr)
    assert tm.decode((15, 16)) == tt.decode((15, 16))
    assert tm.decode(np.array([15, 16], dtype=np.int64)) == tt.decode(np.array([15, 16], dtype=np.int64))


def test_decode_errors(pair):
    tm, tt = pair
    bad = tt.max_token_value + 1
    gap = next((i for i in range(tt.max_token_value) if outcome(tt.decode_single_token_bytes, i)[0] != "ok"), None)
    for ids in [[bad], [0, bad], [10**9], [-1], [2**32], [2**64], ["a"], [1.0], [None]] + ([[gap]] if gap else []):
        for fn in ["decode", "decode_bytes", "decode_tokens_bytes"]:
            exp = outcome(getattr(tt, fn), ids)
            got = outcome(getattr(tm, fn), ids)
            assert got[0] is exp[0], (fn, ids, got, exp)
            if exp[0] in (KeyError, OverflowError) or "interpreted as an integer" in str(exp[1]):
                assert got[1] == exp[1], (fn, ids)
    for t in [bad, 10**9, -1, 2**40] + ([gap] if gap else []):
        exp, got = outcome(tt.decode_single_token_bytes, t), outcome(tm.decode_single_token_bytes, t)
        assert got[0] is exp[0] and got[1] == exp[1], (t, got, exp)
    assert outcome(tm.decode_batch, [[1], [bad]])[0] is outcome(tt.decode_batch, [[1], [bad]])[0]


def test_type_errors(pair):
    tm, tt = pair
    for fn in ["encode", "encode_ordinary", "encode_to_numpy"]:
        for arg in [b"bytes", None, 5, ["list"]]:
            exp, got = outcome(getattr(tt, fn), arg), outcome(getattr(tm, fn), arg)
            assert exp[0] is TypeError and got[0] is TypeError, (fn, arg, got, exp)
    for arg in [["a", 1], [b"x"], [None]]:
        assert outcome(tm.encode_ordinary_batch, arg)[0] is TypeError
        assert outcome(tt.encode_ordinary_batch, arg)[0] is TypeError
        assert outcome(tm.encode_batch, arg)[0] is TypeError
    assert outcome(tm.encode_single_token, 5)[0] is TypeError
    assert outcome(tm.decode, "abc")[0] is TypeError
    assert outcome(tm.decode, None)[0] is TypeError is outcome(tt.decode, None)[0]


# ---- offsets (tiktoken's tests/test_offsets.py, checked side by side) ----

def test_offsets(pair):
    tm, tt = pair
    texts = ["hello world", "hello 👍 world", "我非常渴望与人工智能一起工作", "Ⅻ e\u0301 ü", "<|endoftext|>x"]
    for t in texts:
        ids = tt.encode(t, allowed_special="all")
        assert tm.decode_with_offsets(ids) == tt.decode_with_offsets(ids)
    rng = random.Random(3)
    for _ in range(100):
        t = "".join(rng.choice(["a", "é", "日", "👍", " ", "\n", "ab", "\u0301"]) for _ in range(rng.randrange(30)))
        ids = tt.encode_ordinary(t)
        assert tm.decode_with_offsets(ids) == tt.decode_with_offsets(ids)
    bad = tt.encode_ordinary("日")[:1]
    if tt.decode_bytes(bad) != "日".encode():
        assert outcome(tm.decode_with_offsets, bad)[0] is outcome(tt.decode_with_offsets, bad)[0]


# ---- numpy ----

def test_numpy(pair):
    tm, tt = pair
    for s in SAMPLES:
        a, b = tm.encode_to_numpy(s, allowed_special="all"), tt.encode_to_numpy(s, allowed_special="all")
        assert a.dtype == b.dtype == np.uint32
        assert a.ndim == 1
        assert a.tolist() == b.tolist()
    a = tm.encode_to_numpy("hello world " * 100)
    assert a.flags.c_contiguous
    assert a.base is not None  # a view over the C++ buffer, not a copy
    assert outcome(lambda: tm.encode_to_numpy("<|endoftext|>")) == outcome(lambda: tt.encode_to_numpy("<|endoftext|>"))


# ---- pickling ----

def test_pickle_builtin(pair):
    tm, tt = pair
    tm2 = pickle.loads(pickle.dumps(tm))
    assert tm2.name == tm.name
    s = "pickled " + SAMPLES[3]
    assert tm2.encode(s) == tt.encode(s)
    assert len(pickle.dumps(tm)) < 200  # by name, like tiktoken's registered encodings


def test_pickle_custom():
    import tiktoken

    spec = harness_spec("r50k_base")
    kw = dict(pat_str=spec["pat_str"], mergeable_ranks=spec["mergeable_ranks"],
              special_tokens={**spec["special_tokens"], "<|pad|>": 50257})
    tt = tiktoken.Encoding("custom", **kw)
    tm = tokenmill.Encoding("custom", **kw)
    tm2 = pickle.loads(pickle.dumps(tm))
    tt2 = pickle.loads(pickle.dumps(tt))
    for s in SAMPLES + ["<|pad|> and <|endoftext|>"]:
        assert tm2.encode(s, allowed_special="all") == tt2.encode(s, allowed_special="all")
    assert tm2.n_vocab == tt2.n_vocab and tm2.name == tt2.name
    assert tm2.special_tokens_set == tt2.special_tokens_set


def harness_spec(name):
    import harness

    return harness.tiktoken_spec(name)


# ---- constructing encodings from Python data ----

@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base", "p50k_edit"])
def test_construct_from_spec(name):
    import tiktoken

    spec = harness_spec(name)
    tt = tiktoken.Encoding(**spec)
    tm = tokenmill.Encoding(**spec)
    assert tm.n_vocab == tt.n_vocab and tm.max_token_value == tt.max_token_value
    for s in SAMPLES + special_texts(tt):
        assert tm.encode(s, allowed_special="all") == tt.encode(s, allowed_special="all")
        assert outcome(tm.encode, s) == outcome(tt.encode, s)


def test_construct_errors():
    import tiktoken

    ranks = {bytes([b]): b for b in range(256)}
    ranks[b"ab"] = 256
    ok = dict(pat_str=r"\w+|\s+|.", mergeable_ranks=ranks, special_tokens={"<|x|>": 257})
    tt = tiktoken.Encoding("small", **ok)
    tm = tokenmill.Encoding("small", **ok)
    for s in ["abab cab", "<|x|> ab", "ünï"]:
        assert tm.encode(s, allowed_special="all") == tt.encode(s, allowed_special="all")
    # explicit_n_vocab: AssertionError on mismatch, as tiktoken
    for n in [258, 300]:
        assert outcome(tokenmill.Encoding, "small", explicit_n_vocab=n, **ok)[0] is \
            outcome(tiktoken.Encoding, "small", explicit_n_vocab=n, **ok)[0]
    with pytest.raises(TypeError):
        tokenmill.Encoding("x", pat_str=r"\w+", mergeable_ranks={"a": 0}, special_tokens={})
    with pytest.raises(TypeError):
        tokenmill.Encoding("x", pat_str=5, mergeable_ranks=ranks, special_tokens={})
    with pytest.raises(ValueError):  # does not compile
        tokenmill.Encoding("x", pat_str="(", mergeable_ranks=ranks, special_tokens={})
    with pytest.raises(ValueError):  # tokenmill: every single byte must be a token
        tokenmill.Encoding("x", pat_str=r"\w+", mergeable_ranks={b"a": 0}, special_tokens={})
