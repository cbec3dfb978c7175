"""Runs the oracles on long inputs in a child process, where tiktoken's stack overflow (a Rust panic, or on
other builds a crash) cannot take pytest down.

  python oracle_subprocess.py OUT_DIR ENCODING ENGINE:NAME[:PART] ...

ENGINE is tiktoken or bpe (bpe-openai); NAME a cases.LONG_INPUTS key; PART an index into its composition.
Writes OUT_DIR/<job>.npy (uint32 ids) or OUT_DIR/<job>.err (the exception), one job after another, so the
parent can tell which job killed the process."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import cases
import harness

BPE_OPENAI_NAME = {"cl100k_base": "cl100k_base", "o200k_base": "o200k_base", "o200k_harmony": "o200k_base"}


def main() -> None:
    out, encoding, jobs = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    for job in jobs:
        engine, name, *part = job.split(":")
        text = cases.long_input(name)
        if part:
            text = cases.long_input_parts(name)[int(part[0])]
        try:
            if engine == "tiktoken":
                ids = harness.tiktoken_encoding(encoding).encode_ordinary(text)
            else:
                from bpe_openai import _bindings

                ids = _bindings.tokenizer_for_encoding(BPE_OPENAI_NAME[encoding]).encode(text)
        except BaseException as e:  # pyo3's PanicException derives from BaseException
            (out / f"{job}.err").write_text(f"{type(e).__name__}: {e}")
            continue
        np.save(out / f"{job}.npy", np.asarray(ids, dtype=np.uint32))


if __name__ == "__main__":
    main()
