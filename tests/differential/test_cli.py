"""The tokenmill command-line tool ($TOKENMILL_CLI) against tiktoken: encode (text and --binary), decode
round trip, count, --allowed-special, and its error exits."""
from __future__ import annotations
import random

import functools
import os
import struct
import subprocess
from pathlib import Path

import pytest

import cases
import harness


@functools.lru_cache(maxsize=None)
def cli() -> str:
    try:
        path = harness.required_env("TOKENMILL_CLI", "the tokenmill command-line binary")
    except harness.HarnessError as e:
        pytest.fail(str(e))
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"TOKENMILL_CLI={path} is not an executable file")
    return path


def run(*args, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([cli(), *map(str, args)], input=stdin, capture_output=True, timeout=120)


def parse_text_ids(out: bytes) -> list[int]:
    return [int(t) for t in out.split()]


@functools.lru_cache(maxsize=None)
def sample_text() -> str:
    """~150 KB of mixed text without special-token text (encode refuses that by default)."""
    parts = []
    for family in ["scripts", "contractions", "emoji", "punctuation", "marks", "case_classes", "digits"]:
        parts += cases.adversarial(family)[::3]
    parts += cases.adversarial("whitespace")[::40]
    parts += cases.random_class_strings()[:1500]
    text = "\n".join(p for p in parts if "<|" not in p and "|>" not in p)
    return text


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "sample.txt"
    path.write_text(sample_text(), encoding="utf-8")
    return path


def test_encode_file(encoding, sample_file):
    r = run("encode", "-e", encoding, sample_file)
    assert r.returncode == 0, r.stderr.decode()
    expected = harness.tiktoken_encoding(encoding).encode(sample_text())
    got = parse_text_ids(r.stdout)
    harness.assert_same(f"CLI encode [{encoding}]", [sample_text()], [expected], [got],
                        decode=harness.token_bytes_decoder(harness.tiktoken_encoding(encoding)))
    harness.tally("CLI / encode file, --binary, stdin, decode, count", encoding, 1)


def test_encode_binary_and_stdin(encoding, sample_file):
    expected = harness.tiktoken_encoding(encoding).encode(sample_text())
    r = run("encode", "-e", encoding, "--binary", sample_file)
    assert r.returncode == 0, r.stderr.decode()
    assert len(r.stdout) == 4 * len(expected)
    assert list(struct.unpack(f"<{len(expected)}I", r.stdout)) == expected
    r = run("encode", "-e", encoding, "-", stdin=sample_text().encode())
    assert r.returncode == 0, r.stderr.decode()
    assert parse_text_ids(r.stdout) == expected


def test_decode_round_trip(encoding, tmp_path):
    enc = harness.tiktoken_encoding(encoding)
    ids = enc.encode(sample_text())
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(" ".join(map(str, ids)) + "\n")
    r = run("decode", "-e", encoding, ids_file)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == enc.decode(ids).encode() == sample_text().encode()
    bin_file = tmp_path / "ids.bin"
    bin_file.write_bytes(struct.pack(f"<{len(ids)}I", *ids))
    r = run("decode", "-e", encoding, "--binary", bin_file)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == sample_text().encode()


def test_decode_replaces_invalid_utf8(encoding):
    # Ids of a lone continuation byte and a truncated sequence: decode must match Python's "replace".
    enc = harness.tiktoken_encoding(encoding)
    ids = enc._encode_bytes(b"ok \x80 then \xe4\xb8 end \xed\xa0\x80!")
    r = run("decode", "-e", encoding, "-", stdin=" ".join(map(str, ids)).encode())
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == enc.decode(ids).encode()
    r = run("decode", "-e", encoding, "--bytes", "-", stdin=" ".join(map(str, ids)).encode())
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == enc.decode_bytes(ids)


def test_decode_random_ids_matches_tiktoken(encoding):
    # Random ordinary ids: token boundaries cut UTF-8 sequences everywhere, so this exercises every kind of
    # invalid sequence Python's "replace" handler sees.
    enc = harness.tiktoken_encoding(encoding)
    rng = random.Random(4242)
    ordinary = sorted(enc._mergeable_ranks.values())
    ids = [rng.choice(ordinary) for _ in range(20000)]
    expected = enc.decode(ids).encode()
    r = run("decode", "-e", encoding, "-", stdin=" ".join(map(str, ids)).encode())
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == expected


def test_count(encoding, sample_file):
    r = run("count", "-e", encoding, sample_file)
    assert r.returncode == 0, r.stderr.decode()
    assert int(r.stdout) == len(harness.tiktoken_encoding(encoding).encode_ordinary(sample_text()))


def test_allowed_special_all(encoding):
    text = "".join(f"x{s} y" for s in cases.SPECIAL_TEXT)
    r = run("encode", "-e", encoding, "--allowed-special", "all", "-", stdin=text.encode())
    assert r.returncode == 0, r.stderr.decode()
    expected = harness.tiktoken_encoding(encoding).encode(text, allowed_special="all")
    assert parse_text_ids(r.stdout) == expected


def test_disallowed_special_is_an_error(encoding):
    r = run("encode", "-e", encoding, "-", stdin=b"hello <|endoftext|> world")
    with pytest.raises(ValueError):  # the oracle refuses it too
        harness.tiktoken_encoding(encoding).encode("hello <|endoftext|> world")
    assert r.returncode != 0
    assert b"<|endoftext|>" in r.stderr, r.stderr
    assert r.stdout == b""


def test_ordinary_flag_encodes_special_text_as_text(encoding):
    text = "hello <|endoftext|> world <|fim_prefix|>"
    r = run("encode", "-e", encoding, "--ordinary", "-", stdin=text.encode())
    assert r.returncode == 0, r.stderr.decode()
    assert parse_text_ids(r.stdout) == harness.tiktoken_encoding(encoding).encode_ordinary(text)


def test_unknown_encoding():
    r = run("encode", "-e", "no_such_encoding_xyz", "-", stdin=b"hello")
    assert r.returncode != 0
    assert b"no_such_encoding_xyz" in r.stderr, r.stderr


def test_decode_id_out_of_range(encoding):
    bad = harness.tiktoken_encoding(encoding).n_vocab + 12345
    r = run("decode", "-e", encoding, "-", stdin=f"1 2 {bad} 3".encode())
    assert r.returncode != 0
    assert str(bad).encode() in r.stderr, r.stderr
    with pytest.raises(Exception):  # tiktoken cannot decode it either
        harness.tiktoken_encoding(encoding).decode([1, 2, bad, 3])


def test_missing_input_file(tmp_path):
    missing = tmp_path / "does-not-exist.txt"
    for sub in ("encode", "decode", "count"):
        r = run(sub, "-e", "cl100k_base", missing)
        assert r.returncode != 0, sub
        assert str(missing).encode() in r.stderr, (sub, r.stderr)


def test_empty_input(encoding, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert harness.tiktoken_encoding(encoding).encode("") == []
    r = run("encode", "-e", encoding, empty)
    assert r.returncode == 0, r.stderr.decode()
    assert parse_text_ids(r.stdout) == []
    r = run("encode", "-e", encoding, "--binary", empty)
    assert r.returncode == 0 and r.stdout == b""
    r = run("count", "-e", encoding, empty)
    assert r.returncode == 0 and int(r.stdout) == 0
    r = run("decode", "-e", encoding, empty)
    assert r.returncode == 0 and r.stdout == b""


SUBSET_TEXTS = ["a<|endoftext|>b<|fim_prefix|>c", "<|fim_prefix|><|endofprompt|> x <|endoftext|>",
                "plain text", "x <|fim_suffix|>", "<|reserved_200500|><|endoftext|>"]
# (CLI arguments, tiktoken allowed_special, tiktoken disallowed_special)
SUBSET_OPTIONS = [
    (["--allowed-special", "<|fim_prefix|>", "--disallowed-special", "none"], {"<|fim_prefix|>"}, ()),
    (["--allowed-special", "<|fim_prefix|>"], {"<|fim_prefix|>"}, "all"),
    (["--allowed-special", "<|endoftext|>,<|fim_prefix|>"], {"<|endoftext|>", "<|fim_prefix|>"}, "all"),
    (["--disallowed-special", "none"], set(), ()),
    (["--disallowed-special", "<|fim_suffix|>"], set(), {"<|fim_suffix|>"}),
    (["--allowed-special", "<|endoftext|>", "--disallowed-special", "<|fim_prefix|>"], {"<|endoftext|>"},
     {"<|fim_prefix|>"}),
    (["--allowed-special", "<|reserved_200500|>", "--disallowed-special", "none"], {"<|reserved_200500|>"}, ()),
]


@pytest.mark.parametrize("option", range(len(SUBSET_OPTIONS)))
def test_special_subsets(encoding, option):
    """--allowed-special / --disallowed-special lists behave as tiktoken's allowed_special/disallowed_special,
    including the refusal and the token it names."""
    args, allowed, disallowed = SUBSET_OPTIONS[option]
    enc = harness.tiktoken_encoding(encoding)
    unknown = sorted(set(allowed) - enc.special_tokens_set)
    if unknown:
        # tiktoken ignores allowed names the encoding lacks; the CLI refuses them (a typo would otherwise
        # encode the token's text as ordinary text without a word) and lists the encoding's specials.
        r = run("encode", "-e", encoding, *args, "-", stdin=b"x")
        assert r.returncode == 1, (args, r.stderr.decode())
        assert unknown[0].encode() in r.stderr and b"<|endoftext|>" in r.stderr, r.stderr
        return
    for text in SUBSET_TEXTS:
        try:
            expected, refused = enc.encode(text, allowed_special=allowed, disallowed_special=disallowed), None
        except ValueError as e:
            expected, refused = None, str(e).split("'")[1]  # "...disallowed special token '<|x|>'..."
        r = run("encode", "-e", encoding, *args, "-", stdin=text.encode())
        if refused is None:
            assert r.returncode == 0, (text, args, r.stderr.decode())
            assert parse_text_ids(r.stdout) == expected, (text, args)
        else:
            assert r.returncode != 0, (text, args, "tiktoken refuses " + refused, r.stdout)
            assert f"'{refused}'".encode() in r.stderr, (text, args, refused, r.stderr)


def test_disallowed_text_need_not_be_special(encoding):
    """tiktoken refuses any text listed in disallowed_special, special token of this encoding or not (a
    caller guarding against chat markup such as <|im_start|> relies on that)."""
    text = "user: <|im_start|>system"
    with pytest.raises(ValueError, match=r"<\|im_start\|>"):
        harness.tiktoken_encoding(encoding).encode(text, disallowed_special={"<|im_start|>"})
    r = run("encode", "-e", encoding, "--disallowed-special", "<|im_start|>", "-", stdin=text.encode())
    assert r.returncode != 0, f"tiktoken refuses {text!r} with disallowed_special={{'<|im_start|>'}}; " \
        f"tokenmill encoded it: {r.stdout.decode().strip()}"
    assert b"'<|im_start|>'" in r.stderr, r.stderr
