"""Tokenize datasets into the shard formats trainers read: the Python side of ``tokenmill tokenize``.

    import tokenmill.dataset
    summary = tokenmill.dataset.tokenize(["web/*.jsonl.zst", "books.parquet"], "out/web",
                                         format="megatron", encoding="cl100k_base", threads=8)

Same options, defaults and output bytes as the CLI (include/tokenmill/dataset.h documents the formats and
the manifest). Text, JSON Lines, .gz and .zst inputs are read by the C++ readers; Parquet files (a string
column named by ``field``) are streamed by record batch through pyarrow and pushed into the same C++ writer,
so memory stays one record batch whatever the file size. Output is byte-identical for any thread count, and
a killed run started again with the same arguments resumes from the manifest.

The tokenizer is always built from its name (``encoding``) or its model file (``model``), never from a
pickled object.
"""
from __future__ import annotations

import glob
import hashlib
import os
import sys
import threading
from typing import Callable, Iterable, Optional, Sequence, Union

from tokenmill import _core

__all__ = ["tokenize", "expand_inputs", "FORMATS", "SEPARATORS", "INPUT_FORMATS"]

FORMATS = ("megatron", "nanogpt", "llmc")
SEPARATORS = ("eos", "bos", "none")
INPUT_FORMATS = ("auto", "lines", "whole", "jsonl")


def expand_inputs(inputs: Union[str, os.PathLike, Iterable[Union[str, os.PathLike]]]) -> list[str]:
    """Paths and globs -> paths: each glob's matches sorted, so the document order is the same anywhere."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    out: list[str] = []
    for p in inputs:
        p = os.fspath(p)
        if p != "-" and any(c in p for c in "*?["):
            matches = sorted(glob.glob(p))
            if not matches:
                raise FileNotFoundError(f"{p}: no file matches")
            out += matches
        else:
            out.append(p)
    return out


def _is_parquet(path: str) -> bool:
    return path.endswith(".parquet") or path.endswith(".pq")


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class _FileHash:
    """sha256 of a file for the manifest, hashed on a thread of its own while the record batches are read
    (hashlib releases the GIL on each block), as the C++ reader hashes its inputs: the thread that decodes and
    encodes the batches does not also hash."""

    def __init__(self, path: str):
        self._path = path
        self._digest: Optional[str] = None
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name="tokenmill-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._digest = _sha256_file(self._path)
        except BaseException as e:  # re-raised by hexdigest(), on the caller's thread
            self._error = e

    def hexdigest(self) -> str:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._digest


def _push_strings(writer, column, skip_bad: bool, null_message: Callable[[int], str]) -> None:
    """One record batch's string column into the writer, in row order; a null fails (null_message(row)) or,
    with skip_bad, is skipped and counted."""
    import pyarrow as pa

    if column.null_count == 0:
        # The common case, straight from the Arrow buffers (no Python str per row).
        if pa.types.is_string_view(column.type):
            column = column.cast(pa.large_string())
        _, offsets, data = column.buffers()
        writer.add_arrow_strings(offsets, data, column.offset, len(column), pa.types.is_large_string(column.type))
        return
    docs = []
    for i, v in enumerate(column.to_pylist()):
        if v is None:
            if not skip_bad:
                raise ValueError(null_message(i))
            writer.add_skipped(1)
        else:
            docs.append(v)
    writer.add_documents(docs)


def _push_parquet(writer, path: str, index: int, field: str, skip_bad: bool, batch_rows: int) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("Parquet input needs pyarrow: pip install 'tokenmill[parquet]'") from e
    # Memory: pyarrow by default reads ahead (pre_buffer, threads) and the batch becomes Python strs before
    # the C++ writer copies it; on docs.jsonl as Parquet (row groups of 8192 rows) that peaked at 412 MB.
    # Without read-ahead and with 1024-row batches: 195 MB, of which 74 MB is Python with pyarrow imported.
    pf = pq.ParquetFile(path, pre_buffer=False)
    schema = pf.schema_arrow
    if field not in schema.names:
        raise ValueError(f"{path}: no column {field!r} (columns: {', '.join(schema.names)})")
    kind = schema.field(field).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)):
        raise ValueError(f"{path}: column {field!r} is {kind}, not a string column")
    size = os.path.getsize(path)
    file_hash = _FileHash(path)
    total_rows = max(1, pf.metadata.num_rows)
    rows = 0
    reported = 0
    for batch in pf.iter_batches(batch_size=batch_rows, columns=[field], use_threads=False):
        _push_strings(writer, batch.column(0), skip_bad, lambda i: f"{path}: row {rows + i}: column {field!r} is null")
        rows += batch.num_rows
        now = size * rows // total_rows
        writer.add_bytes_read(now - reported)
        reported = now
    writer.add_bytes_read(size - reported)
    writer.finish_input(index, file_hash.hexdigest())


def _options(output, format, input_format, field, separator, separator_id, shard_tokens, threads, skip_bad, resume,
             batch_bytes, progress_interval, separator_token=None, add_special_tokens=False) -> dict:
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    if separator not in SEPARATORS:
        raise ValueError(f"separator must be one of {', '.join(SEPARATORS)}, not {separator!r}")
    if input_format not in INPUT_FORMATS:
        raise ValueError(f"input_format must be one of {', '.join(INPUT_FORMATS)}, not {input_format!r}")
    return {
        "output": os.fspath(output), "format": format, "input_format": input_format, "field": field,
        "separator": separator, "separator_id": separator_id, "shard_tokens": int(shard_tokens),
        "threads": int(threads), "skip_bad": bool(skip_bad), "resume": bool(resume),
        "batch_bytes": int(batch_bytes), "progress_interval": float(progress_interval),
        "separator_token": separator_token or "", "add_special_tokens": bool(add_special_tokens),
    }


def tokenize(
    inputs: Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]],
    output: Union[str, os.PathLike],
    *,
    format: str = "megatron",
    input_format: str = "auto",
    field: str = "text",
    encoding: Optional[str] = "cl100k_base",
    model: Optional[Union[str, os.PathLike]] = None,
    tokenizer: Optional[Union[str, os.PathLike]] = None,
    add_special_tokens: bool = False,
    separator: str = "eos",
    separator_id: Optional[int] = None,
    separator_token: Optional[str] = None,
    shard_tokens: int = 0,
    threads: int = 1,
    skip_bad: bool = False,
    resume: bool = True,
    batch_bytes: int = 1 << 20,
    parquet_batch_rows: int = 1024,
    progress: Optional[Callable[[dict], None]] = None,
    progress_interval: float = 0.5,
) -> dict:
    """Tokenize `inputs` into shards at `output` (a prefix); returns the summary (documents, tokens, shards,
    skipped, repaired, resumed_documents, files, ...). Errors name the file and line (or row / offset).
    `tokenizer`: a Hugging Face tokenizer.json instead of `encoding` (its template only with
    `add_special_tokens`); `separator_token` names the separator by its token."""
    paths = expand_inputs(inputs)
    opts = _options(output, format, input_format, field, separator, separator_id, shard_tokens, threads,
                    skip_bad, resume, batch_bytes, progress_interval, separator_token, add_special_tokens)
    sizes = []
    for p in paths:
        if p == "-":
            sizes.append((p, 0))
        elif os.path.isdir(p):
            raise IsADirectoryError(f"{p}: is a directory")
        else:
            sizes.append((p, os.path.getsize(p)))
    if tokenizer is not None:
        writer = _core.CoreDatasetWriter(None, None, sizes, opts, progress, os.fspath(tokenizer))
    else:
        writer = _core.CoreDatasetWriter(None if model else encoding, os.fspath(model) if model else None, sizes,
                                         opts, progress)
    if not writer.already_complete:
        for i, p in enumerate(paths):
            if _is_parquet(p):
                _push_parquet(writer, p, i, field, skip_bad, parquet_batch_rows)
            else:
                writer.add_file(p, i)
    return writer.finish()


def print_progress(info: dict, stream=None) -> None:
    """A progress line like the CLI's (``progress=tokenmill.dataset.print_progress``)."""
    stream = stream or sys.stderr
    s = max(info["seconds"], 1e-9)
    mb = info["input_bytes_read"] / 1e6
    eta = ""
    if info["input_bytes"]:
        frac = min(1.0, info["input_bytes_read"] / info["input_bytes"])
        left = info["seconds"] * (1 - frac) / frac if frac > 0 else 0
        eta = f"{100 * frac:5.1f}% ETA {int(left) // 3600}:{int(left) // 60 % 60:02d}:{int(left) % 60:02d} "
    stream.write(f"tokenize: {eta}{mb:.1f} MB ({mb / s:.1f} MB/s), {info['documents']} documents, "
                 f"{info['tokens']} tokens ({info['tokens'] / s / 1e6:.2f}M tokens/s)\n")
    stream.flush()
