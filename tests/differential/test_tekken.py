"""Mistral's Tekken files against mistral-common 1.13.1 itself (its Tekkenizer, the oracle): the two files
it ships (tekken_240718.json and tekken_240911.json), on the generated cases, random strings over the
characters the split pattern classifies, and corpus windows; encode (through encode_records, the same
Encoding the CLI's --tekken and the library's Tekken use) and the CLI's encode and decode."""
from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

import pytest

import cases
import harness

FILES = ["tekken_240718.json", "tekken_240911.json"]


def tekken_path(name: str) -> Path:
    try:
        import mistral_common
    except ImportError:
        pytest.fail("mistral-common is missing: scripts/setup.sh --test installs mistral-common==1.13.1")
    p = Path(mistral_common.__file__).parent / "data" / name
    if not p.is_file():
        pytest.fail(f"{p} is missing from mistral-common {mistral_common.__version__}")
    return p


def oracle(name: str):
    import mistral_common
    from mistral_common.tokens.tokenizers.tekken import Tekkenizer

    if mistral_common.__version__ != "1.13.1":
        pytest.fail(f"the oracle is mistral-common 1.13.1, found {mistral_common.__version__}")
    return Tekkenizer.from_file(tekken_path(name))


def generated() -> list[str]:
    out: list[str] = []
    for make in (cases.whitespace_cases, cases.digit_cases, cases.contraction_cases, cases.script_cases,
                 cases.mark_cases, cases.case_class_cases, cases.emoji_cases, cases.long_word_cases,
                 cases.punct_cases, cases.special_text_cases):
        out += make()
    # Text that names Tekken's own special tokens: mistral-common never reads them from text.
    out += ["<s>", "</s>", "[INST] hi [/INST]", "<SPECIAL_999>", "<unk><pad>[IMG]"]
    alphabet = (list("aAzZ09 .,'/\n\r\t-_") + ["\u00a0", "\u0085", "é", "ß", "Ω", "д", "日", "ー", "ǅ", "\u0301",
                                               "١", "²", "👍", "\U0001d7d8", "ʰ", "ª"])
    rng = random.Random(240911)
    out += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(3000)]
    return out


def corpus_windows() -> list[str]:
    d = os.environ.get("TOKENMILL_CORPUS_DIR")
    if not d:
        pytest.skip("TOKENMILL_CORPUS_DIR is not set: real-corpus comparisons skipped (CI sets it)")
    out = []
    for f in ("en.txt", "code.txt", "multi.txt"):
        data = (Path(d) / f).read_bytes()
        for k in range(4):
            start = len(data) * k // 4
            out.append(data[start:start + 128 * 1024].decode("utf-8", errors="ignore"))
    return out


@pytest.mark.parametrize("name", FILES)
def test_encode_matches_mistral_common(name):
    ref = oracle(name)
    texts = generated()
    got = harness.tokenmill(f"tekken:{tekken_path(name)}", "ordinary", texts).ids()
    expected = [ref.encode(t, bos=False, eos=False) for t in texts]
    harness.assert_same(f"{name} generated", texts, expected, got, oracle="mistral-common")


@pytest.mark.parametrize("name", FILES)
def test_corpus_windows_match_mistral_common(name):
    ref = oracle(name)
    texts = corpus_windows()
    got = harness.tokenmill(f"tekken:{tekken_path(name)}", "ordinary", texts).ids()
    expected = [ref.encode(t, bos=False, eos=False) for t in texts]
    harness.assert_same(f"{name} corpus", texts, expected, got, oracle="mistral-common")


def cli(*args: str, stdin: bytes) -> bytes:
    out = subprocess.run([harness.required_env("TOKENMILL_CLI", "the tokenmill binary"), *args], input=stdin,
                         capture_output=True)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return out.stdout


def test_cli_encode_and_decode_match_mistral_common():
    name = "tekken_240911.json"
    ref = oracle(name)
    path = str(tekken_path(name))
    from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy

    text = "Hello <s> world!\n\tünïcode 12345 日本語 👍🏽 [INST] x"
    ids = [int(v) for v in cli("encode", "--tekken", path, "-", stdin=text.encode()).split()]
    assert ids == ref.encode(text, bos=False, eos=False)
    # Decoding writes special tokens' names (mistral-common's KEEP policy); ids that split a character
    # are replaced as Python's errors="replace" does, run by run.
    rng = random.Random(7)
    for _ in range(20):
        seq = [rng.choice([1, 2, 3, 999, rng.randrange(1000, 1256), rng.randrange(1000, ref.n_words)])
               for _ in range(rng.randint(1, 12))]
        got = cli("decode", "--tekken", path, "-", stdin=" ".join(map(str, seq)).encode()).decode()
        assert got == ref.decode(seq, special_token_policy=SpecialTokenPolicy.KEEP), seq
