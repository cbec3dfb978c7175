"""tokenmill.cluster: the plan's units start and end at line starts (as Python's universal newlines define
them), and every executor's ordered merge is byte for byte the single-machine output of tokenmill.dataset
(shards and manifest), which tests/python/test_dataset.py checks against tiktoken."""
from __future__ import annotations

import gzip
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tokenmill.cluster
import tokenmill.dataset


def docs_for(seed, n):
    rng = random.Random(seed)
    words = ["the", " ", "cat", "é", "日本語", "😀", "  ", "123", "don't", "Ω"]
    return ["".join(rng.choice(words) for _ in range(rng.randint(0, 40))) for _ in range(n)]


def make_inputs(d: Path) -> list[str]:
    a, b, c, e = docs_for(1, 800), docs_for(2, 500), docs_for(3, 300), docs_for(4, 200)
    with open(d / "a.jsonl", "w", encoding="utf-8") as f:
        for x in a:
            f.write(json.dumps({"text": x}) + "\n")
    # Text with every line ending Python knows, so range cuts meet "\r", "\r\n" and "\n".
    rng = random.Random(5)
    (d / "b.txt").write_bytes("".join(x + rng.choice(["\n", "\r\n", "\r"]) for x in b).encode())
    pq.write_table(pa.table({"text": c}), d / "c.parquet", row_group_size=70)
    (d / "e.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps({"text": x}) + "\n" for x in e).encode()))
    return [str(d / n) for n in ["a.jsonl", "b.txt", "c.parquet", "e.jsonl.gz"]]


def outputs(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


OPTIONS = dict(encoding="gpt2", shard_tokens=4000, format="megatron")


def single_run(tmp_path, inputs, **kw):
    d = tmp_path / "single"
    d.mkdir(exist_ok=True)
    tokenmill.dataset.tokenize(inputs, d / "out", **{**OPTIONS, **kw})
    return outputs(d)


def test_plan_cuts_at_line_starts(tmp_path):
    inputs = make_inputs(tmp_path)
    units = tokenmill.cluster.plan(inputs, unit_bytes=997)
    assert [u["unit"] for u in units] == list(range(len(units)))
    data = (tmp_path / "b.txt").read_bytes()
    ranges = [(u["begin"], u["end"]) for u in units if u["path"].endswith("b.txt")]
    assert len(ranges) > 5 and ranges[0][0] == 0 and ranges[-1][1] == len(data)
    for (_, e1), (b2, _) in zip(ranges, ranges[1:]):
        assert e1 == b2
        # A line start: right after "\n", or after a "\r" not followed by "\n".
        assert data[e1 - 1] == 0x0A or (data[e1 - 1] == 0x0D and data[e1] != 0x0A), e1
    # Python's own lines of the ranges are the lines of the file.
    from io import TextIOWrapper, BytesIO

    def lines(b):
        return list(TextIOWrapper(BytesIO(b), encoding="utf-8", errors="replace"))

    assert [x for b, e in ranges for x in lines(data[b:e])] == lines(data)
    assert sum(1 for u in units if "row_group" in u) == pq.ParquetFile(tmp_path / "c.parquet").num_row_groups
    assert sum(1 for u in units if u["path"].endswith(".gz")) == 1


def test_local_executor_equals_single_run(tmp_path):
    inputs = make_inputs(tmp_path)
    expected = single_run(tmp_path, inputs)
    (tmp_path / "local").mkdir()
    s = tokenmill.cluster.tokenize(inputs, tmp_path / "local" / "out", executor="local", unit_bytes=1500, **OPTIONS)
    assert s["units"] > 10
    assert outputs(tmp_path / "local") == expected


def test_llmc_merge_equals_single_run(tmp_path):
    inputs = make_inputs(tmp_path)
    kw = dict(format="llmc", separator="bos", shard_tokens=3000)
    expected = single_run(tmp_path, inputs, **kw)
    (tmp_path / "local").mkdir()
    tokenmill.cluster.tokenize(inputs, tmp_path / "local" / "out", executor="local", unit_bytes=2000,
                               **{**OPTIONS, **kw})
    assert outputs(tmp_path / "local") == expected


def test_dask_local_cluster_equals_single_run(tmp_path):
    from dask.distributed import Client, LocalCluster

    inputs = make_inputs(tmp_path)
    expected = single_run(tmp_path, inputs)
    (tmp_path / "dask").mkdir()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            tokenmill.cluster.tokenize(inputs, tmp_path / "dask" / "out", executor="dask", client=client,
                                       unit_bytes=3000, **OPTIONS)
    assert outputs(tmp_path / "dask") == expected


def test_ray_equals_single_run(tmp_path):
    import ray

    inputs = make_inputs(tmp_path)
    expected = single_run(tmp_path, inputs)
    (tmp_path / "ray").mkdir()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        tokenmill.cluster.tokenize(inputs, tmp_path / "ray" / "out", executor="ray", unit_bytes=3000, **OPTIONS)
    finally:
        ray.shutdown()
    assert outputs(tmp_path / "ray") == expected


def test_a_unit_killed_mid_run_is_redone_whole(tmp_path):
    docs = docs_for(9, 60000)
    with open(tmp_path / "a.jsonl", "w", encoding="utf-8") as f:
        for x in docs:
            f.write(json.dumps({"text": x}) + "\n")
    units = tokenmill.cluster.plan([str(tmp_path / "a.jsonl")], unit_bytes=1 << 30)
    assert len(units) == 1
    options = tokenmill.dataset._options(tmp_path / "out", "megatron", "auto", "text", "eos", None, 0, 1, False, True,
                                         1 << 12, 0.5)
    spec = {"encoding": "gpt2", "model": None, "options": options, "work_dir": str(tmp_path / "w")}
    (tmp_path / "w").mkdir()
    code = ("import sys, json; import tokenmill.cluster as c; "
            "c.run_unit(json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3])")
    argv = [sys.executable, "-c", code, json.dumps(units[0]), json.dumps(spec), str(tmp_path / "w")]
    t0 = time.monotonic()
    subprocess.run(argv, check=True)
    full = time.monotonic() - t0
    ref = outputs(tmp_path / "w")
    for f in (tmp_path / "w").iterdir():
        f.unlink()
    proc = subprocess.Popen(argv)
    time.sleep(full * 0.7)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # A unit is complete only when its manifest says so; the kill left it incomplete.
    mf = tmp_path / "w" / "unit_000000.manifest.json"
    assert not mf.exists() or not json.loads(mf.read_text())["complete"]
    tokenmill.cluster.run_unit(units[0], spec, str(tmp_path / "w"))
    assert {k: v for k, v in outputs(tmp_path / "w").items() if ".tmp" not in k} == ref


def test_distributed_count_merge_train_gives_rustbpes_merges(tmp_path):
    import base64

    import rustbpe

    rng = random.Random(11)
    words = ["the", "cat", "sat", "on", "mat", "日本", "é", "42", "don't", "  ", "\t"]
    text = "".join(" ".join(rng.choice(words) for _ in range(rng.randint(1, 20))) + rng.choice(["\n", "\r\n"])
                   for _ in range(3000))
    (tmp_path / "a.txt").write_bytes(text.encode())
    (tmp_path / "b.txt").write_bytes(text[: len(text) // 3].encode())
    inputs = [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            tokenmill.cluster.train(inputs, tmp_path / "m.model", vocab_size=600, executor="dask", client=client,
                                    unit_bytes=5000, tiktoken_output=tmp_path / "m.tiktoken")
    t = rustbpe.Tokenizer()
    docs = [line for p in inputs for line in open(p, encoding="utf-8")]  # what train_from_iterator(open()) sees
    t.train_from_iterator(iter(docs), 600)
    expected = b"".join(base64.b64encode(bytes(tok)) + b" %d\n" % r
                        for tok, r in sorted(t.get_mergeable_ranks(), key=lambda x: x[1]))
    assert (tmp_path / "m.tiktoken").read_bytes() == expected
    assert len(tokenmill.cluster.plan(inputs, unit_bytes=5000)) > 5
