"""tests/python: the `tokenmill` Python package checked against tiktoken 0.14.0 and rustbpe 0.1.0, called
side by side in each test (expected values always come from the reference, never from tokenmill).

Environment:
  TOKENMILL_CACHE_DIR   required: the verified *.tiktoken rank files; tiktoken is built offline from them
                        (tests/differential/harness.py) and tokenmill.get_encoding reads the same cache
  TOKENMILL_CORPUS_DIR  optional: en.txt, code.txt, multi.txt; corpus tests are skipped without it

  pip install . && TOKENMILL_CACHE_DIR=... TOKENMILL_CORPUS_DIR=... python -m pytest -q tests/python
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "differential"))
import harness  # noqa: E402  (offline tiktoken: the differential suite's oracle)

ENCODINGS = harness.ENCODINGS


def pytest_sessionstart(session):
    try:
        harness.cache_dir()
    except harness.HarnessError as e:
        raise pytest.UsageError(f"python tests: {e}")
    import tiktoken
    import rustbpe  # noqa: F401

    if tiktoken.__version__ != "0.14.0":
        raise pytest.UsageError(f"python tests need tiktoken 0.14.0 (the oracle), found {tiktoken.__version__}")
    import tokenmill  # fail loudly if the package is not installed

    here = Path(__file__).resolve().parents[2] / "python"
    if Path(tokenmill.__file__).resolve().parent.parent == here:
        raise pytest.UsageError("tokenmill imported from the source tree (no _core): run from outside python/")


@pytest.fixture(params=ENCODINGS)
def name(request) -> str:
    return request.param


def tiktoken_encoding(name: str):
    return harness.tiktoken_encoding(name)


def corpus_text(file: str, max_bytes: int) -> str:
    d = os.environ.get("TOKENMILL_CORPUS_DIR")
    if not d:
        pytest.skip("TOKENMILL_CORPUS_DIR is not set: corpus tests skipped")
    p = Path(d) / file
    if not p.is_file():
        pytest.skip(f"{p} not found")
    with open(p, "rb") as f:
        data = f.read(max_bytes)
    return data.decode("utf-8", errors="ignore")


def corpus_lines(file: str, max_bytes: int) -> list[str]:
    """What `for line in open(path)` yields for the first max_bytes of the file (whole lines)."""
    text = corpus_text(file, max_bytes)
    return [line + "\n" for line in text.split("\n")[:-1]]
