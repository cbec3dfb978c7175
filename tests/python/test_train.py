"""tokenmill.Tokenizer against rustbpe.Tokenizer 0.1.0 (and tiktoken for the encodings built from the
trained ranks), side by side in each test."""
from __future__ import annotations

import os
import random
import threading
import time

import pytest

import tokenmill
from conftest import corpus_lines, tiktoken_encoding

NANOCHAT_SPECIALS = [
    "<|bos|>", "<|user_start|>", "<|user_end|>", "<|assistant_start|>", "<|assistant_end|>",
    "<|python_start|>", "<|python_end|>", "<|output_start|>", "<|output_end|>",
]
# nanochat's split pattern (nanochat/tokenizer.py SPLIT_PATTERN)
NANOCHAT_PATTERN = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,2}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"""

SMALL_DOCS = ["hello world hello world", "hello there", "the quick brown fox", "aaaa aaaa aaa", "ab" * 20,
              "Ünïcödé text 日本語 👍👍", "don't won't it's", "12345 678 90", "\n\n  \t x"] * 7


def outcome(fn, *args, **kwargs):
    try:
        return ("ok", fn(*args, **kwargs))
    except Exception as e:  # noqa: BLE001
        return (type(e), str(e))


def both(docs, vocab_size, **kw):
    import rustbpe

    rb = rustbpe.Tokenizer()
    rb.train_from_iterator(iter(docs), vocab_size, **kw)
    tm = tokenmill.Tokenizer()
    tm.train_from_iterator(iter(docs), vocab_size, **kw)
    return tm, rb


def test_untrained():
    import rustbpe

    tm, rb = tokenmill.Tokenizer(), rustbpe.Tokenizer()
    assert tm.vocab_size == rb.vocab_size
    assert tm.get_pattern() == rb.get_pattern()
    assert tm.get_mergeable_ranks() == rb.get_mergeable_ranks()
    assert tm.encode("hello") == rb.encode("hello")
    assert tm.decode([104, 105]) == rb.decode([104, 105])
    assert tm.batch_encode(["a", "b"]) == rb.batch_encode(["a", "b"])


def test_small_corpus():
    for vocab in [256, 257, 300, 400, 10_000]:
        tm, rb = both(SMALL_DOCS, vocab)
        assert tm.get_mergeable_ranks() == rb.get_mergeable_ranks(), vocab
        assert tm.vocab_size == rb.vocab_size
        assert tm.get_pattern() == rb.get_pattern()
        r = tm.get_mergeable_ranks()
        assert isinstance(r, list) and all(type(t) is tuple and type(t[0]) is bytes and type(t[1]) is int for t in r)
        for d in SMALL_DOCS[:9] + ["unseen words here", ""]:
            assert tm.encode(d) == rb.encode(d)
            assert tm.decode(rb.encode(d)) == rb.decode(rb.encode(d))
        assert tm.batch_encode(SMALL_DOCS) == rb.batch_encode(SMALL_DOCS)


def test_patterns_and_buffers():
    docs = SMALL_DOCS * 3
    for kw in [{"pattern": NANOCHAT_PATTERN}, {"pattern": r"\w+|\s+|[^\w\s]+"}, {"buffer_size": 1},
               {"buffer_size": 5, "pattern": NANOCHAT_PATTERN}]:
        tm, rb = both(docs, 320, **kw)
        assert tm.get_mergeable_ranks() == rb.get_mergeable_ranks(), kw
        assert tm.get_pattern() == rb.get_pattern()


def test_generator_streams_in_buffers(monkeypatch):
    """A generator is pulled buffer_size items at a time (at most one buffer ahead of the counter), never
    materialised first; the merges equal rustbpe's on the same generator."""
    import types

    import rustbpe

    pulled = []

    def gen():
        for i, d in enumerate(SMALL_DOCS * 20):
            pulled.append(i)
            yield d

    rb = rustbpe.Tokenizer()
    rb.train_from_iterator(gen(), 300, buffer_size=16)

    real = tokenmill.train._core
    calls = []

    class RecordingTrainer:
        def __init__(self, pattern):
            self._t = real.CoreTrainer(pattern)

        def add_documents(self, docs):
            calls.append((len(docs), len(pulled)))
            self._t.add_documents(docs)

        def train(self, *a):
            return self._t.train(*a)

    tm = tokenmill.Tokenizer()
    monkeypatch.setattr(tokenmill.train, "_core", types.SimpleNamespace(CoreTrainer=RecordingTrainer))
    pulled.clear()
    tm.train_from_iterator(gen(), 300, buffer_size=16)
    monkeypatch.undo()
    assert tm.get_mergeable_ranks() == rb.get_mergeable_ranks()
    assert len(pulled) == len(SMALL_DOCS) * 20
    assert all(n == 16 for n, _ in calls[:-1]) and sum(n for n, _ in calls) == len(pulled)
    for k, (_, seen) in enumerate(calls):  # when buffer k is handed over, at most 2 buffers were read
        assert seen <= 16 * (k + 2)


def test_errors():
    import rustbpe

    tm = tokenmill.Tokenizer()
    for bad in [[1, 2], [b"bytes"], ["ok", None]]:
        assert outcome(tm.train_from_iterator, bad, 300)[0] is TypeError
        assert outcome(rustbpe.Tokenizer().train_from_iterator, bad, 300)[0] is TypeError
    assert outcome(tm.train_from_iterator, ["a\ud800"], 300)[0] is \
        outcome(rustbpe.Tokenizer().train_from_iterator, ["a\ud800"], 300)[0] is UnicodeEncodeError
    exp = outcome(rustbpe.Tokenizer().train_from_iterator, ["abc"], 300, pattern="(")
    got = outcome(tm.train_from_iterator, ["abc"], 300, pattern="(")
    assert got[0] is exp[0] is ValueError and got[1].startswith("Invalid regex pattern")
    with pytest.raises(ValueError):  # rustbpe panics (PanicException); tokenmill raises ValueError
        tm.train_from_iterator(["abc"], 100)
    with pytest.raises(TypeError):
        tm.train_from_iterator(5, 300)
    tm, rb = both(SMALL_DOCS, 300)
    exp, got = outcome(rb.decode, [10**6]), outcome(tm.decode, [10**6])
    assert got == exp
    assert outcome(tm.encode, b"x")[0] is outcome(rb.encode, b"x")[0] is TypeError
    assert outcome(tm.encode, None)[0] is TypeError


def test_empty_corpus():
    tm, rb = both([], 300)
    assert tm.get_mergeable_ranks() == rb.get_mergeable_ranks()
    assert tm.vocab_size == rb.vocab_size
    assert tm.encode("abc") == rb.encode("abc")


def test_special_tokens_save_load(tmp_path):
    tm = tokenmill.Tokenizer()
    tm.train_from_iterator(SMALL_DOCS, 300, special_tokens=NANOCHAT_SPECIALS)
    specials = tm.get_special_tokens()
    assert list(specials) == NANOCHAT_SPECIALS
    assert list(specials.values()) == list(range(tm.vocab_size, tm.vocab_size + len(NANOCHAT_SPECIALS)))
    path = tmp_path / "m.model"
    tm.save(path)
    tm2 = tokenmill.Tokenizer.load(path)
    assert tm2.get_mergeable_ranks() == tm.get_mergeable_ranks()
    assert tm2.get_pattern() == tm.get_pattern()
    assert tm2.get_special_tokens() == specials
    assert tm2.vocab_size == tm.vocab_size
    enc = tm2.to_encoding("m")
    assert enc.encode("<|bos|>hello", allowed_special="all")[0] == specials["<|bos|>"]
    with pytest.raises(OSError):
        tokenmill.Tokenizer.load(tmp_path / "missing.model")
    (tmp_path / "bad.model").write_text("not a model\n")
    with pytest.raises(ValueError):
        tokenmill.Tokenizer.load(tmp_path / "bad.model")


def test_gil_released_while_counting():
    """While C++ counts a buffer (what train_from_iterator hands it), another Python thread keeps running."""
    docs = [("word%d " % i) * 50 for i in range(20_000)]
    trainer = tokenmill._core.CoreTrainer(tokenmill.GPT4_PATTERN)
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    t0 = time.perf_counter()
    for _ in range(10):
        trainer.add_documents(docs)
    elapsed = time.perf_counter() - t0
    done.set()
    t.join()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert elapsed > 0.05
    assert max(gaps) < max(0.3 * elapsed, 0.05), (max(gaps), elapsed)


def test_gil_released_while_encoding():
    enc = tokenmill.get_encoding("cl100k_base")
    text = "Hello world, this is a sentence with several words. " * 60_000
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    t0 = time.perf_counter()
    enc.encode_to_numpy(text)  # no list to build: the whole call is C++ work
    elapsed = time.perf_counter() - t0
    done.set()
    t.join()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert max(gaps) < max(0.6 * elapsed, 0.05), (max(gaps), elapsed)


def test_nanochat_flow_end_to_end():
    """nanochat's tokenizer: train (rustbpe / tokenmill) -> ranks + pattern -> Encoding with the nine special
    tokens (tiktoken / tokenmill) -> encode/decode documents. Merges and ids must be identical."""
    import rustbpe
    import tiktoken

    docs = corpus_lines("en.txt", 6_000_000)
    vocab_size = 8192
    n_special = len(NANOCHAT_SPECIALS)

    rb = rustbpe.Tokenizer()
    rb.train_from_iterator(iter(docs), vocab_size - n_special, pattern=NANOCHAT_PATTERN)
    tm = tokenmill.Tokenizer()
    tm.train_from_iterator(iter(docs), vocab_size - n_special, pattern=NANOCHAT_PATTERN)

    rb_ranks, tm_ranks = rb.get_mergeable_ranks(), tm.get_mergeable_ranks()
    assert tm_ranks == rb_ranks
    assert tm.get_pattern() == rb.get_pattern() == NANOCHAT_PATTERN

    def build(lib, pattern, ranks):
        mergeable = {bytes(k): v for k, v in ranks}
        offset = len(mergeable)
        specials = {name: offset + i for i, name in enumerate(NANOCHAT_SPECIALS)}
        return lib.Encoding(name="rustbpe", pat_str=pattern, mergeable_ranks=mergeable, special_tokens=specials)

    tt = build(tiktoken, rb.get_pattern(), rb_ranks)
    tm_enc = build(tokenmill, tm.get_pattern(), tm_ranks)
    direct = tm.to_encoding("rustbpe", special_tokens={n: len(tm_ranks) + i for i, n in enumerate(NANOCHAT_SPECIALS)})
    assert tm_enc.n_vocab == tt.n_vocab == vocab_size
    for name in NANOCHAT_SPECIALS:
        assert tm_enc.encode_single_token(name) == tt.encode_single_token(name)

    test_docs = corpus_lines("en.txt", 6_300_000)[len(docs):][:2000] + corpus_lines("multi.txt", 100_000)[:500]
    bos = tt.encode_single_token("<|bos|>")
    exp = tt.encode_ordinary_batch(test_docs)
    assert tm_enc.encode_ordinary_batch(test_docs, num_threads=2) == exp
    assert direct.encode_ordinary_batch(test_docs, num_threads=1) == exp
    assert [tm_enc.decode(ids) for ids in exp[:200]] == [tt.decode(ids) for ids in exp[:200]]
    chat = "<|bos|><|user_start|>hi there<|user_end|><|assistant_start|>hello<|assistant_end|>"
    assert tm_enc.encode(chat, allowed_special="all") == tt.encode(chat, allowed_special="all")
    assert outcome(tm_enc.encode, chat) == outcome(tt.encode, chat)
    # nanochat prepends bos to each document
    assert [[bos] + ids for ids in tm_enc.encode_ordinary_batch(test_docs[:50])] == \
        [[bos] + ids for ids in exp[:50]]
    # rustbpe's own encode/decode agree too
    assert tm.batch_encode(test_docs[:500]) == rb.batch_encode(test_docs[:500])
    assert tm.decode(exp[0]) == rb.decode(exp[0])


@pytest.mark.parametrize("file,vocab", [("en.txt", 2048), ("code.txt", 1024), ("multi.txt", 3000)])
def test_corpus_merges(file, vocab):
    docs = corpus_lines(file, 1_000_000)
    tm, rb = both(docs, vocab)
    assert tm.get_mergeable_ranks() == rb.get_mergeable_ranks()
    sample = docs[:300]
    assert tm.batch_encode(sample) == rb.batch_encode(sample)
    import tiktoken

    tt = tiktoken.Encoding("x", pat_str=rb.get_pattern(), mergeable_ranks=dict(rb.get_mergeable_ranks()),
                           special_tokens={})
    assert tm.to_encoding("x").encode_ordinary_batch(sample) == tt.encode_ordinary_batch(sample)
