"""Byte strings that are not valid UTF-8 vs tiktoken's _encode_bytes: tokenmill's encode_bytes and its
encode_ordinary (which follows _encode_bytes for such input) must both give tiktoken's ids."""
from __future__ import annotations

import pytest

import cases
import harness


@pytest.mark.parametrize("mode", ["bytes", "ordinary"])
def test_invalid_utf8(encoding, mode):
    cs = cases.invalid_utf8_cases()
    assert len(cs) > 3000
    harness.compare_encode_bytes(encoding, cs, "invalid UTF-8", mode=mode)


def test_valid_utf8_through_encode_bytes(encoding):
    # _encode_bytes on valid UTF-8 is encode_ordinary; tokenmill's encode_bytes must agree there too.
    cs = [c.encode() for c in cases.random_class_strings()[:1500]] + [c.encode() for c in cases.adversarial("marks")]
    harness.compare_encode_bytes(encoding, cs, "valid UTF-8", mode="bytes")


def test_invalid_cases_are_invalid():
    for c in cases.invalid_utf8_cases():
        with pytest.raises(UnicodeDecodeError):
            c.decode("utf-8")
