"""Tokenize on a cluster: a deterministic plan of units, each tokenized where a worker is, then an ordered
merge that writes exactly the shards (and manifest) of a single-machine run.

    import tokenmill.cluster
    from dask.distributed import Client
    tokenmill.cluster.tokenize(["web/*.jsonl", "books.parquet"], "out/web", executor="dask",
                               client=Client("tcp://scheduler:8786"), encoding="cl100k_base")
    # or executor="ray" (after ray.init(...)), or executor="local"

The plan (``plan()``) depends only on the inputs and ``unit_bytes``: an uncompressed text / JSON Lines file
is cut into byte ranges that start and end at line starts, a compressed file is one unit, a Parquet file is
one unit per row group. A unit is tokenized into its own megatron pair and manifest under ``work_dir``
(shared storage), written atomically by the same C++ writer, so a retried unit (a worker that died) starts
over or finds itself complete; it is never half-written. The merge reads the units in plan order and pushes
their documents, already encoded, through the same shard logic as a single run, which is why its output is
byte-identical to ``tokenmill.dataset.tokenize`` with the same options.

Workers build the tokenizer from its name, model file or tokenizer.json (``encoding`` / ``model`` /
``tokenizer``), never from a pickle: the plan carries the path, and the sha256 of what defines the ids as the
driver saw it, which every worker checks against what it built (a node whose copy of the file differs fails
its units instead of writing other ids). The files are read where the workers are, so paths must name the
same file on every node (shared storage).

A unit whose worker dies (killed, out of memory) is run again: Dask reschedules the tasks of a lost worker
(up to ``distributed.scheduler.allowed-failures`` times) and retries failing tasks ``retries`` times; Ray
retries a task whose worker died ``retries`` times (``max_retries``). The rerun finds the dead attempt's
temporary files, which the writer replaces, and never a half-written unit: a unit is complete only once its
manifest, written last and atomically, says so.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
from typing import Optional, Sequence

import numpy as np

from tokenmill import _core
from tokenmill.dataset import _is_parquet, _options, _push_strings, _sha256_file, expand_inputs

__all__ = ["plan", "tokenizer_spec", "run_unit", "merge", "tokenize", "count_unit", "train"]

_COMPRESSED = (".gz", ".zst", ".zstd")


def _is_jsonl(path: str, input_format: str) -> bool:
    if input_format != "auto":
        return input_format == "jsonl"
    p = path
    for z in _COMPRESSED:
        if p.endswith(z):
            p = p[: -len(z)]
    return p.endswith((".jsonl", ".json", ".ndjson"))


def _lines_before(path: str, offset: int, universal_newlines: bool) -> int:
    """Lines in the first `offset` bytes, as the readers number them (src/dataset/document_reader.cc says
    why): text by Python's universal newlines ("\\n", "\\r\\n", a lone "\\r"), JSON Lines by "\\n" only."""
    lines, cr = 0, False
    with open(path, "rb") as f:
        while offset > 0:
            block = f.read(min(offset, 1 << 20))
            if not block:
                break
            offset -= len(block)
            lines += block.count(b"\n")
            if universal_newlines:
                lines += block.count(b"\r") - block.count(b"\r\n")
                if cr and block[:1] == b"\n":
                    lines -= 1  # a "\r\n" across the blocks: counted at its "\r" already
                cr = block[-1:] == b"\r"
        if cr and f.read(1) == b"\n":
            lines -= 1
    return lines


def _line_start_at_or_after(f, pos: int, size: int, jsonl: bool) -> int:
    """The first line start >= pos. Lines end at "\\n"; in text mode also at "\\r" / "\\r\\n" (Python's
    universal newlines), so a cut never falls between the two bytes of "\\r\\n"."""
    if pos >= size:
        return size
    at = pos - 1
    f.seek(at)
    while True:
        block = f.read(1 << 16)
        if not block:
            return size
        for j, c in enumerate(block):
            if c == 0x0A:
                return at + j + 1
            if c == 0x0D and not jsonl:
                nxt = at + j + 1
                if j + 1 < len(block):
                    return nxt + 1 if block[j + 1] == 0x0A else nxt
                f.seek(nxt)
                two = f.read(1)
                return nxt + 1 if two == b"\n" else nxt
        at += len(block)


def plan(inputs, *, input_format: str = "auto", unit_bytes: int = 64 << 20) -> list[dict]:
    """The units, in document order. Each is a dict: unit, input, path, and begin/end (a byte range) or
    row_group (Parquet); neither means the whole file."""
    if unit_bytes <= 0:
        raise ValueError("unit_bytes must be positive")
    units: list[dict] = []
    for i, path in enumerate(expand_inputs(inputs)):
        if path == "-":
            raise ValueError("a cluster run cannot read standard input")
        if _is_parquet(path):
            import pyarrow.parquet as pq

            for rg in range(pq.ParquetFile(path).num_row_groups):
                units.append({"input": i, "path": path, "row_group": rg})
            continue
        if path.endswith(_COMPRESSED) or input_format == "whole":
            units.append({"input": i, "path": path})
            continue
        size = os.path.getsize(path)
        jsonl = _is_jsonl(path, input_format)
        begin = 0
        with open(path, "rb") as f:
            while True:
                end = _line_start_at_or_after(f, begin + unit_bytes, size, jsonl)
                units.append({"input": i, "path": path, "begin": begin, "end": end})
                begin = end
                if begin >= size:
                    break
    for k, u in enumerate(units):
        u["unit"] = k
    return units


# Tokenizers this process built, so a worker running many units parses a tokenizer.json once. Keyed by the
# file's identity as stat gives it: a file replaced or rewritten under the same path is built again.
_BUILT: dict = {}


def _built_tokenizer(spec: dict, add_special_tokens: bool):
    path = spec.get("tokenizer") or spec["model"]
    st = os.stat(path) if path else None
    key = (spec["encoding"], spec["model"], spec.get("tokenizer"), bool(add_special_tokens),
           (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) if st else None)
    t = _BUILT.get(key)
    if t is None:
        t = _core.CoreDatasetTokenizer(spec["encoding"], spec["model"], spec.get("tokenizer"), bool(add_special_tokens))
        _BUILT.clear()  # one at a time: a worker serves one run
        _BUILT[key] = t
    return t


def _writer(spec: dict, inputs, opts: dict, progress):
    """The C++ writer with the tokenizer built here from its name or file, checked against the driver's."""
    built = _built_tokenizer(spec, opts.get("add_special_tokens", False))
    w = _core.CoreDatasetWriter(None, None, inputs, opts, progress, None, built)
    want = spec.get("tokenizer_sha256")
    if want and w.tokenizer_sha256 != want:
        what = spec.get("tokenizer") or spec["model"] or spec["encoding"]
        raise ValueError(f"{what}: on {socket.gethostname()} its sha256 is {w.tokenizer_sha256}, not {want} as "
                         f"where the run started: every worker must read the same file")
    return w


def _unit_prefix(work_dir: str, unit: dict) -> str:
    return os.path.join(work_dir, f"unit_{unit['unit']:06d}")


def tokenizer_spec(encoding: Optional[str] = "cl100k_base", model=None, tokenizer=None) -> dict:
    """What workers build the tokenizer from: a name or a path (never the object), with the sha256 of the ids'
    definition as built here."""
    spec = {"encoding": None if (model or tokenizer) else encoding, "model": os.fspath(model) if model else None,
            "tokenizer": os.fspath(tokenizer) if tokenizer else None}
    spec["tokenizer_sha256"] = _core.dataset_tokenizer_sha256(spec["encoding"], spec["model"], spec["tokenizer"])
    return spec


def run_unit(unit: dict, spec: dict, work_dir: str) -> dict:
    """Tokenize one unit into work_dir (what a worker runs). Idempotent: a complete unit is not redone."""
    prefix = _unit_prefix(work_dir, unit)
    opts = dict(spec["options"])
    opts.update({"output": prefix, "format": "megatron", "shard_tokens": 0, "resume": True,
                 "progress_interval": 1e9})
    path = unit["path"]
    size = os.path.getsize(path)
    w = _writer(spec, [(path, size)], opts, None)
    if not w.already_complete:
        if "row_group" in unit:
            _push_row_group(w, path, unit["row_group"], opts["field"], opts["skip_bad"])
        else:
            w.add_file(path, 0, unit.get("begin", 0), unit.get("end", 2**64 - 1))
    s = w.finish()
    return {"unit": unit["unit"], "documents": s["documents"], "tokens": s["tokens"]}


def _push_row_group(writer, path: str, row_group: int, field: str, skip_bad: bool) -> None:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    rows = 0
    for batch in pf.iter_batches(row_groups=[row_group], columns=[field]):
        _push_strings(writer, batch.column(0), skip_bad,
                      lambda i: f"{path}: row group {row_group}: row {rows + i}: column {field!r} is null")
        rows += batch.num_rows


def _read_unit(prefix: str):
    """(tokens as uint32, document lengths): the unit's megatron pair, read per megatron-core's .idx layout."""
    idx = open(prefix + ".idx", "rb").read()
    if idx[:9] != b"MMIDIDX\x00\x00":
        raise ValueError(f"{prefix}.idx: not a megatron index")
    code = idx[17]
    (n,) = struct.unpack_from("<Q", idx, 18)
    lengths = np.frombuffer(idx, dtype="<i4", count=n, offset=34).astype(np.uint64)
    dtype = {8: "<u2", 4: "<i4"}[code]
    tokens = np.fromfile(prefix + ".bin", dtype=dtype).astype("<u4")
    return tokens, lengths


def merge(units: Sequence[dict], output: str, spec: dict, progress=None) -> dict:
    """Concatenate the units, in plan order, into the final shards and manifest."""
    paths = []
    for u in units:
        if u["input"] == len(paths):
            paths.append(u["path"])
    sizes = [(p, os.path.getsize(p)) for p in paths]
    opts = dict(spec["options"])
    opts["output"] = os.fspath(output)
    w = _writer(spec, sizes, opts, progress)
    if w.already_complete:
        return w.finish()
    work_dir = spec["work_dir"]
    for k, u in enumerate(units):
        prefix = _unit_prefix(work_dir, u)
        m = json.loads(open(prefix + ".manifest.json").read())
        if not m["complete"]:
            raise ValueError(f"{prefix}: unit {u['unit']} is not complete")
        tokens, lengths = _read_unit(prefix)
        # Slices of about a million tokens, so the merge's memory stays small.
        ends = np.cumsum(lengths) if len(lengths) else np.zeros(0, np.uint64)
        start_doc, start_tok = 0, 0
        while start_doc < len(lengths):
            stop = int(np.searchsorted(ends, start_tok + (1 << 20), side="right"))
            stop = max(stop, start_doc + 1)
            stop_tok = int(ends[stop - 1])
            w.add_encoded(tokens[start_tok:stop_tok].tobytes(), [int(x) for x in lengths[start_doc:stop]])
            start_doc, start_tok = stop, stop_tok
        w.add_skipped(m["skipped"])
        w.add_repaired(m["repaired"])
        w.add_bytes_read(int(u.get("end", 0)) - int(u.get("begin", 0)) if "begin" in u else 0)
        last_of_input = k + 1 == len(units) or units[k + 1]["input"] != u["input"]
        if last_of_input:
            w.finish_input(u["input"], _sha256_file(u["path"]))
    return w.finish()


def tokenize(
    inputs,
    output,
    *,
    executor: str = "dask",
    client=None,
    address: Optional[str] = None,
    unit_bytes: int = 64 << 20,
    work_dir: Optional[str] = None,
    keep_units: bool = False,
    retries: int = 2,
    format: str = "megatron",
    input_format: str = "auto",
    field: str = "text",
    encoding: Optional[str] = "cl100k_base",
    model: Optional[str] = None,
    tokenizer: Optional[str] = None,
    add_special_tokens: bool = False,
    separator: str = "eos",
    separator_id: Optional[int] = None,
    separator_token: Optional[str] = None,
    shard_tokens: int = 0,
    threads: int = 1,
    skip_bad: bool = False,
    resume: bool = True,
    batch_bytes: int = 1 << 20,
    progress=None,
) -> dict:
    """Plan, run every unit on the executor ("dask", "ray" or "local"), merge. Same options and output as
    tokenmill.dataset.tokenize (`tokenizer`: a Hugging Face tokenizer.json, which every worker loads from
    that path); `threads` is per unit, `retries` how often a unit is run again after its worker died or it
    failed."""
    units = plan(inputs, input_format=input_format, unit_bytes=unit_bytes)
    options = _options(output, format, input_format, field, separator, separator_id, shard_tokens, threads, skip_bad,
                       resume, batch_bytes, 0.5, separator_token, add_special_tokens)
    work_dir = os.fspath(work_dir) if work_dir else os.fspath(output) + ".units"
    os.makedirs(work_dir, exist_ok=True)
    spec = tokenizer_spec(encoding, model, tokenizer)
    spec.update({"options": options, "work_dir": work_dir})
    if executor == "dask":
        from dask.distributed import Client

        owned = client is None
        client = client or Client(address)
        try:
            futures = client.map(run_unit, units, spec=spec, work_dir=work_dir, pure=False, retries=retries)
            client.gather(futures)
        finally:
            if owned:
                client.close()
    elif executor == "ray":
        import ray

        task = ray.remote(max_retries=retries)(run_unit)
        ray.get([task.remote(u, spec, work_dir) for u in units])
    elif executor == "local":
        for u in units:
            run_unit(u, spec, work_dir)
    else:
        raise ValueError(f"executor must be dask, ray or local, not {executor!r}")
    summary = merge(units, output, spec, progress)
    if not keep_units:
        shutil.rmtree(work_dir, ignore_errors=True)
    summary["units"] = len(units)
    return summary


# ---- distributed training: count on the workers, merge, train ------------------------------------------


def _cli() -> str:
    """The tokenmill binary installed with the package (pip puts it beside the interpreter)."""
    here = os.path.join(os.path.dirname(sys.executable), "tokenmill")
    found = os.environ.get("TOKENMILL_CLI") or (here if os.access(here, os.X_OK) else shutil.which("tokenmill"))
    if not found:
        raise FileNotFoundError("the tokenmill command is not installed beside this Python (pip install tokenmill)")
    return found


def count_unit(unit: dict, spec: dict, work_dir: str) -> str:
    """Training stage 1 for one unit (what a worker runs): `tokenmill count --chunks` into a chunk count
    table, written atomically; a byte range is fed on standard input (it starts and ends at line starts, so
    its lines are exactly the file's lines in that range). Idempotent: an existing table is kept."""
    table = os.path.join(work_dir, f"unit_{unit['unit']:06d}.chunks")
    if os.path.exists(table):
        return table
    argv = [_cli(), "count", "--chunks", "-q", "-o", table, "--pattern", spec["pattern"], "--input-format",
            spec["input_format"], "--field", spec["field"]]
    if "begin" in unit:
        with open(unit["path"], "rb") as f:
            f.seek(unit["begin"])
            data = f.read(unit["end"] - unit["begin"])
        p = subprocess.run(argv + ["-"], input=data, capture_output=True)
    else:
        p = subprocess.run(argv + [unit["path"]], capture_output=True)
    if p.returncode != 0:
        message = p.stderr.decode("utf-8", errors="replace").strip()
        if "begin" in unit:
            # The range was standard input: its lines become the file's.
            before = _lines_before(unit["path"], unit["begin"], not _is_jsonl(unit["path"], spec["input_format"]))
            message = re.sub(r"standard input:(\d+):",
                             lambda m: f"{unit['path']}:{before + int(m.group(1))}:", message)
            message = message.replace("standard input", unit["path"])
        raise ValueError(f"tokenmill count --chunks failed: {message}")
    return table


def train(
    inputs,
    model_output,
    *,
    vocab_size: int,
    executor: str = "dask",
    client=None,
    address: Optional[str] = None,
    pattern: str = "gpt4",
    input_format: str = "lines",
    field: str = "text",
    special_tokens: Sequence[str] = (),
    tiktoken_output: Optional[str] = None,
    unit_bytes: int = 64 << 20,
    work_dir: Optional[str] = None,
    keep_units: bool = False,
    retries: int = 2,
) -> str:
    """Train one BPE vocabulary over a cluster: the plan's units are counted on the workers (`tokenmill
    count --chunks`), the tables merged and trained (`tokenmill train --from-counts`). Counting is a sum, so
    the merges are those of training on one machine, and so rustbpe's. Returns the model path."""
    if input_format not in ("lines", "jsonl"):
        raise ValueError("distributed training reads lines or jsonl inputs")
    units = plan(inputs, input_format=input_format, unit_bytes=unit_bytes)
    if any("row_group" in u for u in units) or any(u["path"].endswith(_COMPRESSED) for u in units):
        raise ValueError("distributed training reads uncompressed text or JSON Lines files")
    work_dir = os.fspath(work_dir) if work_dir else os.fspath(model_output) + ".units"
    os.makedirs(work_dir, exist_ok=True)
    spec = {"pattern": pattern, "input_format": input_format, "field": field}
    if executor == "dask":
        from dask.distributed import Client

        owned = client is None
        client = client or Client(address)
        try:
            tables = client.gather(client.map(count_unit, units, spec=spec, work_dir=work_dir, pure=False,
                                              retries=retries))
        finally:
            if owned:
                client.close()
    elif executor == "ray":
        import ray

        task = ray.remote(max_retries=retries)(count_unit)
        tables = ray.get([task.remote(u, spec, work_dir) for u in units])
    elif executor == "local":
        tables = [count_unit(u, spec, work_dir) for u in units]
    else:
        raise ValueError(f"executor must be dask, ray or local, not {executor!r}")
    merged = os.path.join(work_dir, "merged.chunks")
    subprocess.run([_cli(), "count", "--merge", "-q", "-o", merged, *tables], check=True, capture_output=True)
    argv = [_cli(), "train", "--vocab-size", str(vocab_size), "-o", os.fspath(model_output), "-q", "--from-counts"]
    if tiktoken_output:
        argv += ["--tiktoken", os.fspath(tiktoken_output)]
    for s in special_tokens:
        argv += ["--special", s]
    p = subprocess.run(argv + [merged], capture_output=True, text=True)
    if p.returncode != 0:
        raise ValueError(f"tokenmill train --from-counts failed: {p.stderr.strip()}")
    if not keep_units:
        shutil.rmtree(work_dir, ignore_errors=True)
    return os.fspath(model_output)
