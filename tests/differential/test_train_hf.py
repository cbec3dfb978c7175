"""`tokenmill train --hf-json`: the written tokenizer.json, loaded by HF tokenizers 0.23.3, encodes exactly as
`tokenmill encode --model` does.

Expected ids come from HF tokenizers running the file (and the vocabulary itself from rustbpe 0.1.0, which
trains the same documents here), never from tokenmill.

  - corpus slices (English, code, many scripts), GPT-4 and nanochat patterns: held-out corpus text as one
    input, held-out lines one by one, every adversarial family of cases.py, random class-covering strings,
    random code points (characters of every Unicode version), special tokens
  - the merges in the file are the merges rank-BPE reaches on each token (derived here in Python from
    rustbpe's ranks), and the vocabulary is rustbpe's
  - errors: --hf-json into a missing folder fails and leaves nothing

Cases go to tokenmill in one `encode --allowed-special all` call, joined by a special token: special tokens
cut the text before the split pattern runs, so each case is encoded on its own, and the separator id
splits the output back into cases.
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
from pathlib import Path

import pytest

import cases
from test_train_rustbpe import (GPT4, PATTERNS, cli, corpus_file, lines_of, run_cli, rustbpe, rustbpe_train,
                                slice_lines)

SPECIALS = ["<|bos|>", "<|sep|>"]
SEP = "<|sep|>"


@functools.lru_cache(maxsize=None)
def hf():
    try:
        import tokenizers
    except ImportError as e:  # a missing oracle is a failure (conftest.py), never a skip
        pytest.fail(f"the reference tokenizers 0.23.3 is not installed ({e}): pip install -r requirements-test.txt")
    if tokenizers.__version__ != "0.23.3":
        pytest.fail(f"these tests need tokenizers 0.23.3 (the reference), found {tokenizers.__version__}")
    return tokenizers


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's table (openai/gpt-2 encoder.py), written out here as the reference."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


B2U = bytes_to_unicode()


def as_byte_level(token: bytes) -> str:
    return "".join(B2U[b] for b in token)


def rank_bpe_merge(ranks: dict[bytes, int], token: bytes) -> tuple[bytes, bytes] | None:
    """tiktoken's rule (lowest rank first, leftmost on ties) on the token's bytes with ranks below its own."""
    limit = ranks[token]
    parts = [bytes([b]) for b in token]
    while True:
        best = None
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and r < limit and (best is None or r < best[0]):
                best = (r, i)
        if best is None:
            break
        i = best[1]
        parts[i:i + 2] = [parts[i] + parts[i + 1]]
    return tuple(parts) if len(parts) == 2 else None


def held_out_lines(name: str, n: int) -> list[str]:
    data = corpus_file(name).read_bytes()[20_000_000:21_000_000]
    data = data[data.index(b"\n") + 1: data.rindex(b"\n") + 1].decode("utf-8", errors="replace")
    return data.splitlines(keepends=True)[:n]


@functools.lru_cache(maxsize=None)
def generated_cases() -> tuple[str, ...]:
    out = []
    for family in cases.ADVERSARIAL:
        out += cases.adversarial(family)
    out += cases.random_class_strings()
    out += cases.random_codepoint_strings()
    return tuple(out)


def tokenmill_encode_each(model: Path, texts: list[str], tmp_path: Path, sep_id: int) -> list[list[int]]:
    joined = tmp_path / "joined.txt"
    joined.write_bytes(SEP.join(texts).encode("utf-8"))
    r = run_cli("encode", "--model", model, joined, "--allowed-special", "all")
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    out, cur = [], []
    for tok in r.stdout.split():
        i = int(tok)
        if i == sep_id:
            out.append(cur)
            cur = []
        else:
            cur.append(i)
    out.append(cur)
    assert len(out) == len(texts)
    return out


def train_with_hf_json(tmp_path: Path, train: Path, vocab: int, pattern: str):
    model, tik, hfj = tmp_path / "m.model", tmp_path / "m.tiktoken", tmp_path / "tokenizer.json"
    args = ["train", "--vocab-size", vocab, "--pattern", pattern, "-o", model, "--tiktoken", tik, "--hf-json", hfj, "-q"]
    for s in SPECIALS:
        args += ["--special", s]
    r = run_cli(*args, train)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return model, tik, hfj


def first_mismatch(texts, expected, got) -> str:
    bad = [i for i, (e, g) in enumerate(zip(expected, got)) if e != g]
    if not bad:
        return ""
    i = bad[0]
    return f"{len(bad)} of {len(texts)} differ; first {texts[i][:200]!r}: HF {expected[i][:40]} tokenmill {got[i][:40]}"


@pytest.mark.parametrize("name,mb,vocab,pattern", [
    ("en.txt", 2, 4096, "gpt4"),
    ("code.txt", 2, 4096, "nanochat"),
    ("multi.txt", 2, 8192, "gpt4"),
    ("multi.txt", 1, 2048, "nanochat"),
])
def test_hf_json_encodes_like_tokenmill(tmp_path, name, mb, vocab, pattern):
    train = slice_lines(name, mb, tmp_path)
    model, tik, hfj = train_with_hf_json(tmp_path, train, vocab, pattern)
    tok = hf().Tokenizer.from_file(str(hfj))

    # The vocabulary is rustbpe's, and the merges are the ones rank-BPE reaches (derived from rustbpe's ranks).
    expected_ranks = {bytes(k): v for k, v in (lambda t: (t.train_from_iterator(lines_of(train), vocab, pattern=PATTERNS[pattern]),
                                                            t.get_mergeable_ranks())[1])(rustbpe().Tokenizer())}
    spec = json.loads(hfj.read_text(encoding="utf-8"))
    assert spec["model"]["vocab"] == {as_byte_level(t): r for t, r in expected_ranks.items()}
    by_rank = sorted(expected_ranks, key=expected_ranks.get)
    expected_merges = [list(map(as_byte_level, rank_bpe_merge(expected_ranks, t))) for t in by_rank[256:]]
    assert spec["model"]["merges"] == expected_merges
    assert spec["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] == PATTERNS[pattern]
    assert tok.get_vocab_size() == vocab + len(SPECIALS)
    sep_id = vocab + SPECIALS.index(SEP)
    assert tok.token_to_id(SEP) == sep_id

    # Held-out corpus text, as one input (ordinary: no special tokens involved).
    for corpus in ["en.txt", "code.txt", "multi.txt"]:
        text = slice_lines(corpus, 0.2, tmp_path, skip_mb=10).read_text(encoding="utf-8")
        sample = tmp_path / f"sample-{corpus}"
        sample.write_text(text, encoding="utf-8")
        r = run_cli("encode", "--model", model, "--ordinary", sample)
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        got = [int(t) for t in r.stdout.split()]
        expected = tok.encode(text, add_special_tokens=False).ids
        assert got == expected, f"{corpus}: first difference at id {next(i for i, (a, b) in enumerate(zip(got + [-1], expected + [-1])) if a != b)}"
        assert tok.decode(expected, skip_special_tokens=False) == text

    # Case by case: held-out lines and every generated family.
    texts = [t for t in held_out_lines(name, 3000) + list(generated_cases()) if not any(s in t for s in SPECIALS)]
    expected = [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]
    got = tokenmill_encode_each(model, texts, tmp_path, sep_id)
    assert expected == got, first_mismatch(texts, expected, got)

    # Special tokens: matched anywhere, ids after the ranks, in the order given.
    for text in ["<|bos|>hello<|sep|>", "a<|bos|><|bos|>b", " <|sep|> x", "<|bos|", "<|bos|><|sep|>\n\n<|sep|>"]:
        r = run_cli("encode", "--model", model, "-", "--allowed-special", "all", stdin=text.encode())
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        assert [int(t) for t in r.stdout.split()] == tok.encode(text, add_special_tokens=False).ids, text


def test_hf_json_no_partial_output(tmp_path):
    ok = tmp_path / "ok.txt"
    ok.write_text("hello world\n" * 10)
    target = tmp_path / "no-such-dir" / "tokenizer.json"
    r = run_cli("train", "--vocab-size", 300, "-o", tmp_path / "m.model", "--hf-json", target, ok)
    assert r.returncode != 0 and b"no-such-dir" in r.stderr
    assert not target.parent.exists()
