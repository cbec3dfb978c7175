"""count == len(tiktoken encode_ordinary); the hand-written splitters == PCRE2 with the same pattern."""
from __future__ import annotations

import pytest

import cases
import harness


def test_count(encoding):
    cs = (list(cases.random_class_strings()[:2000]) + list(cases.adversarial("whitespace")[::10])
          + list(cases.adversarial("long_words")) + list(cases.adversarial("case_classes")[::4]))
    run = harness.tokenmill(encoding, "count", cs)
    enc = harness.tiktoken_encoding(encoding)
    expected = [[len(enc.encode_ordinary(c))] for c in cs]
    harness.assert_same(f"count [{encoding}]", cs, expected, [[n] for n in run.counts()])
    harness.tally("generated / count vs len(encode_ordinary)", encoding, len(cs))


def test_count_invalid_utf8(encoding):
    cs = cases.invalid_utf8_cases()[:2000]
    run = harness.tokenmill(encoding, "count", cs)
    enc = harness.tiktoken_encoding(encoding)
    expected = [[len(enc._encode_bytes(c))] for c in cs]
    harness.assert_same(f"count invalid UTF-8 [{encoding}]", cs, expected, [[n] for n in run.counts()])
    harness.tally("invalid UTF-8 / count vs len(_encode_bytes)", encoding, len(cs))


# gpt2, r50k_base, p50k_base and p50k_edit share one pattern, o200k_harmony has o200k_base's.
PATTERN_REPRESENTATIVES = ["r50k_base", "cl100k_base", "o200k_base"]

# PCRE2 counts U+180E MONGOLIAN VOWEL SEPARATOR as \s (it is in PCRE2's fixed \h list), although it has not
# been White_Space since Unicode 6.3; the regex crate (tiktoken) follows White_Space. That is a defect of the
# PCRE2 path itself, checked separately by test_pcre2_whitespace_is_white_space, so it is kept out of the
# splitter-vs-PCRE2 comparison, which is about the hand-written splitters.
PCRE2_H_NOT_WHITE_SPACE = "\u180e"


def _split_cases():
    # Characters from Unicode <= 9.0 only: Debian's PCRE2 10.42 has older Unicode tables than tokenmill.
    ws = [s for s in cases.adversarial("whitespace")[::5] if all(ord(ch) < 0x2100 or ch in "\u3000\u205f" for ch in s)]
    return [s for s in list(cases.random_old_strings()) + ws if PCRE2_H_NOT_WHITE_SPACE not in s]


def test_split_matches_pcre2(encoding):
    cs = _split_cases()
    hand = harness.tokenmill(encoding, "split", cs)
    pcre = harness.tokenmill(encoding, "split_regex", cs)
    got, expected = hand.pieces(), pcre.pieces()
    harness.assert_same(f"split vs PCRE2 [{encoding}]", cs, expected, got, oracle="PCRE2")
    for c, ps in zip(cs, got):
        assert b"".join(ps) == c.encode(), f"pieces of {c!r} do not concatenate to it: {ps!r}"
    harness.tally("random pre-Unicode-10 strings / split vs split_regex (PCRE2)", encoding, len(cs))


def _regex_module_pieces(name, cs):
    import regex

    pat = regex.compile(harness.tiktoken_spec(name)["pat_str"])
    return [[m.encode() for m in pat.findall(c)] for c in cs]


def test_split_matches_python_regex():
    """A third opinion on the pieces: the `regex` module (tiktoken's own dependency) with tiktoken's pattern."""
    cs = _split_cases()
    for name in PATTERN_REPRESENTATIVES:
        run = harness.tokenmill(name, "split", cs)
        harness.assert_same(f"split vs regex module [{name}]", cs, _regex_module_pieces(name, cs), run.pieces(),
                            oracle="regex")
        harness.tally("random pre-Unicode-10 strings / split vs Python regex module", name, len(cs))


@pytest.mark.parametrize("name", PATTERN_REPRESENTATIVES)
def test_pcre2_whitespace_is_white_space(name):
    r"""tokenmill's PCRE2 splitter (the engine for user-defined patterns) must agree with tiktoken's regex
    engine on what \s is: White_Space, no more (U+180E, U+200B, U+FEFF, 1C..1F) and no less (U+0085).
    tiktoken's ids show its view: cl100k "  \u180e" is [220, 87189, 254, 236] (pieces ' ' and ' \u180e'),
    whereas a whitespace run "  \u2028" is [256, 378, 101] (one piece)."""
    chars = cases.WHITESPACE + cases.NOT_WHITESPACE
    cs = [b + c * n + a for c in chars for n in (1, 2) for b in ("", " ", "a", "\n")
          for a in ("", "'s", "a", " a", "1", ".", "\n", " ")]
    run = harness.tokenmill(name, "split_regex", cs)
    harness.assert_same(f"PCRE2 split vs regex module [{name}]", cs, _regex_module_pieces(name, cs), run.pieces(),
                        oracle="regex")
    harness.tally("whitespace look-alikes / split_regex (PCRE2) vs Python regex module", name, len(cs))
