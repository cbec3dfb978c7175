"""Custom split patterns (the PCRE2 path) against tiktoken itself: a tiktoken.Encoding and a tokenmill model
built from the same pattern and the same ranks (r50k_base's) must give the same ids on random strings. The
patterns are the ones where PCRE2 and tiktoken's engine (fancy-regex over the regex crate) read escapes
differently: \\s and \\S inside classes (White_Space: U+0085 yes, U+180E no), \\h / \\H (a hex digit in
fancy-regex), POSIX classes (ASCII in the regex crate)."""
from __future__ import annotations

import base64
import random
import zlib

import pytest
import tiktoken

import harness

PATTERNS = [
    r"[\s\S]+",
    r"[[:alpha:]\s]+|.",
    r"[\S]+|\s+",
    r"[^\S]+|\S+",
    r"[^\s]+|[\s]+",
    r"\h+|.",
    r"[\h\s]+|.",
    r"\H+|\h+",
    r"[\H]+|.",
    r"[[:^alpha:]]+|.",
    r"[[:punct:][:digit:]]+|[[:space:]]+|[[:upper:]]+|.",
    r"[[:word:]]+|[[:^word:]\n]+",
    r" ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+|\p{L}+|\p{N}+",
    r"[\s\d]+|[^\s\d]+",
]

# Characters where the engines' classes differ, and their neighbours.
ALPHABET = (list("abcxyzAFGZ09_ ,.!?/:[]{}-'\"\\") + ["\t", "\n", "\r", "\x0b", "\x0c", "\x1f", "\x7f"]
            + ["\u0085", "\u00a0", "\u1680", "\u180e", "\u2000", "\u200a", "\u200b", "\u2028", "\u2029",
               "\u202f", "\u205f", "\u3000", "\ufeff", "é", "ß", "Ω", "д", "日", "١", "٣", "\u0301", "👍", "\U0001d7d8"])


def random_strings(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 24))) for _ in range(n)]


def write_model(path, pattern: str, ranks: dict[bytes, int]) -> None:
    """A version 1 model file (still read): pattern and ranks, no checksum line."""
    lines = [b"tokenmill-model 1", b"pattern " + base64.b64encode(pattern.encode()), b"ranks %d" % len(ranks)]
    lines += [base64.b64encode(t) + b" %d" % r for t, r in sorted(ranks.items(), key=lambda kv: kv[1])]
    path.write_bytes(b"\n".join(lines) + b"\n")


@pytest.mark.parametrize("pattern", PATTERNS)
def test_custom_pattern_matches_tiktoken_on_random_strings(pattern, tmp_path):
    ranks = harness.tiktoken_spec("r50k_base")["mergeable_ranks"]
    ref = tiktoken.Encoding("custom", pat_str=pattern, mergeable_ranks=ranks, special_tokens={})
    model = tmp_path / "custom.model"
    write_model(model, pattern, ranks)
    cases = random_strings(3000, seed=zlib.crc32(pattern.encode()))
    got = harness.tokenmill(f"model:{model}", "ordinary", cases).ids()
    bad = [(c, g, ref.encode_ordinary(c)) for c, g in zip(cases, got) if g != ref.encode_ordinary(c)]
    harness.tally("custom patterns vs tiktoken", "r50k_base ranks", len(cases))
    assert not bad, f"{len(bad)} of {len(cases)} differ from tiktoken for {pattern!r}; first: {bad[0]!r}"
