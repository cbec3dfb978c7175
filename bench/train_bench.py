#!/usr/bin/env python3
"""Training benchmark: `tokenmill train` against Karpathy's rustbpe 0.1.0, HF tokenizers' BpeTrainer and gigabpe on the
same corpus, vocab size and split pattern, each line a document (rustbpe and HF get `open(path)`, exactly what
tokenmill's `lines` mode reads).

HF at matching settings: BPE model, pre-tokenizer Split(pattern, isolated) + ByteLevel(use_regex=False)
(the layout of tokenmill's --hf-json output), initial alphabet = the 256 byte-level characters, vocab_size
the same (alphabet included), min_frequency 0, no special tokens, train_from_iterator(open(path)). HF breaks
ties differently (and counts in i32), so its merges are not expected to equal rustbpe's: the run reports
how many leading merges agree and how much of the vocabulary is shared.

    .venv/bin/python bench/train_bench.py                          # en.txt, vocab 32768, GPT-4 pattern
    .venv/bin/python bench/train_bench.py --corpus multi.txt --vocab 16384 --pattern nanochat

Each trainer runs in its own process; CPU seconds (user + system) and peak RSS come from that process's
rusage (os.wait4), wall time from the clock around it. rustbpe runs with RAYON_NUM_THREADS=1 by default
(--rayon-threads to change), and so does HF (RAYON_NUM_THREADS, TOKENIZERS_PARALLELISM), so all are
single-threaded. Both write the vocabulary as .tiktoken and the
files must be byte-identical, or the run reports a mismatch.

Env: TOKENMILL_CLI (default build/tokenmill), TOKENMILL_CORPUS_DIR (default .deps/corpus).
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

HF_WORKER = r"""
import sys
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
path, vocab, pattern, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.Sequence([
    pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
tok.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(vocab_size=vocab, min_frequency=0, show_progress=False, special_tokens=[],
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
tok.train_from_iterator(open(path, encoding="utf-8"), trainer=trainer)
tok.save(out)
"""


# gigabpe 0.1.0 offers only "whitespace" and "bytelevel" (GPT-2's split) pre-tokenizers, not the GPT-4 pattern,
# and writes HF-style merges: its time is reported beside the others, its merges are not compared.
GIGABPE_WORKER = r"""
import sys, gigabpe
path, vocab, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
gigabpe.train_tokenizer([path], vocab, out, pretokenizer="bytelevel", threads=1)
"""


def byte_level_decoder() -> dict[str, int]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def compare_hf(hf_json: Path, tiktoken_file: Path) -> str:
    import base64
    import json

    dec = byte_level_decoder()
    spec = json.loads(hf_json.read_text(encoding="utf-8"))
    merges = [m.split(" ") if isinstance(m, str) else m for m in spec["model"]["merges"]]
    hf_tokens = [bytes(dec[c] for c in a + b) for a, b in merges]
    tm_tokens = [base64.b64decode(line.split()[0]) for line in tiktoken_file.read_bytes().splitlines()][256:]
    n = min(len(hf_tokens), len(tm_tokens))
    same_prefix = next((i for i in range(n) if hf_tokens[i] != tm_tokens[i]), n)
    shared = len(set(hf_tokens) & set(tm_tokens))
    return (f"HF merges: {len(hf_tokens)}; the first {same_prefix} make the same tokens in the same order as "
            f"tokenmill (= rustbpe); {shared} of {len(tm_tokens)} merged tokens shared")


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
    ap.add_argument("--skip-hf", action="store_true")
    ap.add_argument("--skip-gigabpe", action="store_true")
    args = ap.parse_args()

    cli = os.environ.get("TOKENMILL_CLI", str(REPO / "build" / "tokenmill"))
    corpus = Path(os.environ.get("TOKENMILL_CORPUS_DIR", str(Path(__file__).resolve().parent.parent / ".deps" / "corpus"))) / args.corpus
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
        hf_out = Path(tmp) / "hf.json"
        if not args.skip_hf:
            env = dict(os.environ, RAYON_NUM_THREADS=args.rayon_threads, RAYON_RS_NUM_CPUS=args.rayon_threads,
                       TOKENIZERS_PARALLELISM="false" if args.rayon_threads == "1" else "true")
            hf = measure([sys.executable, "-c", HF_WORKER, str(corpus), str(args.vocab), PATTERNS[args.pattern],
                          str(hf_out)], env=env)
            rows.append((f"HF tokenizers 0.23.3 BpeTrainer (RAYON_NUM_THREADS={args.rayon_threads})", hf))
        if not args.skip_gigabpe:
            gb = measure([sys.executable, "-c", GIGABPE_WORKER, str(corpus), str(args.vocab), str(Path(tmp) / "gb.json")],
                         env=dict(os.environ, RAYON_NUM_THREADS="1"))
            rows.append(("gigabpe 0.1.0, threads=1 (GPT-2 byte-level split, not the same merges)", gb))
        print(f"\n| trainer | CPU s | wall s | peak RSS MB |\n|---|---:|---:|---:|")
        for name, m in rows:
            print(f"| {name} | {m['cpu']:.2f} | {m['wall']:.2f} | {m['rss_mb']:.0f} |")
        if not args.skip_hf:
            hf_cpu = next(m["cpu"] for name, m in rows if name.startswith("HF"))
            print("\n" + compare_hf(hf_out, tm_out) + f"; HF CPU / tokenmill CPU {hf_cpu / tm['cpu']:.1f}x")
        if not args.skip_rustbpe:
            same = tm_out.read_bytes() == rb_out.read_bytes()
            print(f"\nmerges identical: {'yes' if same else 'NO'}; CPU speedup {rows[1][1]['cpu'] / tm['cpu']:.1f}x")
            if not same:
                sys.exit(1)
        print("\ntokenmill stages:\n" + "\n".join("  " + l for l in tm["stderr"].splitlines()
                                                  if l.startswith(("time", "peak", "distinct", "chunks", "documents"))))


if __name__ == "__main__":
    main()
