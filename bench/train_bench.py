#!/usr/bin/env python3
"""Training benchmark: `tokenmill train` against Karpathy's rustbpe 0.1.0 on the same corpus, vocab size and
split pattern, each line a document (rustbpe gets `open(path)`, exactly what tokenmill's `lines` mode reads).

    .venv/bin/python bench/train_bench.py                          # en.txt, vocab 32768, GPT-4 pattern
    .venv/bin/python bench/train_bench.py --corpus multi.txt --vocab 16384 --pattern nanochat

Each trainer runs in its own process; CPU seconds (user + system) and peak RSS come from that process's
rusage (os.wait4), wall time from the clock around it. rustbpe runs with RAYON_NUM_THREADS=1 by default
(--rayon-threads to change), so both are single-threaded. Both write the vocabulary as .tiktoken and the
files must be byte-identical, or the run reports a mismatch.

Env: TOKENMILL_CLI (default build/tokenmill), TOKENMILL_CORPUS_DIR (default /work/corpus/out).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GPT4 = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"""
PATTERNS = {"gpt4": GPT4, "nanochat": GPT4.replace(r"\p{N}{1,3}", r"\p{N}{1,2}")}

RUSTBPE_WORKER = r"""
import base64, sys, rustbpe
path, vocab, pattern, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
t = rustbpe.Tokenizer()
t.train_from_iterator(open(path, encoding="utf-8"), vocab, pattern=pattern)
with open(out, "wb") as f:
    for tok, rank in sorted(t.get_mergeable_ranks(), key=lambda x: x[1]):
        f.write(base64.b64encode(bytes(tok)) + b" %d\n" % rank)
"""


def measure(cmd: list[str], env: dict | None = None) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = proc.stderr.read()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"{cmd[0]} failed ({status}):\n{stderr.decode(errors='replace')}")
    return {"cpu": ru.ru_utime + ru.ru_stime, "wall": wall, "rss_mb": ru.ru_maxrss / 1024, "stderr": stderr.decode()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="en.txt")
    ap.add_argument("--vocab", type=int, default=32768)
    ap.add_argument("--pattern", choices=sorted(PATTERNS), default="gpt4")
    ap.add_argument("--rayon-threads", default="1")
    ap.add_argument("--skip-rustbpe", action="store_true")
    args = ap.parse_args()

    cli = os.environ.get("TOKENMILL_CLI", str(REPO / "build" / "tokenmill"))
    corpus = Path(os.environ.get("TOKENMILL_CORPUS_DIR", "/work/corpus/out")) / args.corpus
    size_mb = corpus.stat().st_size / 1e6
    print(f"corpus {corpus} ({size_mb:.1f} MB), vocab {args.vocab}, pattern {args.pattern}, lines as documents")
    with tempfile.TemporaryDirectory() as tmp:
        tm_out, rb_out = Path(tmp) / "tokenmill.tiktoken", Path(tmp) / "rustbpe.tiktoken"
        tm = measure([cli, "train", "--vocab-size", str(args.vocab), "--pattern", args.pattern,
                      "-o", str(Path(tmp) / "m.model"), "--tiktoken", str(tm_out), str(corpus)])
        rows = [("tokenmill train", tm)]
        if not args.skip_rustbpe:
            env = dict(os.environ, RAYON_NUM_THREADS=args.rayon_threads)
            rb = measure([sys.executable, "-c", RUSTBPE_WORKER, str(corpus), str(args.vocab),
                          PATTERNS[args.pattern], str(rb_out)], env=env)
            rows.append((f"rustbpe 0.1.0 (RAYON_NUM_THREADS={args.rayon_threads})", rb))
        print(f"\n| trainer | CPU s | wall s | peak RSS MB |\n|---|---:|---:|---:|")
        for name, m in rows:
            print(f"| {name} | {m['cpu']:.2f} | {m['wall']:.2f} | {m['rss_mb']:.0f} |")
        if not args.skip_rustbpe:
            same = tm_out.read_bytes() == rb_out.read_bytes()
            print(f"\nmerges identical: {'yes' if same else 'NO'}; CPU speedup {rows[1][1]['cpu'] / tm['cpu']:.1f}x")
            if not same:
                sys.exit(1)
        print("\ntokenmill stages:\n" + "\n".join("  " + l for l in tm["stderr"].splitlines()
                                                  if l.startswith(("time", "peak", "distinct", "chunks", "documents"))))


if __name__ == "__main__":
    main()
