"""Real text vs tiktoken: deterministic 64 KB windows (cut at line boundaries) at fixed offsets of each
corpus file, plus individual lines picked by a seeded generator, for every encoding."""
from __future__ import annotations

import functools
import os
import random
from pathlib import Path

import pytest

import harness

FILES = ["en.txt", "code.txt", "multi.txt"]
WINDOW = 64 * 1024
WINDOWS_PER_FILE = 24
LINES_PER_FILE = 500


def corpus_dir() -> Path:
    d = os.environ.get("TOKENMILL_CORPUS_DIR")
    if not d:
        pytest.skip("TOKENMILL_CORPUS_DIR is not set: real-corpus comparisons skipped (CI sets it)")
    path = Path(d)
    missing = [f for f in FILES if not (path / f).is_file()]
    if missing:
        pytest.fail(f"TOKENMILL_CORPUS_DIR={path} lacks {', '.join(missing)}")
    return path


def _line_bounded(data: bytes, at_start: bool) -> bytes:
    """Drop the partial line at the start (unless the window starts the file) and at the end."""
    if not at_start:
        nl = data.find(b"\n")
        data = data[nl + 1:] if nl >= 0 else b""
    nl = data.rfind(b"\n")
    return data[:nl + 1] if nl >= 0 else data


@functools.lru_cache(maxsize=None)
def corpus_samples(path_str: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[bytes, ...]]:
    """(windows, lines, not-UTF-8 windows or lines) of one file."""
    path = Path(path_str)
    size = path.stat().st_size
    texts: list[bytes] = []
    lines: list[bytes] = []
    with path.open("rb") as f:
        for i in range(WINDOWS_PER_FILE):
            start = 0 if i == 0 else (size * i) // WINDOWS_PER_FILE - WINDOW // 2
            start = max(0, min(start, size - WINDOW))
            f.seek(start)
            texts.append(_line_bounded(f.read(WINDOW + 4096), start == 0))
        rng = random.Random(f"tokenmill-corpus-{path.name}")
        for _ in range(LINES_PER_FILE):
            f.seek(rng.randrange(max(1, size - 8192)))
            chunk = f.read(8192)
            nl = chunk.find(b"\n")
            line = chunk[nl + 1:].split(b"\n", 1)[0] if nl >= 0 else b""
            lines.append(line + b"\n" if rng.random() < 0.5 else line)
    valid_windows, valid_lines, invalid = [], [], []
    for bucket, items in ((valid_windows, texts), (valid_lines, lines)):
        for b in items:
            try:
                bucket.append(b.decode("utf-8"))
            except UnicodeDecodeError:
                invalid.append(b)
    return tuple(valid_windows), tuple(valid_lines), tuple(invalid)


@pytest.mark.parametrize("name", FILES)
def test_corpus_encode_ordinary(encoding, name):
    windows, lines, invalid = corpus_samples(str(corpus_dir() / name))
    assert sum(len(w) for w in windows) > WINDOWS_PER_FILE * WINDOW // 2, "corpus windows unexpectedly small"
    cases = list(windows) + list(lines)
    harness.compare_encode_ordinary(encoding, cases, f"corpus {name} (windows + lines)")
    if invalid:
        harness.compare_encode_bytes(encoding, invalid, f"corpus {name} (not UTF-8)", mode="ordinary")


@pytest.mark.parametrize("name", FILES)
def test_corpus_count(encoding, name):
    windows, lines, _ = corpus_samples(str(corpus_dir() / name))
    cases = list(windows[:3]) + list(lines[:100])
    run = harness.tokenmill(encoding, "count", cases)
    enc = harness.tiktoken_encoding(encoding)
    expected = [[len(enc.encode_ordinary(c))] for c in cases]
    harness.assert_same(f"corpus {name} [{encoding} count]", cases, expected, [[n] for n in run.counts()])
    harness.tally("corpus / count", encoding, len(cases))
