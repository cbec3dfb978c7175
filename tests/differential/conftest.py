"""Differential tests: tokenmill against tiktoken 0.14.0 (and bpe-openai where tiktoken cannot run).

Environment (scripts/test.sh sets all of these):
  TOKENMILL_CACHE_DIR       required: verified cl100k_base/o200k_base/p50k_base/r50k_base .tiktoken files
  TOKENMILL_ENCODE_RECORDS  required: the tests/differential/encode_records binary
  TOKENMILL_CLI             required by test_cli.py: the tokenmill command-line binary
  TOKENMILL_CORPUS_DIR      optional: en.txt, code.txt, multi.txt; corpus tests are skipped without it
  TOKENMILL_DEPS_DIR        optional: where npm @unicode/unicode-{15.1,16,17}.0.0 are (default: <repo>/.deps)

  TOKENMILL_CACHE_DIR=... TOKENMILL_ENCODE_RECORDS=build/tests/encode_records TOKENMILL_CLI=build/tokenmill \
    TOKENMILL_CORPUS_DIR=... .venv/bin/python -m pytest -q tests/differential
"""
from __future__ import annotations

import pytest

import harness


def pytest_sessionstart(session):
    # Without the oracle's rank files or the tokenmill driver nothing here can run: fail loudly, never skip.
    try:
        harness.cache_dir()
        harness.encode_records_path()
    except harness.HarnessError as e:
        raise pytest.UsageError(f"differential tests: {e}")
    import tiktoken

    if tiktoken.__version__ != "0.14.0":
        raise pytest.UsageError(f"differential tests need tiktoken 0.14.0 (the oracle), found {tiktoken.__version__}")


def pytest_terminal_summary(terminalreporter):
    lines = harness.summary_lines()
    if lines:
        terminalreporter.section("differential coverage")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(params=harness.ENCODINGS)
def encoding(request) -> str:
    return request.param
