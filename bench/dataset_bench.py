"""End-to-end dataset tokenizing benchmark (issue #10): JSON Lines (plain, .zst, Parquet) -> megatron shards
with cl100k_base, by `tokenmill tokenize` on 1 and 2 threads, next to

  (a) a nanoGPT prepare.py-style script: json.loads per line, tiktoken's encode_ordinary_batch, EOT appended,
      numpy uint32 array written to a .bin (what nanoGPT / Megatron users run today), and
  (b) the same script with gigatoken as the encoder (if it is installed),

reporting MB/s of input, tokens/s and peak RSS per run (each run in its own process; RSS from wait4).
Also reports tokenmill's bare encode speed on the same text (`tokenmill count`), for the "end to end at
least 80% of bare encode" target.

  .venv/bin/python bench/dataset_bench.py --corpus $TOKENMILL_CORPUS_DIR/docs.jsonl      # the full table
  .venv/bin/python bench/dataset_bench.py --smoke                                         # tiny, checks ids

--smoke runs every path on a small generated file and checks that they all produce the same token ids
(no timing is meaningful then). Run the full benchmark only on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CLI = os.environ.get("TOKENMILL_CLI", str(ROOT / "build" / "tokenmill"))

PREPARE = r'''
import json, sys, numpy as np
enc_name, src, dst, which = sys.argv[1:5]
if which == "tiktoken":
    sys.path.insert(0, sys.argv[6])
    import harness  # tiktoken built offline from the verified rank files in TOKENMILL_CACHE_DIR
    enc = harness.tiktoken_encoding(enc_name)
    encode_batch = lambda texts: enc.encode_ordinary_batch(texts, num_threads=int(sys.argv[5]))
    eot = enc.eot_token
else:
    # gigatoken 0.10.0: Tokenizer.from_tiktoken on the same verified rank file; its batch runs on its own
    # thread pool (RAYON_NUM_THREADS, set by the caller to the thread count).
    import os, gigatoken
    sys.path.insert(0, sys.argv[6])
    import harness
    eot = harness.tiktoken_encoding(enc_name).eot_token
    tok = gigatoken.Tokenizer.from_tiktoken(os.path.join(os.environ["TOKENMILL_CACHE_DIR"], enc_name + ".tiktoken"))
    encode_batch = lambda texts: tok.encode_batch_list(texts)
out = open(dst, "wb")
batch = []
def flush():
    for ids in encode_batch(batch):
        ids.append(eot)
        np.asarray(ids, dtype=np.uint32).tofile(out)
    batch.clear()
with open(src, encoding="utf-8", errors="replace") as f:
    for line in f:
        if line.strip():
            batch.append(json.loads(line)["text"])
            if len(batch) >= 1024:
                flush()
flush()
out.close()
'''


def run_measured(argv, env=None) -> tuple[float, int, float]:
    """(wall seconds, peak RSS bytes, CPU seconds: user + system of all its threads) of one child process. The RSS comes from GNU time (/usr/bin/time, Debian's
    `time`) when present: a child's ru_maxrss counts the memory of the process it was forked from until it
    execs, so wait4 here would add this script's size; time forks from a small process."""
    gnu_time = Path("/usr/bin/time")
    report = Path(tempfile.mktemp(prefix="dataset_bench_rss_"))
    if gnu_time.exists():
        argv = [str(gnu_time), "-f", "%M", "-o", str(report)] + list(argv)
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    cpu = usage.ru_utime + usage.ru_stime  # includes the waited-for child of GNU time
    if status != 0:
        raise RuntimeError(f"{argv[:8]} failed with status {status}")
    if gnu_time.exists():
        rss = int(report.read_text().split()[-1]) * 1024
        report.unlink()
        return wall, rss, cpu
    return wall, usage.ru_maxrss * 1024, cpu


def digest(ids: np.ndarray) -> tuple[int, str]:
    """What runs are compared by: the token count and the sha256 of the ids as uint32 (the arrays themselves
    would make this process, and so every child's RSS before exec, gigabytes)."""
    import hashlib

    return len(ids), hashlib.sha256(np.ascontiguousarray(ids, dtype="<u4").tobytes()).hexdigest()


def make_variants(src: Path, work: Path) -> dict:
    variants = {"jsonl": src}
    zst = work / (src.name + ".zst")
    subprocess.run(["zstd", "-q", "-f", "-3", str(src), "-o", str(zst)], check=True)
    variants["jsonl.zst"] = zst
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        texts = []
        with open(src, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.strip():
                    texts.append(json.loads(line)["text"])
        pq.write_table(pa.table({"text": texts}), work / "docs.parquet", row_group_size=8192)
        variants["parquet"] = work / "docs.parquet"
    except ImportError:
        print("pyarrow missing: no Parquet row", file=sys.stderr)
    return variants


def megatron_ids(prefix: Path) -> np.ndarray:
    idx = prefix.with_suffix(".idx").read_bytes()
    code = idx[17]
    return np.fromfile(prefix.with_suffix(".bin"), dtype={8: "<u2", 4: "<i4"}[code]).astype(np.uint32)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", help="docs.jsonl (one {'text': ...} per line)")
    ap.add_argument("--encoding", default="cl100k_base")
    ap.add_argument("--smoke", action="store_true", help="tiny generated input; checks ids, timings meaningless")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each tokenmill row, interleaved; the median wall and the largest RSS are shown "
                         "(the prepare.py rows, ~10x slower, run once)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dataset_bench_"))
    try:
        if args.smoke:
            rng = random.Random(0)
            src = work / "docs.jsonl"
            with open(src, "w", encoding="utf-8") as f:
                for _ in range(2000):
                    f.write(json.dumps({"text": " ".join(rng.choice(["the", "cat", "é", "日本", "42"])
                                                         for _ in range(rng.randint(1, 50)))}) + "\n")
        else:
            if not args.corpus:
                ap.error("--corpus is required without --smoke")
            src = Path(args.corpus)
        size = src.stat().st_size
        rows = []
        ids_by_run = {}
        # Each tokenmill configuration runs --repeat times, the configurations interleaved (a slow moment of
        # the machine then costs every row a run, not one row its only run); outputs are removed after each.
        configs = [(name, path, threads) for name, path in make_variants(src, work).items() for threads in (1, 2)]
        walls = {c: [] for c in configs}
        cpus = {c: [] for c in configs}
        peak = {c: 0 for c in configs}
        repeat = 1 if args.smoke else max(1, args.repeat)
        # Bare encode speed of tokenmill on the same documents (no JSON, no output), measured in every round
        # between the rows (the machine's speed drifts by a third within minutes; one measurement after all
        # rows made the ratios below depend on that one moment).
        texts = work / "texts.txt"
        with open(src, encoding="utf-8", errors="replace") as f, open(texts, "w", encoding="utf-8") as out:
            for line in f:
                if line.strip():
                    out.write(json.loads(line)["text"])
        bare_rates = []

        def measure_bare() -> None:
            # `count --speed` reports the CPU time of the counting alone (stderr: "..., N tokens, S CPU-s, ...").
            speed = subprocess.run([CLI, "count", "--speed", "-e", args.encoding, str(texts)], check=True,
                                   capture_output=True, text=True).stderr
            fields = speed.split(", ")
            tokens = int(next(f for f in fields if f.endswith(" tokens")).split()[0])
            cpu = float(next(f for f in fields if f.endswith(" CPU-s")).split()[0])
            bare_rates.append(tokens / cpu)

        for _ in range(repeat):
            measure_bare()
            for config in configs:
                name, path, threads = config
                prefix = work / f"tm_{name.replace('.', '_')}_{threads}"
                if name == "parquet":
                    argv = [sys.executable, "-m", "tokenmill", "tokenize", str(path), "-o", str(prefix), "-e",
                            args.encoding, "-t", str(threads), "-q", "--no-resume"]
                else:
                    argv = [CLI, "tokenize", str(path), "-o", str(prefix), "-e", args.encoding, "-t", str(threads),
                            "-q", "--no-resume"]
                wall, rss, cpu = run_measured(argv)
                walls[config].append(wall)
                cpus[config].append(cpu)
                peak[config] = max(peak[config], rss)
                ids = digest(megatron_ids(prefix))
                key = f"tokenmill {name} t{threads}"
                if ids_by_run.setdefault(key, ids) != ids:
                    raise RuntimeError(f"{key}: different ids from one run to the next")
                for f in prefix.parent.glob(prefix.name + "*"):
                    f.unlink()
        for config in configs:
            name, _, threads = config
            rows.append((f"tokenmill tokenize ({name})", threads, statistics.median(walls[config]),
                         ids_by_run[f"tokenmill {name} t{threads}"][0], peak[config], statistics.median(cpus[config])))
        for which in ("tiktoken", "gigatoken"):
            if which == "gigatoken":
                try:
                    import gigatoken  # noqa: F401
                except ImportError:
                    print("gigatoken not installed: no row (b)", file=sys.stderr)
                    continue
            for threads in (1, 2):
                dst = work / f"{which}_{threads}.bin"
                env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
                wall, rss, cpu = run_measured([sys.executable, "-c", PREPARE, args.encoding, str(src), str(dst), which,
                                          str(threads), str(ROOT / "tests" / "differential")], env=env)
                ids_by_run[f"{which} t{threads}"] = digest(np.fromfile(dst, dtype=np.uint32))
                rows.append((f"prepare.py-style + {which}", threads, wall, ids_by_run[f"{which} t{threads}"][0], rss,
                             cpu))
                dst.unlink()
        reference = next(iter(ids_by_run.values()))
        mismatched = [k for k, v in ids_by_run.items() if v != reference]
        print(f"input {src} ({size / 1e6:.1f} MB), {args.encoding}, {time.strftime('%Y-%m-%d')}")
        print(f"tokenmill rows: median wall and CPU of {repeat} interleaved runs, largest peak RSS; prepare.py rows: "
              "one run. CPU s: user + system of all the process's threads (thr counts encoding threads; reading "
              "and writing have threads of their own)")
        print(f"{'run':40} {'thr':>3} {'s':>8} {'CPU s':>8} {'MB/s':>8} {'Mtok/s':>8} {'peak RSS MB':>12}")
        for name, threads, wall, ntok, rss, cpu in rows:
            print(f"{name:40} {threads:>3} {wall:8.2f} {cpu:8.2f} {size / 1e6 / wall:8.1f} {ntok / wall / 1e6:8.2f} "
                  f"{rss / 1e6:12.0f}")
        bare_rate = statistics.median(bare_rates)
        print(f"tokenmill bare encode of the same texts (count --speed, 1 thread, CPU time of the encode alone, "
              f"median of {len(bare_rates)}, one before each round of rows): {bare_rate / 1e6:.2f} Mtok/s "
              f"(each: {', '.join(f'{r / 1e6:.2f}' for r in bare_rates)})")
        # Each round's run against that round's bare encode, then the median over rounds.
        for config in configs:
            name, _, threads = config
            if threads != 1:
                continue
            ntok = ids_by_run[f"tokenmill {name} t1"][0]
            wall_ratio = statistics.median(ntok / w / b for w, b in zip(walls[config], bare_rates))
            cpu_ratio = statistics.median(ntok / c / b for c, b in zip(cpus[config], bare_rates))
            print(f"  tokenmill tokenize ({name}), 1 thread: {wall_ratio:.0%} of bare encode (tokens/s, wall); "
                  f"{cpu_ratio:.0%} in tokens per CPU-s (medians over rounds of the run against its round's bare)")
        one = {name: wall for name, threads, wall, *_ in rows if threads == 1}
        for name, threads, wall, *_ in rows:
            if name.startswith("tokenmill") and threads == 2:
                print(f"  {name}: 2 threads {one[name] / wall:.2f}x as fast as 1 (wall)")
        if mismatched:
            print("DIFFERENT ids from the first run:", ", ".join(mismatched))
            return 1
        print(f"all {len(ids_by_run)} configurations produced the same {reference[0]} ids")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
