"""Generated input vs tiktoken: adversarial families for each alternative of the split patterns, random
strings over a class-covering alphabet, random code points, special-token text."""
from __future__ import annotations

import pytest

import cases
import harness


@pytest.mark.parametrize("family", list(cases.ADVERSARIAL))
def test_adversarial_encode_ordinary(encoding, family):
    harness.compare_encode_ordinary(encoding, cases.adversarial(family), f"adversarial {family}")


@pytest.mark.parametrize("family", ["special_text", "contractions", "punctuation", "whitespace"])
def test_adversarial_encode_allowed_special_all(encoding, family):
    cs = cases.adversarial(family)
    if family == "whitespace":
        cs = cs[::7]  # a sample: the special path matters where special text meets the rest
    harness.compare_encode_special(encoding, cs, f"adversarial {family}")


def test_special_text_is_really_special_somewhere(encoding):
    # Guard against a vacuous special-mode comparison: in every encoding some case must yield a special id.
    enc = harness.tiktoken_encoding(encoding)
    specials = set(enc._special_tokens.values())
    hits = sum(any(t in specials for t in enc.encode(c, allowed_special="all"))
               for c in cases.adversarial("special_text"))
    assert hits > 20, hits


def test_random_class_strings(encoding):
    cs = cases.random_class_strings()
    assert len(cs) >= 5000
    harness.compare_encode_ordinary(encoding, cs, "random class-covering strings")


def test_random_class_strings_special(encoding):
    harness.compare_encode_special(encoding, cases.random_class_strings()[:2000], "random class-covering strings")


def test_random_code_points(encoding):
    harness.compare_encode_ordinary(encoding, cases.random_codepoint_strings(), "random code points")
