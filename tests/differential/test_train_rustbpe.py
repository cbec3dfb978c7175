"""`tokenmill train` against Karpathy's rustbpe 0.1.0, which trains the same documents in this process.

Expected merges always come from rustbpe (or from ../shared/golden/rustbpe, which rustbpe produced), never
from tokenmill. Both sides write the vocabulary as a .tiktoken file (rank = id, token bytes in base64), so
"identical merges" is "identical files, byte for byte".

  - corpus slices (English, code, many scripts) as lines, at several vocab sizes, GPT-4 and nanochat patterns
  - adversarial documents (through JSON Lines, so a document may hold any text): runs of spaces and of one
    letter, a million `a`, a million spaces, digits, every adversarial family of cases.py, random strings
  - what Python's open() does to a file: universal newlines, errors="replace", several files, stdin, whole
  - nanochat's --doc-cap / --max-chars iterator
  - round trip: the written .tiktoken in tiktoken 0.14.0 encodes text exactly as `tokenmill encode --model`
  - golden: full en.txt / multi.txt against the files in ../shared/golden/rustbpe
  - errors: exit status 1, a message naming the problem, and no output file left behind

Env: TOKENMILL_CLI (the tokenmill binary), TOKENMILL_CORPUS_DIR (en.txt, code.txt, multi.txt; corpus tests
are skipped without it), TOKENMILL_GOLDEN_DIR (default <repo>/../shared/golden/rustbpe).
"""
from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import importlib.metadata
import itertools
import json
import os
import random
import subprocess
from pathlib import Path

import pytest

import cases

GPT4 = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"""
NANOCHAT = GPT4.replace(r"\p{N}{1,3}", r"\p{N}{1,2}")
PATTERNS = {"gpt4": GPT4, "nanochat": NANOCHAT}
REPO = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=None)
def rustbpe():
    try:
        import rustbpe as mod
    except ImportError as e:  # a missing oracle is a failure (conftest.py), never a skip
        pytest.fail(f"the reference rustbpe 0.1.0 is not installed ({e}): pip install -r requirements-test.txt")
    version = importlib.metadata.version("rustbpe")
    if version != "0.1.0":
        pytest.fail(f"these tests need rustbpe 0.1.0 (the reference), found {version}")
    return mod


@functools.lru_cache(maxsize=None)
def cli() -> str:
    path = os.environ.get("TOKENMILL_CLI")
    if not path or not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"TOKENMILL_CLI={path!r} must be the tokenmill binary")
    return path


def corpus_file(name: str) -> Path:
    d = os.environ.get("TOKENMILL_CORPUS_DIR")
    if not d or not (Path(d) / name).is_file():
        pytest.skip(f"TOKENMILL_CORPUS_DIR has no {name}")
    return Path(d) / name


def as_tiktoken(ranks) -> bytes:
    return b"".join(base64.b64encode(bytes(tok)) + b" %d\n" % rank for tok, rank in sorted(ranks, key=lambda x: x[1]))


def rustbpe_train(docs, vocab_size: int, pattern: str = GPT4) -> bytes:
    """rustbpe's vocabulary for these documents, as .tiktoken text."""
    t = rustbpe().Tokenizer()
    t.train_from_iterator(iter(docs), vocab_size, pattern=pattern)
    return as_tiktoken(t.get_mergeable_ranks())


def run_cli(*args, stdin: bytes = b"", timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([cli(), *map(str, args)], input=stdin, capture_output=True, timeout=timeout)


def tokenmill_train(tmp_path: Path, inputs, vocab_size: int, pattern: str = "gpt4", *extra, stdin: bytes = b""):
    model, tik = tmp_path / "out.model", tmp_path / "out.tiktoken"
    r = run_cli("train", "--vocab-size", vocab_size, "--pattern", pattern, "-o", model, "--tiktoken", tik,
                *extra, *inputs, stdin=stdin)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return tik.read_bytes(), r


def first_difference(expected: bytes, got: bytes) -> str:
    e, g = expected.splitlines(), got.splitlines()
    for i, (a, b) in enumerate(zip(e, g)):
        if a != b:
            def show(line):
                tok, rank = line.split()
                return f"{base64.b64decode(tok)!r} {rank.decode()}"
            return f"first difference at rank line {i}: rustbpe {show(a)}, tokenmill {show(b)}"
    return f"rustbpe has {len(e)} ranks, tokenmill {len(g)}"


def assert_same_vocab(label: str, expected: bytes, got: bytes):
    assert expected == got, f"{label}: {first_difference(expected, got)}"


def write_jsonl(path: Path, docs) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"text": d}) + "\n")
    return path


def slice_lines(name: str, mb: float, tmp_path: Path, skip_mb: float = 0) -> Path:
    """The first `mb` MB of a corpus file (after `skip_mb`), cut at line boundaries."""
    data = corpus_file(name).read_bytes()[int(skip_mb * 1e6): int((skip_mb + mb) * 1e6)]
    if skip_mb:
        data = data[data.index(b"\n") + 1:]
    data = data[: data.rindex(b"\n") + 1]
    out = tmp_path / f"{name}.{mb}.txt"
    out.write_bytes(data)
    return out


def lines_of(path: Path, **kw):
    return open(path, encoding="utf-8", **kw)  # exactly what train_from_iterator(open(path)) sees


# ---------------------------------------------------------------------------------------------------------
# corpus slices, each line a document

@pytest.mark.parametrize("name,mb,vocab,pattern", [
    ("en.txt", 5, 2048, "gpt4"),
    ("en.txt", 2, 512, "nanochat"),
    ("en.txt", 3, 4096, "nanochat"),
    ("code.txt", 5, 4096, "gpt4"),
    ("code.txt", 3, 2048, "nanochat"),
    ("multi.txt", 5, 4096, "gpt4"),
    ("multi.txt", 2, 512, "nanochat"),
    ("multi.txt", 3, 2048, "gpt4"),
])
def test_corpus_slice(tmp_path, name, mb, vocab, pattern):
    path = slice_lines(name, mb, tmp_path)
    expected = rustbpe_train(lines_of(path), vocab, PATTERNS[pattern])
    got, _ = tokenmill_train(tmp_path, [path], vocab, pattern)
    assert_same_vocab(f"{name}[:{mb}MB] v{vocab} {pattern}", expected, got)


def test_custom_regex_pattern(tmp_path):
    # A pattern with no built-in scanner runs on PCRE2 in tokenmill and on fancy-regex in rustbpe.
    pattern = r"[a-z]+| ?[0-9]+|\s+|[^a-z0-9\s]+"
    path = slice_lines("en.txt", 1, tmp_path)
    expected = rustbpe_train(lines_of(path), 1024, pattern)
    got, _ = tokenmill_train(tmp_path, [path], 1024, pattern)
    assert_same_vocab("custom regex", expected, got)


# ---------------------------------------------------------------------------------------------------------
# adversarial documents (JSON Lines carries any text as one document)

def adversarial_docs(kind: str) -> list[str]:
    rng = random.Random(kind)
    if kind == "space_runs":
        return ([" " * n for n in (1, 2, 3, 7, 100, 1000, 100_000)] + [" " * n + "x" for n in (1, 5, 50_000)]
                + ["\t " * 500 + "\n", "a  b   c    d", "  \n\n  x \r\n"])
    if kind == "million_a":
        return ["a" * 1_000_000, "ab" * 300_000, "hello world", "aaa aaaa a"]
    if kind == "repeated":
        return ["the quick brown fox jumps\n"] * 50_000 + ["lazy dog\n"] * 3 + ["x"]
    if kind == "digits":
        return ["".join(rng.choice("0123456789 ,.\n") for _ in range(rng.randint(1, 200))) for _ in range(3000)] + [
            "1" * 100_000, "٣٤٥ ١٢٣ 12345 ²³ 1½"]
    if kind == "ties":
        # Every pair occurs exactly as often: only the (left, right) tie-break orders the merges.
        return ["ab cd ef gh ij kl", "zy xw vu ts", "ba dc fe hg"]
    if kind == "mixed_scripts":
        docs = []
        for family in cases.ADVERSARIAL:
            docs += list(cases.adversarial(family))
        return docs
    if kind == "random_classes":
        return list(cases.random_class_strings())
    raise ValueError(kind)


@pytest.mark.parametrize("kind,vocab", [
    ("space_runs", 600), ("million_a", 400), ("repeated", 400), ("digits", 1200), ("ties", 300),
    ("mixed_scripts", 3000), ("random_classes", 3000),
])
@pytest.mark.parametrize("pattern", ["gpt4", "nanochat"])
def test_adversarial_documents(tmp_path, kind, vocab, pattern):
    docs = adversarial_docs(kind)
    expected = rustbpe_train(docs, vocab, PATTERNS[pattern])
    got, _ = tokenmill_train(tmp_path, [write_jsonl(tmp_path / "docs.jsonl", docs)], vocab, pattern,
                             "--input-format", "jsonl")
    assert_same_vocab(f"{kind} v{vocab} {pattern}", expected, got)


def test_million_spaces(tmp_path):
    # rustbpe's fancy-regex overflows its stack on a million spaces under GPT4_PATTERN, so the reference runs
    # with \s+, which cuts these whitespace-only documents (no newline before the end) into the same chunk
    # the GPT-4 pattern gives: the whole document.
    docs = [" " * 1_000_000, " " * 1_000_000 + "\n", "\t \t" * 1000, " " * 3 + "\n"]
    expected = rustbpe_train(docs, 300, r"\s+")
    got, _ = tokenmill_train(tmp_path, [write_jsonl(tmp_path / "docs.jsonl", docs)], 300, "gpt4",
                             "--input-format", "jsonl")
    assert_same_vocab("a million spaces", expected, got)


def test_no_pair_left(tmp_path):
    docs = ["ab", "ab", "c", "abab"]
    expected = rustbpe_train(docs, 1000)
    got, r = tokenmill_train(tmp_path, [write_jsonl(tmp_path / "docs.jsonl", docs)], 1000, "gpt4",
                             "--input-format", "jsonl")
    assert_same_vocab("no pair left", expected, got)
    assert len(got.splitlines()) < 1000
    assert b"no pair left" in r.stderr


# ---------------------------------------------------------------------------------------------------------
# files as Python reads them

def test_universal_newlines_and_last_line(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"one two\r\nthree\rfour\n\r\n\rfive six\r\r\nseven eight nine" * 200 + b"tail\r")
    expected = rustbpe_train(lines_of(path), 400)
    got, _ = tokenmill_train(tmp_path, [path], 400)
    assert_same_vocab("universal newlines", expected, got)


def test_invalid_utf8_is_replaced(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"caf\xe9 ol\xc3 \xf0\x9f\x98 ok\xff\xfe done\n" * 300 + "caf\u00e9 \U0001F600\n".encode() * 100)
    expected = rustbpe_train(lines_of(path, errors="replace"), 400)
    got, _ = tokenmill_train(tmp_path, [path], 400)
    assert_same_vocab("invalid UTF-8 (errors='replace')", expected, got)


def test_several_files_and_stdin(tmp_path):
    a = slice_lines("en.txt", 0.5, tmp_path)
    b = tmp_path / "b.txt"
    b.write_bytes(slice_lines("code.txt", 0.5, tmp_path).read_bytes() + b"no newline at the end")
    expected = rustbpe_train(itertools.chain(lines_of(a), lines_of(b)), 1024)
    got, _ = tokenmill_train(tmp_path, [a, b], 1024)
    assert_same_vocab("two files", expected, got)
    got_stdin, _ = tokenmill_train(tmp_path, [a, "-"], 1024, stdin=b.read_bytes())
    assert_same_vocab("file + stdin", expected, got_stdin)


def test_whole_files(tmp_path):
    a = slice_lines("en.txt", 0.3, tmp_path)
    b = slice_lines("multi.txt", 0.3, tmp_path)
    expected = rustbpe_train([open(a, encoding="utf-8").read(), open(b, encoding="utf-8").read()], 1024)
    got, _ = tokenmill_train(tmp_path, [a, b], 1024, "gpt4", "--input-format", "whole")
    assert_same_vocab("whole files", expected, got)


def nanochat_documents(path, doc_cap, max_chars):
    """nanochat's tok_train.py text_iterator over the lines of path: truncate each document to doc_cap
    characters, stop after the document that crosses max_chars."""
    nchars = 0
    for doc in lines_of(path):
        doc = doc[:doc_cap]
        nchars += len(doc)
        yield doc
        if nchars > max_chars:
            return


def test_doc_cap_and_max_chars(tmp_path):
    path = slice_lines("multi.txt", 2, tmp_path)
    expected = rustbpe_train(nanochat_documents(path, 80, 400_000), 1024, NANOCHAT)
    got, _ = tokenmill_train(tmp_path, [path], 1024, "nanochat", "--doc-cap", 80, "--max-chars", 400_000)
    assert_same_vocab("--doc-cap 80 --max-chars 400000", expected, got)


# ---------------------------------------------------------------------------------------------------------
# round trip into tiktoken and back into tokenmill

def test_round_trip_tiktoken_and_tokenmill(tmp_path):
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    train = slice_lines("en.txt", 2, tmp_path)
    model, tik = tmp_path / "rt.model", tmp_path / "rt.tiktoken"
    r = run_cli("train", "--vocab-size", 4096, "-o", model, "--tiktoken", tik, "--special", "<|bos|>",
                "--special", "<|eos|>", "-q", train)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stderr == b""  # --quiet
    assert tik.read_bytes() == rustbpe_train(lines_of(train), 4096)
    # nanochat's scheme: special tokens take ids from the number of ranks upward.
    enc = tiktoken.Encoding(name="trained", pat_str=GPT4, mergeable_ranks=load_tiktoken_bpe(str(tik)),
                            special_tokens={"<|bos|>": 4096, "<|eos|>": 4097})
    for name in ["en.txt", "code.txt", "multi.txt"]:
        text = slice_lines(name, 0.3, tmp_path, skip_mb=10).read_text(encoding="utf-8")
        sample = tmp_path / f"sample-{name}"
        sample.write_text(text, encoding="utf-8")
        out = run_cli("encode", "--model", model, "--ordinary", sample)
        assert out.returncode == 0, out.stderr.decode()
        got = [int(t) for t in out.stdout.split()]
        expected = enc.encode_ordinary(text)
        assert got == expected, f"{name}: first difference at {next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)}"
        back = run_cli("decode", "--model", model, "-", stdin=out.stdout)
        assert back.returncode == 0 and back.stdout == text.encode()
    special = run_cli("encode", "--model", model, "--allowed-special", "all", "-", stdin=b"<|bos|>hi<|eos|>")
    assert special.returncode == 0, special.stderr.decode()
    assert [int(t) for t in special.stdout.split()] == enc.encode("<|bos|>hi<|eos|>", allowed_special="all")


# ---------------------------------------------------------------------------------------------------------
# golden files made by rustbpe on the full corpora

GOLDEN = [  # file stem, corpus, pattern, vocab
    ("en_lines_nanochat_v8192", "en.txt", "nanochat", 8192),
    ("en_lines_v32768", "en.txt", "gpt4", 32768),
    ("multi_lines_v16384", "multi.txt", "gpt4", 16384),
]


def golden_dir() -> Path:
    return Path(os.environ.get("TOKENMILL_GOLDEN_DIR", REPO.parent / "shared" / "golden" / "rustbpe"))


@pytest.mark.parametrize("stem,corpus,pattern,vocab", GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden(tmp_path, stem, corpus, pattern, vocab):
    gold = golden_dir() / f"{stem}.tiktoken.gz"
    if not gold.is_file():
        pytest.skip(f"no golden file {gold}")
    path = corpus_file(corpus)
    # The golden merges hold for the corpus version named in the README (sha256); another version needs
    # a fresh reference run, never tokenmill's own output.
    readme = (golden_dir() / "README.md").read_text()
    want = next((l.split()[-1] for l in readme.splitlines() if l.startswith(f"out {corpus} ")), None)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            h.update(block)
    if want and h.hexdigest() != want:
        pytest.skip(f"{path} is not the corpus the golden files were made from (sha256 {h.hexdigest()})")
    got, r = tokenmill_train(tmp_path, [path], vocab, pattern)
    assert_same_vocab(stem, gzip.decompress(gold.read_bytes()), got)


# ---------------------------------------------------------------------------------------------------------
# errors: exit 1, a clear message, no output file

def assert_fails(tmp_path, args, message: str, stdin: bytes = b""):
    model = tmp_path / "fail.model"
    r = run_cli("train", "-o", model, "--tiktoken", tmp_path / "fail.tiktoken", *args, stdin=stdin)
    assert r.returncode != 0, f"{args}: accepted"
    assert message in r.stderr.decode(errors="replace"), r.stderr.decode(errors="replace")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith("fail.")]
    assert leftovers == [], f"{args}: left {leftovers}"


def test_errors(tmp_path):
    ok = tmp_path / "ok.txt"
    ok.write_text("hello world\n" * 10)
    assert_fails(tmp_path, ["--vocab-size", 255, ok], "vocab-size")
    assert_fails(tmp_path, ["--vocab-size", 2**31 + 1, ok], "vocab-size")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert_fails(tmp_path, ["--vocab-size", 300, empty], "empty corpus")
    assert_fails(tmp_path, ["--vocab-size", 300, "-"], "empty corpus", stdin=b"")
    missing = tmp_path / "no-such-file.txt"
    assert_fails(tmp_path, ["--vocab-size", 300, ok, missing], str(missing))
    assert_fails(tmp_path, ["--vocab-size", 300, tmp_path], str(tmp_path))
    assert_fails(tmp_path, ["--vocab-size", 300, "--pattern", "(unclosed", ok], "pattern")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a"}\n{"text": "b"}\n{"text": oops}\n')
    assert_fails(tmp_path, ["--vocab-size", 300, "--input-format", "jsonl", bad], f"{bad}:3:")
    nofield = tmp_path / "nofield.jsonl"
    nofield.write_text('{"text": "a"}\n\n{"body": "b"}\n')
    assert_fails(tmp_path, ["--vocab-size", 300, "--input-format", "jsonl", nofield], f"{nofield}:3: no field \"text\"")
    notstr = tmp_path / "notstr.jsonl"
    notstr.write_text('{"text": 5}\n')
    assert_fails(tmp_path, ["--vocab-size", 300, "--input-format", "jsonl", notstr], "not a string")
    r = run_cli("train", "--vocab-size", 300, "-o", tmp_path / "no-such-dir" / "m.model", ok)
    assert r.returncode != 0 and b"no-such-dir" in r.stderr
