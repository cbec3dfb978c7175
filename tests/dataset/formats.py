"""Readers for the shard formats, written from each format's documentation (not from tokenmill's code):

- megatron-core IndexedDataset .idx (megatron/core/datasets/indexed_dataset.py, _IndexWriter / _IndexReader):
  b"MMIDIDX\\x00\\x00", <Q version (1), <B dtype code (DType enum: 1 uint8, 2 int8, 3 int16, 4 int32,
  5 int64, 6 float64, 7 float32, 8 uint16), <Q sequence count, <Q document count (len(document_indices),
  i.e. documents + 1), int32[sequence count] lengths, int64[sequence count] byte pointers into .bin,
  int64[document count] document indices. The .bin is the sequences back to back in that dtype.
- nanoGPT train.bin: raw uint16 (np.memmap(path, dtype=np.uint16, mode="r")); offsets beside it.
- llm.c shards (dev/data/data_common.py write_datafile, train_gpt2.c's loader): header of 256 int32,
  header[0] = 20240520, header[1] = 1 (uint16 tokens), header[2] = token count, then the tokens; the file
  size must be 1024 + 2 * count.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

MEGATRON_DTYPES = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 6: np.float64, 7: np.float32,
                   8: np.uint16}


def read_megatron(prefix: str) -> tuple[int, list[list[int]], list[int]]:
    """(dtype code, the sequences, the document indices)."""
    idx = Path(prefix + ".idx").read_bytes()
    assert idx[:9] == b"MMIDIDX\x00\x00", "bad magic"
    (version,) = struct.unpack_from("<Q", idx, 9)
    assert version == 1
    (code,) = struct.unpack_from("<B", idx, 17)
    seq_count, doc_count = struct.unpack_from("<QQ", idx, 18)
    off = 34
    lengths = np.frombuffer(idx, dtype="<i4", count=seq_count, offset=off)
    off += 4 * seq_count
    pointers = np.frombuffer(idx, dtype="<i8", count=seq_count, offset=off)
    off += 8 * seq_count
    doc_idx = np.frombuffer(idx, dtype="<i8", count=doc_count, offset=off)
    off += 8 * doc_count
    assert off == len(idx), "trailing bytes in .idx"
    dtype = np.dtype(MEGATRON_DTYPES[code]).newbyteorder("<")
    bin_ = np.memmap(prefix + ".bin", dtype=dtype, mode="r") if Path(prefix + ".bin").stat().st_size else np.zeros(0, dtype)
    seqs = []
    for n, p in zip(lengths, pointers):
        assert p % dtype.itemsize == 0
        start = int(p) // dtype.itemsize
        seqs.append([int(x) for x in bin_[start:start + int(n)]])
    assert sum(int(n) for n in lengths) == len(bin_), ".bin holds more than the index says"
    return code, seqs, [int(x) for x in doc_idx]


def read_nanogpt(prefix: str, dtype=np.uint16) -> list[list[int]]:
    path = Path(prefix + ".bin")
    data = np.memmap(path, dtype=dtype, mode="r") if path.stat().st_size else np.zeros(0, dtype)
    offsets = np.fromfile(prefix + ".offsets", dtype="<u8")
    assert offsets[0] == 0 and offsets[-1] == len(data)
    return [[int(x) for x in data[a:b]] for a, b in zip(offsets[:-1], offsets[1:])]


def read_llmc(path: str) -> list[int]:
    raw = Path(path).read_bytes()
    header = np.frombuffer(raw[:1024], dtype="<i4")
    assert header[0] == 20240520, "magic number mismatch in the data .bin file"
    assert header[1] == 1, "unsupported version"
    ntok = int(header[2])
    assert len(raw) == 1024 + 2 * ntok, "number of tokens read does not match header"
    return [int(x) for x in np.frombuffer(raw, dtype="<u2", offset=1024)]
