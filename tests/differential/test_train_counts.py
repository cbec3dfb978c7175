"""Two-stage training: `tokenmill count --chunks` (stage 1 into a chunk count table), `tokenmill count --merge`,
`tokenmill train --from-counts`.

Expected values come from the references: rustbpe 0.1.0 trains the whole text (the merges of count-merge-train
must be rustbpe's), and the table itself is read here with a parser written from the format in
include/tokenmill/chunk_table.h and compared with the chunks Python's `regex` module cuts from the same
documents (the pattern rustbpe uses).

  - corpus split into 2-3 parts at line boundaries, counted separately, merged, trained: identical to rustbpe
    on the whole text, and to `tokenmill train` on the text directly (GPT-4 and nanochat patterns)
  - the table: documented layout, counts equal to Python's regex chunk counts, canonical (merging tables of
    the parts gives the byte-identical table of counting all the parts at once)
  - errors: tables of different patterns refuse to merge or train together; truncated tables (at every
    field), bad magic, unknown version, a damaged byte: a message naming the file and the problem, exit 1,
    and no output file
"""
from __future__ import annotations

import collections
import hashlib
import struct
from pathlib import Path

import pytest

from test_train_rustbpe import (NANOCHAT, PATTERNS, assert_same_vocab, lines_of, run_cli, rustbpe_train,
                                slice_lines)


def split_lines_file(path: Path, parts: int, tmp_path: Path) -> list[Path]:
    lines = path.read_bytes().splitlines(keepends=True)
    n = len(lines)
    out = []
    for i in range(parts):
        p = tmp_path / f"part{i}.txt"
        p.write_bytes(b"".join(lines[i * n // parts:(i + 1) * n // parts]))
        out.append(p)
    return out


def count_chunks(tmp_path: Path, out: Path, inputs, *extra):
    r = run_cli("count", "--chunks", "-q", "-o", out, *extra, *inputs)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return out


def train_from(tmp_path: Path, tables, vocab: int, *extra):
    model, tik = tmp_path / "fc.model", tmp_path / "fc.tiktoken"
    r = run_cli("train", "--vocab-size", vocab, "-o", model, "--tiktoken", tik, "-q", *extra, "--from-counts", *tables)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return tik.read_bytes()


def parse_table(data: bytes):
    """The chunk table, read from the documented layout (chunk_table.h), version 1."""
    assert data[:8] == b"TMCHUNKS"
    version, flags, documents, total, entries, plen = struct.unpack_from("<IIQQQI", data, 8)
    assert (version, flags) == (1, 0)
    pos = 44
    pattern = data[pos:pos + plen].decode()
    pos += plen
    counts = {}
    for _ in range(entries):
        (n,) = struct.unpack_from("<I", data, pos)
        chunk = data[pos + 4:pos + 4 + n]
        (c,) = struct.unpack_from("<Q", data, pos + 4 + n)
        counts[chunk] = c
        pos += 4 + n + 8
    (checksum,) = struct.unpack_from("<Q", data, pos)
    assert pos + 8 == len(data)
    h = 0xcbf29ce484222325
    for b in data[:pos]:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    assert h == checksum
    assert list(counts) == sorted(counts)  # sorted by bytes, no duplicates
    assert sum(counts.values()) == total
    return pattern, documents, counts


@pytest.mark.parametrize("name,mb,parts,vocab,pattern", [
    ("en.txt", 3, 3, 4096, "gpt4"),
    ("multi.txt", 2, 2, 2048, "nanochat"),
    ("code.txt", 2, 3, 2048, "gpt4"),
])
def test_count_merge_train_equals_direct_and_rustbpe(tmp_path, name, mb, parts, vocab, pattern):
    whole = slice_lines(name, mb, tmp_path)
    files = split_lines_file(whole, parts, tmp_path)
    tables = [count_chunks(tmp_path, tmp_path / f"t{i}.chunks", [f], "--pattern", pattern) for i, f in enumerate(files)]
    merged = tmp_path / "merged.chunks"
    r = run_cli("count", "--merge", "-q", "-o", merged, *tables)
    assert r.returncode == 0, r.stderr.decode(errors="replace")

    expected = rustbpe_train(lines_of(whole), vocab, PATTERNS[pattern])
    assert_same_vocab("count-merge-train vs rustbpe", expected, train_from(tmp_path, [merged], vocab))
    # Several tables straight into train, and direct training on the parts, give the same.
    assert_same_vocab("train --from-counts t0 t1 ..", expected, train_from(tmp_path, tables, vocab))
    r = run_cli("train", "--vocab-size", vocab, "--pattern", pattern, "-o", tmp_path / "d.model",
                "--tiktoken", tmp_path / "d.tiktoken", "-q", *files)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    assert_same_vocab("direct training", expected, (tmp_path / "d.tiktoken").read_bytes())

    # Canonical: the merged table is the table of counting all parts at once.
    together = count_chunks(tmp_path, tmp_path / "together.chunks", files, "--pattern", pattern)
    assert merged.read_bytes() == together.read_bytes()


def test_table_layout_and_counts_match_python_regex(tmp_path):
    import regex

    path = slice_lines("multi.txt", 0.5, tmp_path)
    table = count_chunks(tmp_path, tmp_path / "m.chunks", [path], "--pattern", "nanochat")
    pattern, documents, counts = parse_table(table.read_bytes())
    assert pattern == NANOCHAT
    compiled = regex.compile(NANOCHAT)
    expected = collections.Counter()
    ndocs = 0
    for line in lines_of(path):
        ndocs += 1
        expected.update(m.encode() for m in compiled.findall(line))
    assert documents == ndocs
    assert counts == dict(expected)


# ---------------------------------------------------------------------------------------------------------
# errors

def assert_fails(tmp_path, args, messages, out: Path):
    r = run_cli(*args)
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, f"{args}: exit {r.returncode}, {err}"
    for m in messages:
        assert m in err, f"{args}: {m!r} not in {err!r}"
    assert not out.exists(), f"{args}: wrote {out}"
    assert not [p.name for p in out.parent.iterdir() if p.name.startswith(out.name + ".tmp")]


@pytest.fixture
def small_tables(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("hello world, hello tables\n" * 50 + "numbers 12345 678\n" * 20)
    gpt4 = count_chunks(tmp_path, tmp_path / "gpt4.chunks", [a])
    nano = count_chunks(tmp_path, tmp_path / "nano.chunks", [a], "--pattern", "nanochat")
    return gpt4, nano


def test_pattern_mismatch(tmp_path, small_tables):
    gpt4, nano = small_tables
    out = tmp_path / "out.chunks"
    assert_fails(tmp_path, ["count", "--merge", "-o", out, gpt4, nano], [str(nano), "pattern"], out)
    model = tmp_path / "out.model"
    assert_fails(tmp_path, ["train", "--vocab-size", 300, "-o", model, "--from-counts", gpt4, nano],
                 [str(nano), "pattern"], model)
    assert_fails(tmp_path, ["train", "--vocab-size", 300, "-o", model, "--pattern", "nanochat", "--from-counts", gpt4],
                 ["--pattern differs"], model)
    # The table's own pattern is used when --pattern is not given.
    assert train_from(tmp_path, [nano], 300) == train_from(tmp_path, [nano], 300, "--pattern", "nanochat")


def test_corrupt_tables(tmp_path, small_tables):
    good = small_tables[0].read_bytes()
    plen = struct.unpack_from("<I", good, 40)[0]
    first_entry = 44 + plen
    cases = {
        # name: (bytes, message)
        "empty": (b"", "not a tokenmill chunk table"),
        "short magic": (good[:5], "not a tokenmill chunk table"),
        "bad magic": (b"XMCHUNKS" + good[8:], "bad magic"),
        "text file": (b"hello world\n" * 10, "bad magic"),
        "version 2": (good[:8] + struct.pack("<I", 2) + good[12:], "unsupported chunk table version 2"),
        "truncated header": (good[:30], "truncated chunk table"),
        "truncated pattern": (good[:50], "truncated chunk table"),
        "truncated entry": (good[:first_entry + 6], "truncated chunk table"),
        "truncated half": (good[:len(good) // 2], "truncated chunk table"),
        "no checksum": (good[:-8], "truncated chunk table"),
        "damaged count": (good[:first_entry + 5] + bytes([good[first_entry + 5] ^ 1]) + good[first_entry + 6:],
                          "corrupt chunk table"),
        "damaged checksum": (good[:-1] + bytes([good[-1] ^ 0x80]), "checksum mismatch"),
        "extra data": (good + b"\0", "data after the checksum"),
    }
    for name, (data, message) in cases.items():
        bad = tmp_path / f"bad-{name.replace(' ', '-')}.chunks"
        bad.write_bytes(data)
        out = tmp_path / "out.chunks"
        assert_fails(tmp_path, ["count", "--merge", "-o", out, small_tables[0], bad], [str(bad), message], out)
        model = tmp_path / "out.model"
        assert_fails(tmp_path, ["train", "--vocab-size", 300, "-o", model, "--from-counts", bad], [str(bad), message],
                     model)
    missing = tmp_path / "missing.chunks"
    assert_fails(tmp_path, ["train", "--vocab-size", 300, "-o", tmp_path / "m.model", "--from-counts", missing],
                 [str(missing)], tmp_path / "m.model")


def test_count_chunks_errors(tmp_path, small_tables):
    ok = tmp_path / "a.txt"
    out = tmp_path / "x.chunks"
    assert_fails(tmp_path, ["count", "--chunks", ok], ["-o"], out)
    assert_fails(tmp_path, ["count", "--chunks", "--merge", "-o", out, ok], ["--merge"], out)
    assert_fails(tmp_path, ["count", "--chunks", "-o", out, "--pattern", "(unclosed", ok], ["pattern"], out)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert_fails(tmp_path, ["count", "--chunks", "-o", out, empty], ["empty corpus"], out)
    assert_fails(tmp_path, ["count", "--chunks", "-o", out, tmp_path / "nope.txt"], ["nope.txt"], out)
    assert_fails(tmp_path, ["train", "--vocab-size", 300, "-o", tmp_path / "m.model", "--from-counts",
                            small_tables[0], ok], [str(ok), "not a tokenmill chunk table"], tmp_path / "m.model")
    # Token counting (issue 2) is still the default behaviour of `count`.
    r = run_cli("count", "-e", "cl100k_base", "-", stdin=b"hello world")
    assert r.returncode == 0 and r.stdout.strip() == b"2", r.stderr
