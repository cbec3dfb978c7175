"""tests/dataset: `tokenmill tokenize` end to end. Expected ids come from tiktoken 0.14.0 (built offline from
the verified rank files by tests/differential/harness.py) applied to what Python itself reads from the input
(json.loads, open() with universal newlines and errors="replace"); the shards are read back by the readers in
formats.py, written from the formats' documentation, not from tokenmill's writer.

Environment (scripts/test.sh sets both):
  TOKENMILL_CACHE_DIR   required: the verified *.tiktoken rank files
  TOKENMILL_CLI         required: the tokenmill binary

  TOKENMILL_CACHE_DIR=... TOKENMILL_CLI=build/tokenmill .venv/bin/python -m pytest -q tests/dataset
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "differential"))
import harness  # noqa: E402


def pytest_sessionstart(session):
    try:
        harness.cache_dir()
    except harness.HarnessError as e:
        raise pytest.UsageError(f"dataset tests: {e}")
    cli = os.environ.get("TOKENMILL_CLI")
    if not cli or not os.access(cli, os.X_OK):
        raise pytest.UsageError("dataset tests: set TOKENMILL_CLI to the tokenmill binary")
    import tiktoken

    if tiktoken.__version__ != "0.14.0":
        raise pytest.UsageError(f"dataset tests need tiktoken 0.14.0, found {tiktoken.__version__}")
