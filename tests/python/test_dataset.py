"""tokenmill.dataset and `python -m tokenmill tokenize`: Parquet through pyarrow and files through the C++
readers, checked against tiktoken 0.14.0 on what pyarrow / json read, with the shard readers of
tests/dataset/formats.py (written from the formats' documentation)."""
from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_hf import model_path

import tokenmill.dataset

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "dataset"))
import formats  # noqa: E402
import harness  # noqa: E402


def docs_for(seed, n):
    rng = random.Random(seed)
    words = ["the", " ", "cat", "\n", "é", "日本語", "😀", "  ", "123", "don't", "Ω", "\r\n"]
    return ["".join(rng.choice(words) for _ in range(rng.randint(0, 40))) for _ in range(n)]


def expected(encoding, docs, separator="eos"):
    e = harness.tiktoken_encoding(encoding)
    out = []
    for d in docs:
        ids = e.encode_ordinary(d)
        out.append(ids + [e.eot_token] if separator == "eos" else [e.eot_token] + ids if separator == "bos" else ids)
    return out


def write_parquet(path, docs, column="text", row_group_size=100):
    table = pa.table({"id": list(range(len(docs))), column: docs})
    pq.write_table(table, path, row_group_size=row_group_size)


def write_jsonl(path, docs):
    with open(path, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"text": d}) + "\n")


def files(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in (".bin", ".idx", ".offsets")}


def test_parquet_gives_the_shards_of_the_same_jsonl(tmp_path):
    docs = docs_for(1, 700)
    write_parquet(tmp_path / "a.parquet", docs)
    write_jsonl(tmp_path / "a.jsonl", docs)
    (tmp_path / "p").mkdir()
    (tmp_path / "j").mkdir()
    s = tokenmill.dataset.tokenize(tmp_path / "a.parquet", tmp_path / "p" / "out", encoding="gpt2",
                                   shard_tokens=3000, parquet_batch_rows=64)
    tokenmill.dataset.tokenize([tmp_path / "a.jsonl"], tmp_path / "j" / "out", encoding="gpt2", shard_tokens=3000)
    assert s["documents"] == len(docs) and s["shards"] > 2
    assert files(tmp_path / "p") == files(tmp_path / "j")
    seqs = []
    for idx in sorted((tmp_path / "p").glob("out_*.idx")):
        seqs += formats.read_megatron(str(idx)[:-4])[1]
    assert seqs == expected("gpt2", docs)
    manifest = json.loads((tmp_path / "p" / "out.manifest.json").read_text())
    import hashlib

    assert manifest["inputs"][0]["sha256"] == hashlib.sha256((tmp_path / "a.parquet").read_bytes()).hexdigest()


def test_parquet_nulls_and_column_errors(tmp_path):
    table = pa.table({"text": ["a", None, "b", None], "n": [1, 2, 3, 4]})
    pq.write_table(table, tmp_path / "n.parquet")
    with pytest.raises(ValueError, match=r"n\.parquet: row 1: column 'text' is null"):
        tokenmill.dataset.tokenize(tmp_path / "n.parquet", tmp_path / "out")
    s = tokenmill.dataset.tokenize(tmp_path / "n.parquet", tmp_path / "out2", skip_bad=True, separator="none")
    assert s["skipped"] == 2 and s["documents"] == 2
    assert formats.read_megatron(str(tmp_path / "out2"))[1] == expected("cl100k_base", ["a", "b"], "none")
    with pytest.raises(ValueError, match="column 'n' is int64, not a string column"):
        tokenmill.dataset.tokenize(tmp_path / "n.parquet", tmp_path / "out3", field="n")
    with pytest.raises(ValueError, match="no column 'body'"):
        tokenmill.dataset.tokenize(tmp_path / "n.parquet", tmp_path / "out4", field="body")


def test_threads_and_mixed_inputs(tmp_path):
    a, b = docs_for(2, 300), docs_for(3, 300)
    write_parquet(tmp_path / "a.parquet", a)
    write_jsonl(tmp_path / "b.jsonl", b)
    outs = []
    for t in [1, 2]:
        d = tmp_path / f"t{t}"
        d.mkdir()
        tokenmill.dataset.tokenize([tmp_path / "a.parquet", tmp_path / "b.jsonl"], d / "out", format="nanogpt",
                                   encoding="gpt2", separator="bos", threads=t, batch_bytes=1000)
        outs.append(files(d))
    assert outs[0] == outs[1]
    assert formats.read_nanogpt(str(tmp_path / "t1" / "out")) == expected("gpt2", a + b, "bos")


def test_lone_surrogates_are_encoded_as_tiktoken_does(tmp_path):
    docs = ["ok \ud800 lone", "pair \U0001F600"]
    w = tokenmill._core.CoreDatasetWriter("cl100k_base", None, [], {"output": str(tmp_path / "o"), "separator": "none"},
                                          None)
    w.add_documents(docs)
    w.finish()
    assert formats.read_megatron(str(tmp_path / "o"))[1] == expected("cl100k_base", docs, "none")


def test_python_m_tokenize_and_resume_after_kill(tmp_path):
    docs = docs_for(4, 30000)
    write_parquet(tmp_path / "big.parquet", docs, row_group_size=2000)
    args = [sys.executable, "-m", "tokenmill", "tokenize", str(tmp_path / "big.parquet"), "-e", "gpt2", "-f", "llmc",
            "--shard-tokens", "30000", "-q"]
    (tmp_path / "ref").mkdir()
    t0 = time.monotonic()
    subprocess.run(args + ["-o", str(tmp_path / "ref" / "fw")], check=True)
    full = time.monotonic() - t0
    ref = files(tmp_path / "ref")
    flat = [t for ids in expected("gpt2", docs) for t in ids]
    assert [t for name in sorted(ref) for t in formats.read_llmc(str(tmp_path / "ref" / name))] == flat
    (tmp_path / "k").mkdir()
    proc = subprocess.Popen(args + ["-o", str(tmp_path / "k" / "fw")])
    time.sleep(0.6 * full)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    p = subprocess.run(args[:-1] + ["-o", str(tmp_path / "k" / "fw")], capture_output=True, text=True, check=True)
    assert "tokenize:" in p.stderr
    assert files(tmp_path / "k") == ref


def test_tokenizer_json_from_parquet_and_python_m_equal_hf_tokenizers(tmp_path):
    """tokenizer.json (llama3) from Python, for Parquet and for `python -m tokenmill tokenize`: each document's
    ids are HF tokenizers' encode(add_special_tokens=False) with the separator given by name."""
    from tokenizers import Tokenizer as HfTokenizer

    path = model_path("llama3")
    hf = HfTokenizer.from_file(str(path))
    bos = hf.token_to_id("<|begin_of_text|>")
    docs = docs_for(8, 300)
    write_parquet(tmp_path / "a.parquet", docs)
    want = [[bos] + hf.encode(d, add_special_tokens=False).ids for d in docs]
    tokenmill.dataset.tokenize(tmp_path / "a.parquet", tmp_path / "p", tokenizer=path, separator="bos",
                               separator_token="<|begin_of_text|>", threads=2)
    assert formats.read_megatron(str(tmp_path / "p"))[1] == want
    m = json.loads((tmp_path / "p.manifest.json").read_text())
    assert m["tokenizer"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    subprocess.run([sys.executable, "-m", "tokenmill", "tokenize", str(tmp_path / "a.parquet"), "-o",
                    str(tmp_path / "m"), "--tokenizer", str(path), "--separator", "bos", "--separator-token",
                    "<|begin_of_text|>", "-q"], check=True)
    assert formats.read_megatron(str(tmp_path / "m"))[1] == want


def test_bad_arguments_raise(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", ["x"])
    with pytest.raises(ValueError, match="format must be one of"):
        tokenmill.dataset.tokenize(tmp_path / "a.jsonl", tmp_path / "o", format="arrow")
    with pytest.raises(FileNotFoundError, match="no file matches"):
        tokenmill.dataset.tokenize(str(tmp_path / "*.nothing"), tmp_path / "o")
    (tmp_path / "b.jsonl").write_text('{"text": 1}\n')
    with pytest.raises(ValueError, match=r"b\.jsonl:1: field \"text\" is not a string"):
        tokenmill.dataset.tokenize(tmp_path / "b.jsonl", tmp_path / "o")


def test_arrow_string_buffers_give_the_ids_of_the_strs(tmp_path):
    """Parquet batches go to C++ as Arrow buffers: string and large_string columns, slices (a nonzero
    offset), empty strings and a batch of only empty strings give tiktoken's ids of the Python strs; bytes
    that are not UTF-8 are replaced as errors="replace" does and counted."""
    docs = docs_for(11, 500) + [""] * 70
    for kind in (pa.string(), pa.large_string()):
        pq.write_table(pa.table({"text": pa.array(docs, kind)}), tmp_path / "k.parquet", row_group_size=64)
        out = tmp_path / f"k_{kind}"
        tokenmill.dataset.tokenize(tmp_path / "k.parquet", out, encoding="gpt2", parquet_batch_rows=50)
        assert formats.read_megatron(str(out))[1] == expected("gpt2", docs)
    w = tokenmill._core.CoreDatasetWriter("gpt2", None, [], {"output": str(tmp_path / "s"), "separator": "none"},
                                          None)
    sliced = pa.array(docs, pa.string())[17:230]
    assert sliced.offset == 17
    tokenmill.dataset._push_strings(w, sliced, False, str)
    tokenmill.dataset._push_strings(w, pa.array(docs[:40], pa.string_view()), False, str)
    raw = [b"ok \xff\xfe end", "é".encode()[:1], b"fine"]
    offsets = pa.array([0, len(raw[0]), len(raw[0]) + len(raw[1]), sum(map(len, raw))], pa.int32()).buffers()[1]
    bad = pa.Array.from_buffers(pa.string(), 3, [None, offsets, pa.py_buffer(b"".join(raw))])
    tokenmill.dataset._push_strings(w, bad, False, str)
    s = w.finish()
    want = docs[17:230] + docs[:40] + [r.decode("utf-8", errors="replace") for r in raw]
    assert formats.read_megatron(str(tmp_path / "s"))[1] == expected("gpt2", want, "none")
    assert s["repaired"] == 2
