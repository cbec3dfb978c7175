"""Long inputs (1 MB whitespace runs, 1 MB of one letter, 100 KB random runs) vs tiktoken.

tiktoken 0.14.0 overflows its regex engine's stack on some of these (a Rust panic: e.g. 1 MB of spaces
followed by a letter in every encoding, 1 MB of spaces or tabs in o200k), so the oracles run in a child
process (oracle_subprocess.py). Where tiktoken fails, the expected ids come from bpe-openai (cl100k_base and
o200k_base; checked here to agree with tiktoken on every long input tiktoken does handle), else from a
composition of tiktoken encodings that the pattern's semantics guarantee (cases.LONG_INPUTS). On top, the
same shapes at 10 KB go through tiktoken directly, tiktoken's decoder must give the input back from
tokenmill's ids, and count must equal the number of ids."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import cases
import harness
import oracle_subprocess

HERE = Path(__file__).resolve().parent
NAMES = list(cases.LONG_INPUTS)


def run_oracles(encoding: str, jobs: list[str]) -> dict[str, object]:
    """job -> list of ids, or the error text (an exception, or the signal that killed the process)."""
    results: dict[str, object] = {}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
               RUST_BACKTRACE="0")
    with tempfile.TemporaryDirectory(prefix="tokenmill-oracle-") as tmp:
        out = Path(tmp)
        pending = list(jobs)
        while pending:
            proc = subprocess.run([sys.executable, str(HERE / "oracle_subprocess.py"), tmp, encoding, *pending],
                                  env=env, capture_output=True, timeout=600)
            done = []
            for job in pending:
                if (out / f"{job}.npy").exists():
                    results[job] = np.load(out / f"{job}.npy").tolist()
                elif (out / f"{job}.err").exists():
                    results[job] = (out / f"{job}.err").read_text()
                else:
                    break
                done.append(job)
            pending = pending[len(done):]
            if pending:
                if proc.returncode == 0:
                    raise harness.HarnessError(f"oracle child skipped {pending}: {proc.stderr.decode()[-2000:]}")
                # The first job without a result killed the child: record that, go on with the rest.
                results[pending[0]] = f"oracle process died (exit {proc.returncode}): {proc.stderr.decode()[-300:]}"
                pending = pending[1:]
    return results


@pytest.mark.parametrize("encoding", harness.ENCODINGS)
def test_long_inputs_1mb(encoding):
    texts = {name: cases.long_input(name) for name in NAMES}
    order = list(texts)
    ordinary = harness.tokenmill(encoding, "ordinary", [texts[n] for n in order])
    counts = harness.tokenmill(encoding, "count", [texts[n] for n in order])

    has_bpe = encoding in oracle_subprocess.BPE_OPENAI_NAME
    jobs = [f"tiktoken:{n}" for n in order]
    jobs += [f"bpe:{n}" for n in order] if has_bpe else []
    for n in order:
        parts = cases.long_input_parts(n)
        jobs += [f"tiktoken:{n}:{i}" for i in range(len(parts or []))]
    oracle = run_oracles(encoding, jobs)

    enc = harness.tiktoken_encoding(encoding)
    got = dict(zip(order, ordinary.ids()))
    got_counts = dict(zip(order, counts.counts()))
    expected, sources, panics = [], [], []
    for n in order:
        tk, bpe = oracle[f"tiktoken:{n}"], oracle.get(f"bpe:{n}")
        if isinstance(tk, list):
            if isinstance(bpe, list):  # the fallback oracle must earn its place
                assert bpe == tk, f"bpe-openai and tiktoken disagree on long input {n!r} ({encoding})"
            expected.append(tk)
            sources.append("tiktoken")
            continue
        panics.append(n)
        if isinstance(bpe, list):
            expected.append(bpe)
            sources.append("bpe-openai")
            continue
        parts = cases.long_input_parts(n)
        part_ids = [oracle[f"tiktoken:{n}:{i}"] for i in range(len(parts or []))]
        if parts and all(isinstance(p, list) for p in part_ids):
            expected.append([t for p in part_ids for t in p])
            sources.append("tiktoken composition")
            continue
        pytest.fail(f"no oracle for long input {n!r} in {encoding}: tiktoken: {tk}; bpe-openai: {bpe}; "
                    f"parts: {part_ids}")

    for n, src, exp in zip(order, sources, expected):
        harness.assert_same(f"long input {n} [{encoding}] (oracle: {src})", [texts[n]], [exp], [got[n]],
                            oracle=src, decode=harness.token_bytes_decoder(enc))
        assert enc.decode_bytes(got[n]) == texts[n].encode(), f"tiktoken's decode of tokenmill's ids != {n!r}"
        assert got_counts[n] == len(exp), f"count of long input {n!r}: {got_counts[n]}, expected {len(exp)}"
    harness.tally("long inputs (1 MB / 100 KB) / encode_ordinary + count + decode", encoding, len(order))
    if panics:
        harness.report(f"long inputs, {encoding}: tiktoken overflowed on {', '.join(panics)}; "
                       f"oracle used: {', '.join(s for n, s in zip(order, sources) if n in panics)}")


@pytest.mark.parametrize("encoding", harness.ENCODINGS)
def test_long_inputs_10kb(encoding):
    """The same shapes at 10 KB, where tiktoken copes, compared directly (also via encode_bytes)."""
    cs = [cases.long_input(n, 10_000) for n in NAMES] + [cases.long_input(n, 10_001) for n in NAMES]
    harness.compare_encode_ordinary(encoding, cs, "long input shapes at 10 KB")
    harness.compare_encode_bytes(encoding, [c.encode() for c in cs], "long input shapes at 10 KB", mode="bytes")
