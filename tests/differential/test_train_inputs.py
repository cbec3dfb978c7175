"""`tokenmill train` input modes beyond lines/whole/jsonl, against rustbpe 0.1.0 fed the same documents.

  - `--input-format chunks --chunk-chars N`: each file, read as Python's open(path).read() (universal
    newlines, errors="replace"), cut into documents of N characters (`text[i:i+N]`); rustbpe trains on
    exactly those strings. Files are built so that the reader's 4 MiB block boundary falls inside a
    \\r\\n, inside a 3-byte character, on an invalid sequence and after a lone \\r.
  - `--threads N` for the counting stage: identical merges for 1, 2 and 3 threads, equal to rustbpe's, for
    lines, chunks and JSON Lines, and identical chunk tables.
"""
from __future__ import annotations

import collections
import itertools
from pathlib import Path

import pytest

from test_train_counts import parse_table
from test_train_rustbpe import (GPT4, PATTERNS, assert_same_vocab, corpus_file, lines_of, nanochat_documents, run_cli,
                                rustbpe_train, slice_lines, tokenmill_train, write_jsonl)

BLOCK = 4 << 20  # CorpusReader's block size: boundary cases sit here


def python_chunks(paths, n: int):
    for p in paths:
        text = open(p, encoding="utf-8", errors="replace").read()
        for i in range(0, len(text), n):
            yield text[i:i + n]


def boundary_files(tmp_path: Path) -> list[Path]:
    base = corpus_file("multi.txt").read_bytes()[:BLOCK + 300_000]
    cuts = {
        "crlf": (BLOCK - 1, b"\r\n"),             # \r ends block 1, \n starts block 2
        "euro": (BLOCK - 2, "€".encode()),        # E2 82 | AC
        "invalid": (BLOCK - 1, b"\xe2\x82A"),     # an invalid sequence across the boundary
        "lone_cr": (BLOCK - 1, b"\rb"),           # a lone \r at the end of block 1
        "emoji": (BLOCK - 1, "😀".encode()),       # F0 | 9F 98 80
    }
    out = []
    for name, (at, piece) in cuts.items():
        data = bytearray(base)
        data[at:at + len(piece)] = piece
        p = tmp_path / f"boundary-{name}.txt"
        p.write_bytes(bytes(data) + b"end without newline\r")
        out.append(p)
    return out


@pytest.mark.parametrize("n,vocab,pattern", [(100, 1024, "gpt4"), (1000, 2048, "nanochat"), (7, 400, "gpt4")])
def test_chunks_input_format(tmp_path, n, vocab, pattern):
    files = [slice_lines("en.txt", 1, tmp_path), slice_lines("multi.txt", 1, tmp_path)]
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(b"caf\xe9 one\r\ntwo\rthree\n\xf0\x9f\x98\x80 " * 3000 + b"\r")
    files.append(crlf)
    expected = rustbpe_train(python_chunks(files, n), vocab, PATTERNS[pattern])
    got, _ = tokenmill_train(tmp_path, files, vocab, pattern, "--input-format", "chunks", "--chunk-chars", n)
    assert_same_vocab(f"chunks of {n}", expected, got)


def regex_chunk_counts(docs, pattern: str) -> dict[bytes, int]:
    import regex

    compiled = regex.compile(pattern)
    counts = collections.Counter()
    ndocs = 0
    for d in docs:
        ndocs += 1
        counts.update(m.encode() for m in compiled.findall(d))
    return ndocs, dict(counts)


def test_chunks_across_block_boundaries(tmp_path):
    # A character or a newline handled wrongly at a block boundary shifts a few chunks: too little to move
    # the first merges, so the chunk table itself is compared with Python's (regex module) chunk counts.
    files = boundary_files(tmp_path)
    for f in files:
        table = tmp_path / "b.chunks"
        r = run_cli("count", "--chunks", "-q", "-o", table, "--input-format", "chunks", "--chunk-chars", 1000, f)
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        _, documents, counts = parse_table(table.read_bytes())
        ndocs, expected = regex_chunk_counts(python_chunks([f], 1000), GPT4)
        assert documents == ndocs, f.name
        diff = {k: (expected.get(k), counts.get(k)) for k in set(expected) | set(counts) if expected.get(k) != counts.get(k)}
        assert not diff, f"{f.name}: {list(diff.items())[:5]}"
    expected = rustbpe_train(python_chunks(files[:1], 1000), 1000)
    got, _ = tokenmill_train(tmp_path, files[:1], 1000, "gpt4", "--input-format", "chunks", "--chunk-chars", 1000)
    assert_same_vocab(files[0].name, expected, got)
    # Stdin, several files, and nanochat's caps on top.
    expected = rustbpe_train(itertools.islice(python_chunks(files[:2], 5000), 0, None), 300)
    got, _ = tokenmill_train(tmp_path, [files[0], "-"], 300, "gpt4", "--input-format", "chunks", "--chunk-chars",
                             5000, stdin=files[1].read_bytes())
    assert_same_vocab("file + stdin", expected, got)


def test_chunks_errors(tmp_path):
    ok = tmp_path / "ok.txt"
    ok.write_text("hello world\n" * 10)
    for args, message in [(["--input-format", "chunks"], "--chunk-chars"),
                          (["--input-format", "chunks", "--chunk-chars", 0], "--chunk-chars"),
                          (["--chunk-chars", 10], "--input-format chunks")]:
        r = run_cli("train", "--vocab-size", 300, "-o", tmp_path / "m.model", *args, ok)
        assert r.returncode == 1 and message in r.stderr.decode(), r.stderr
        assert not (tmp_path / "m.model").exists()


# ---------------------------------------------------------------------------------------------------------
# --threads: the same merges (and the same chunk table) for any number of counting threads

@pytest.mark.parametrize("fmt", ["lines", "chunks", "jsonl"])
def test_threads_give_identical_results(tmp_path, fmt):
    # 4 MB of text: several 1 MB batches per thread, and documents of every size.
    en, multi = slice_lines("en.txt", 2.5, tmp_path), slice_lines("multi.txt", 1.5, tmp_path)
    small = tmp_path / "small.txt"
    small.write_text("a small file, counted on the calling thread\n" * 20)
    files, extra = [en, small, multi], []
    if fmt == "lines":
        docs = itertools.chain(*(lines_of(f) for f in files))
    elif fmt == "chunks":
        docs, extra = python_chunks(files, 300), ["--chunk-chars", 300]
    else:
        all_docs = [d for f in files for d in lines_of(f)] + ["a" * 300_000, " " * 1000]
        files, docs = [write_jsonl(tmp_path / "docs.jsonl", all_docs)], all_docs
    expected = rustbpe_train(docs, 2048)
    tables = []
    for n in [1, 2, 3]:
        got, _ = tokenmill_train(tmp_path, files, 2048, "gpt4", "--input-format", fmt, *extra, "--threads", n)
        assert_same_vocab(f"{fmt}, {n} threads", expected, got)
        table = tmp_path / f"t{n}.chunks"
        r = run_cli("count", "--chunks", "-q", "-o", table, "--input-format", fmt, *extra, "--threads", n, *files)
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        tables.append(table.read_bytes())
    assert tables[0] == tables[1] == tables[2]


def test_threads_with_max_chars(tmp_path):
    # nanochat's budget is applied in document order before documents reach the threads.
    path = slice_lines("multi.txt", 3, tmp_path)
    expected = rustbpe_train(nanochat_documents(path, 200, 1_500_000), 1024, PATTERNS["nanochat"])
    got, _ = tokenmill_train(tmp_path, [path], 1024, "nanochat", "--doc-cap", 200, "--max-chars", 1_500_000,
                             "--threads", 2)
    assert_same_vocab("--threads 2 --doc-cap --max-chars", expected, got)
