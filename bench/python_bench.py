#!/usr/bin/env python3
"""Python-level benchmark of the `tokenmill` package, next to tiktoken / rustbpe in the same run and next to
the C++ library on the same text.

    pip install . && python bench/python_bench.py                      # en.txt, first 30 MB, cl100k_base
    python bench/python_bench.py --mb 10 --encoding o200k_base --train-mb 20 --vocab 8192

What is measured (best of --repeat runs; CPU = process CPU time of all threads, wall = clock):
  1. encode_ordinary_batch(lines, num_threads=1 and 2): tokenmill vs tiktoken 0.14.0, each line of the
     corpus slice a text (what nanochat's data prep does). MB per CPU-second and MB per wall-second.
  2. the C++ figure: bench/tokenmill_bench (encode_ordinary over the same bytes, one call) if built, and
     the same single call through Python (encode_ordinary and encode_to_numpy), so the binding's cost is
     the gap between them. Python's batch has extra per-text work (a list per line) that the C++ single
     call does not.
  3. train_from_iterator(lines, vocab) : tokenmill vs rustbpe 0.1.0 on the same list, same pattern; the
     merges must be identical (checked).

Env: TOKENMILL_CORPUS_DIR (default .deps/corpus), TOKENMILL_CACHE_DIR (rank files; tiktoken is built
offline from them as in tests/differential/harness.py), TOKENMILL_BENCH (default build/bench/tokenmill_bench).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "differential"))


def timed(fn, repeat: int):
    best_cpu = best_wall = float("inf")
    out = None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        c1, w1 = time.process_time(), time.perf_counter()
        best_cpu, best_wall = min(best_cpu, c1 - c0), min(best_wall, w1 - w0)
    return out, best_cpu, best_wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="en.txt")
    ap.add_argument("--mb", type=float, default=30.0, help="MB of the corpus for the encode runs")
    ap.add_argument("--encoding", default="cl100k_base")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--train-mb", type=float, default=20.0, help="MB for the training runs (0 = skip)")
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    corpus = Path(os.environ.get("TOKENMILL_CORPUS_DIR", str(Path(__file__).resolve().parent.parent / ".deps" / "corpus"))) / args.corpus
    with open(corpus, "rb") as f:
        data = f.read(int(args.mb * 1e6))
    data = data[: data.rfind(b"\n") + 1]
    text = data.decode("utf-8", errors="replace")
    lines = [line + "\n" for line in text.split("\n")[:-1]]
    mb = len(text.encode("utf-8")) / 1e6

    import harness
    import tokenmill

    tt = harness.tiktoken_encoding(args.encoding)
    tm = tokenmill.get_encoding(args.encoding)
    results: dict = {"corpus": args.corpus, "mb": round(mb, 3), "lines": len(lines), "encoding": args.encoding}
    print(f"{args.corpus}: {mb:.1f} MB, {len(lines)} lines, {args.encoding}, best of {args.repeat}, "
          f"{os.cpu_count()} CPUs")

    print("\nencode_ordinary_batch(lines)          MB/CPU-s   MB/wall-s")
    expected = None
    for threads in (1, 2):
        for lib, enc in (("tokenmill", tm), ("tiktoken", tt)):
            ids, cpu, wall = timed(lambda: enc.encode_ordinary_batch(lines, num_threads=threads), args.repeat)
            if expected is None:
                expected = ids
            elif ids != expected:
                print(f"MISMATCH: {lib} num_threads={threads} differs")
                return 1
            results[f"{lib}_batch_t{threads}"] = {"mb_per_cpu_s": mb / cpu, "mb_per_wall_s": mb / wall}
            print(f"  {lib:9s} num_threads={threads}          {mb / cpu:8.1f}   {mb / wall:9.1f}")
    n_tokens = sum(len(x) for x in expected)
    for threads in (1, 2):
        count, cpu, wall = timed(lambda: tm._core_bpe.encode_ordinary_batch_count(lines, threads), args.repeat)
        assert count == n_tokens
        results[f"cxx_batch_t{threads}"] = {"mb_per_cpu_s": mb / cpu, "mb_per_wall_s": mb / wall}
        print(f"  C++ half alone, num_threads={threads}     {mb / cpu:8.1f}   {mb / wall:9.1f}   (no Python lists)")
    for threads in (1, 2):
        full = results[f"tokenmill_batch_t{threads}"]["mb_per_cpu_s"]
        print(f"  binding cost, num_threads={threads}: {100 * (1 - full / results[f'cxx_batch_t{threads}']['mb_per_cpu_s']):.1f}%"
              " of CPU throughput (building the lists of ints)")

    print("\none call over the whole slice         MB/CPU-s")
    _, cpu, _ = timed(lambda: tm.encode_ordinary(text), args.repeat)
    results["tokenmill_py_encode_ordinary"] = mb / cpu
    print(f"  tokenmill encode_ordinary (Python)   {mb / cpu:8.1f}")
    _, cpu, _ = timed(lambda: tm.encode_to_numpy(text, disallowed_special=()), args.repeat)
    results["tokenmill_py_encode_to_numpy"] = mb / cpu
    print(f"  tokenmill encode_to_numpy (Python)   {mb / cpu:8.1f}")
    bench = Path(os.environ.get("TOKENMILL_BENCH", REPO / "build" / "bench" / "tokenmill_bench"))
    if bench.is_file():
        with tempfile.NamedTemporaryFile(suffix=".txt") as f:
            f.write(text.encode("utf-8"))
            f.flush()
            r = subprocess.run([str(bench), args.encoding, f.name, "--repeat", str(args.repeat)],
                               capture_output=True, text=True, check=True)
        cxx = json.loads(r.stdout)
        results["cxx_encode_ordinary"] = cxx["mb_per_cpu_s"]
        print(f"  tokenmill C++ (tokenmill_bench)      {cxx['mb_per_cpu_s']:8.1f}")
        print(f"  encode_to_numpy vs C++: {100 * (1 - results['tokenmill_py_encode_to_numpy'] / cxx['mb_per_cpu_s']):.1f}%"
              " slower")
    else:
        print(f"  (C++ figure skipped: {bench} not built)")
    print(f"  {n_tokens} tokens")

    if args.train_mb > 0:
        import rustbpe

        with open(corpus, "rb") as f:
            tdata = f.read(int(args.train_mb * 1e6))
        tdata = tdata[: tdata.rfind(b"\n") + 1].decode("utf-8", errors="replace")
        tlines = [line + "\n" for line in tdata.split("\n")[:-1]]
        print(f"\ntrain_from_iterator({args.train_mb:g} MB, {len(tlines)} lines, vocab {args.vocab})   CPU s   wall s")
        ranks = {}
        for lib, cls in (("tokenmill", tokenmill.Tokenizer), ("rustbpe", rustbpe.Tokenizer)):
            tok = cls()
            _, cpu, wall = timed(lambda: tok.train_from_iterator(iter(tlines), args.vocab), 1)
            ranks[lib] = tok.get_mergeable_ranks()
            results[f"{lib}_train"] = {"cpu_s": cpu, "wall_s": wall}
            print(f"  {lib:9s}                                      {cpu:7.2f}  {wall:7.2f}")
        same = ranks["tokenmill"] == ranks["rustbpe"]
        results["train_identical_merges"] = same
        print(f"  merges identical: {same}")
        if not same:
            return 1

    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
