"""Shared machinery for the differential tests: the oracle (tiktoken 0.14.0, built offline from the rank
files in $TOKENMILL_CACHE_DIR), the tokenmill side (one `encode_records` process per batch) and the
comparison that prints the first mismatching case.

Offline tiktoken
----------------
tiktoken's own encoding definitions live in `tiktoken_ext.openai_public` (pattern, special tokens,
explicit_n_vocab); its constructors download the rank files. We call those constructors unchanged and only
swap the download: `tiktoken.load.read_file_cached` is patched (for the duration of the call) to read
`$TOKENMILL_CACHE_DIR/<basename of the URL>` and to check tiktoken's own expected sha256. gpt2's constructor
asks for GPT-2's vocab.bpe/encoder.json; its ranks are identical to r50k_base's, so
`data_gym_to_mergeable_bpe_ranks` is patched to load r50k_base.tiktoken (hash-checked) instead. Nothing is
written to tiktoken's cache and nothing goes to the network: a missing file is an error.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import struct
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

ENCODINGS = ["gpt2", "r50k_base", "p50k_base", "p50k_edit", "cl100k_base", "o200k_base", "o200k_harmony"]

# The rank file behind each encoding and tiktoken's sha256 for it (tiktoken_ext/openai_public.py).
R50K_URL = "https://openaipublic.blob.core.windows.net/encodings/r50k_base.tiktoken"
R50K_SHA256 = "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"

# Printed in pytest's terminal summary (conftest.py): cases compared per category and encoding, and notes.
REPORT: list[str] = []
TALLY: dict[str, dict[str, int]] = {}


def report(line: str) -> None:
    REPORT.append(line)


def tally(category: str, encoding: str, n: int) -> None:
    per = TALLY.setdefault(category, {})
    per[encoding] = per.get(encoding, 0) + n


def summary_lines() -> list[str]:
    lines = []
    for category, per in TALLY.items():
        total = sum(per.values())
        detail = ", ".join(f"{e} {n}" for e, n in per.items())
        lines.append(f"{category}: {total} cases compared ({detail})")
    return lines + REPORT


class HarnessError(RuntimeError):
    pass


def required_env(name: str, what: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise HarnessError(f"${name} is not set: it must point at {what}")
    return value


def cache_dir() -> Path:
    d = Path(required_env("TOKENMILL_CACHE_DIR", "the folder holding the verified *.tiktoken rank files"))
    if not d.is_dir():
        raise HarnessError(f"TOKENMILL_CACHE_DIR={d} is not a directory")
    return d


def encode_records_path() -> Path:
    p = Path(required_env("TOKENMILL_ENCODE_RECORDS", "the encode_records binary (tests/differential)"))
    if not (p.is_file() and os.access(p, os.X_OK)):
        raise HarnessError(f"TOKENMILL_ENCODE_RECORDS={p} is not an executable file")
    return p


# ---------------------------------------------------------------------------------------------------------
# tiktoken, offline
# ---------------------------------------------------------------------------------------------------------

def _local_rank_file_bytes(url: str, expected_hash: str | None) -> bytes:
    path = cache_dir() / url.rsplit("/", 1)[-1]
    if not path.is_file():
        raise HarnessError(f"tiktoken wants {url}; expected a local copy at {path} (no network in tests)")
    data = path.read_bytes()
    if expected_hash and hashlib.sha256(data).hexdigest() != expected_hash:
        raise HarnessError(f"{path}: sha256 differs from tiktoken's expected {expected_hash}")
    return data


@functools.lru_cache(maxsize=None)
def _mergeable_ranks(url: str, expected_hash: str | None) -> dict[bytes, int]:
    import tiktoken.load

    return tiktoken.load.load_tiktoken_bpe(url, expected_hash)  # reads through the patched read_file_cached


@contextlib.contextmanager
def _offline_tiktoken():
    import tiktoken.load
    import tiktoken_ext.openai_public as public

    saved = (tiktoken.load.read_file_cached, public.load_tiktoken_bpe, public.data_gym_to_mergeable_bpe_ranks)

    def gpt2_ranks(vocab_bpe_file, encoder_json_file, vocab_bpe_hash=None, encoder_json_hash=None, **_):
        return _mergeable_ranks(R50K_URL, R50K_SHA256)

    tiktoken.load.read_file_cached = _local_rank_file_bytes
    public.load_tiktoken_bpe = lambda url, expected_hash=None: _mergeable_ranks(url, expected_hash)
    public.data_gym_to_mergeable_bpe_ranks = gpt2_ranks
    try:
        yield public
    finally:
        tiktoken.load.read_file_cached, public.load_tiktoken_bpe, public.data_gym_to_mergeable_bpe_ranks = saved


_tiktoken_lock = threading.Lock()


@functools.lru_cache(maxsize=None)
def _tiktoken_encoding_locked(name: str):
    import tiktoken

    with _offline_tiktoken() as public:
        spec = public.ENCODING_CONSTRUCTORS[name]()
    return tiktoken.Encoding(**spec)


def tiktoken_encoding(name: str):
    """tiktoken.Encoding for a built-in name, built from tiktoken's own definition with local rank files."""
    with _tiktoken_lock:
        return _tiktoken_encoding_locked(name)


def tiktoken_spec(name: str) -> dict:
    """tiktoken's definition (pat_str, special_tokens, ...) of an encoding, ranks included."""
    with _tiktoken_lock, _offline_tiktoken() as public:
        return public.ENCODING_CONSTRUCTORS[name]()


# ---------------------------------------------------------------------------------------------------------
# tokenmill: encode_records
# ---------------------------------------------------------------------------------------------------------

def pack_records(cases: Iterable[bytes]) -> bytes:
    parts = []
    for c in cases:
        parts.append(struct.pack("<I", len(c)))
        parts.append(c)
    return b"".join(parts)


def _as_bytes(case) -> bytes:
    return case.encode("utf-8") if isinstance(case, str) else bytes(case)


class TokenmillRun:
    """One encode_records process over a batch of cases, running in the background so the oracle can work
    on the other core meanwhile. `.ids()` / `.counts()` / `.pieces()` wait for it and parse its output."""

    def __init__(self, encoding: str, mode: str, cases: Sequence):
        self.encoding, self.mode = encoding, mode
        self.n = len(cases)
        payload = pack_records(_as_bytes(c) for c in cases)
        self._proc = subprocess.Popen(
            [str(encode_records_path()), encoding, mode],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self._out = self._err = None
        self._thread = threading.Thread(target=self._communicate, args=(payload,), daemon=True)
        self._thread.start()

    def _communicate(self, payload: bytes) -> None:
        self._out, self._err = self._proc.communicate(payload)

    def _wait(self) -> bytes:
        self._thread.join()
        if self._proc.returncode != 0:
            raise HarnessError(
                f"encode_records {self.encoding} {self.mode} exited with {self._proc.returncode}: "
                f"{self._err.decode(errors='replace').strip()}")
        return self._out

    def _records(self, parse_one):
        data = self._wait()
        out, pos = [], 0
        for _ in range(self.n):
            (n,) = struct.unpack_from("<I", data, pos)
            pos += 4
            if n == 0xFFFFFFFF:
                (m,) = struct.unpack_from("<I", data, pos)
                out.append(TokenmillError(data[pos + 4:pos + 4 + m].decode(errors="replace")))
                pos += 4 + m
                continue
            value, pos = parse_one(data, pos, n)
            out.append(value)
        if pos != len(data):
            raise HarnessError(f"encode_records {self.encoding} {self.mode}: {len(data) - pos} trailing bytes")
        return out

    def ids(self) -> list:
        def one(data, pos, n):
            return np.frombuffer(data, dtype="<u4", count=n, offset=pos).tolist(), pos + 4 * n
        return self._records(one)

    def counts(self) -> list:
        return self._records(lambda data, pos, n: (n, pos))

    def pieces(self) -> list:
        def one(data, pos, n):
            ps = []
            for _ in range(n):
                (m,) = struct.unpack_from("<I", data, pos)
                ps.append(data[pos + 4:pos + 4 + m])
                pos += 4 + m
            return ps, pos
        return self._records(one)


@dataclass(frozen=True)
class TokenmillError:
    message: str


def tokenmill(encoding: str, mode: str, cases: Sequence) -> TokenmillRun:
    return TokenmillRun(encoding, mode, cases)


# ---------------------------------------------------------------------------------------------------------
# comparison
# ---------------------------------------------------------------------------------------------------------

def _short_repr(case, limit: int = 400) -> str:
    r = repr(case)
    if len(r) <= limit:
        return r
    return f"{r[:limit // 2]} ... {r[-limit // 2:]} (len {len(case)})"


def _ids_repr(ids, limit: int = 60) -> str:
    if isinstance(ids, TokenmillError):
        return f"error: {ids.message}"
    ids = list(ids)
    if len(ids) <= limit:
        return str(ids)
    return f"{ids[:limit // 2]} ... {ids[-limit // 2:]} ({len(ids)} ids)"


def first_divergence(a, b) -> int:
    if isinstance(a, TokenmillError) or isinstance(b, TokenmillError):
        return 0
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def assert_same(label: str, cases: Sequence, expected: Sequence, got: Sequence, *,
                oracle: str = "tiktoken", decode=None) -> None:
    """Fails with the first and the shortest mismatching case: its repr, the oracle's result, tokenmill's.
    `decode` (ids -> list of token bytes) adds the tokens around the first differing position."""
    assert len(expected) == len(got) == len(cases), (label, len(cases), len(expected), len(got))
    bad = [i for i in range(len(cases)) if not _equal(expected[i], got[i])]
    if not bad:
        return
    shortest = min(bad, key=lambda i: (len(cases[i]), i))
    lines = [f"{label}: {len(bad)} of {len(cases)} cases differ from {oracle}"]
    for title, i in (("first", bad[0]), ("shortest", shortest)):
        if title == "shortest" and shortest == bad[0]:
            continue
        lines.append(f"  {title} mismatch, case #{i}: {_short_repr(cases[i])}")
        lines.append(f"    {oracle:9}: {_ids_repr(expected[i])}")
        lines.append(f"    tokenmill: {_ids_repr(got[i])}")
        if decode is not None and not isinstance(got[i], TokenmillError):
            k = first_divergence(expected[i], got[i])
            lo = max(0, k - 2)
            try:
                lines.append(f"    from token {k}: {oracle} {decode(list(expected[i])[lo:k + 3])!r}")
                lines.append(f"    from token {k}: tokenmill {decode(list(got[i])[lo:k + 3])!r}")
            except Exception as e:  # an id out of range is itself the finding
                lines.append(f"    (cannot decode tokens: {e})")
    raise AssertionError("\n".join(lines))


def _equal(a, b) -> bool:
    if isinstance(a, TokenmillError) or isinstance(b, TokenmillError):
        return a == b
    return list(a) == list(b)


def token_bytes_decoder(enc):
    return lambda ids: [enc.decode_single_token_bytes(t) for t in ids]


def compare_encode_ordinary(encoding: str, cases: Sequence[str], label: str) -> int:
    """tokenmill encode_ordinary vs tiktoken encode_ordinary on str cases; returns the number of cases."""
    run = tokenmill(encoding, "ordinary", cases)
    enc = tiktoken_encoding(encoding)
    expected = [enc.encode_ordinary(c) for c in cases]
    assert_same(f"{label} [{encoding} ordinary]", cases, expected, run.ids(), decode=token_bytes_decoder(enc))
    tally(f"{label} / encode_ordinary", encoding, len(cases))
    return len(cases)


def compare_encode_special(encoding: str, cases: Sequence[str], label: str) -> int:
    """tokenmill encode(allowed=all) vs tiktoken encode(allowed_special="all")."""
    run = tokenmill(encoding, "special", cases)
    enc = tiktoken_encoding(encoding)
    expected = [enc.encode(c, allowed_special="all") for c in cases]
    assert_same(f"{label} [{encoding} special]", cases, expected, run.ids(), decode=token_bytes_decoder(enc))
    tally(f"{label} / encode(allowed_special=all)", encoding, len(cases))
    return len(cases)


def compare_encode_bytes(encoding: str, cases: Sequence[bytes], label: str, mode: str = "bytes") -> int:
    """tokenmill MODE (bytes or ordinary) vs tiktoken _encode_bytes on byte cases."""
    run = tokenmill(encoding, mode, cases)
    enc = tiktoken_encoding(encoding)
    expected = [enc._encode_bytes(c) for c in cases]
    assert_same(f"{label} [{encoding} {mode} vs _encode_bytes]", cases, expected, run.ids(),
                decode=token_bytes_decoder(enc))
    tally(f"{label} / {mode} vs _encode_bytes", encoding, len(cases))
    return len(cases)
