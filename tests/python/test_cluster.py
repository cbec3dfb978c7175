"""tokenmill.cluster: the plan's units start and end at line starts (as Python's universal newlines define
them), and every executor's ordered merge is byte for byte the single-machine output of tokenmill.dataset
(shards and manifest), which tests/python/test_dataset.py checks against tiktoken."""
from __future__ import annotations

import gzip
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_hf import model_path

import tokenmill.cluster
import tokenmill.dataset

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "dataset"))
import formats  # noqa: E402  (shard readers written from the formats' documentation)


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


class RaySession:
    def __enter__(self):
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        return self

    def __exit__(self, *exc):
        import ray

        ray.shutdown()


def on_cluster(executor: str, fn):
    """fn(extra keyword arguments for tokenmill.cluster.tokenize) on a 2-worker Dask LocalCluster or Ray."""
    if executor == "dask":
        from dask.distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                return fn({"client": client})
    with RaySession():
        return fn({})


@pytest.mark.parametrize("executor", ["dask", "ray"])
def test_tokenizer_json_on_workers_equals_single_run(tmp_path, executor):
    """Workers load the llama3 tokenizer.json from its path: the merged shards and manifest are byte for byte
    the single-machine run's, whose ids are HF tokenizers' on what Python reads from each input."""
    from tokenizers import Tokenizer as HfTokenizer

    path = model_path("llama3")
    inputs = make_inputs(tmp_path)
    kw = dict(format="megatron", shard_tokens=4000, tokenizer=path, separator_token="<|end_of_text|>")
    expected = single_run(tmp_path, inputs, **kw)
    hf = HfTokenizer.from_file(str(path))
    eot = hf.token_to_id("<|end_of_text|>")
    with open(tmp_path / "b.txt", encoding="utf-8") as f:
        docs = docs_for(1, 800) + list(f) + docs_for(3, 300) + docs_for(4, 200)
    want = [e.ids + [eot] for e in hf.encode_batch(docs, add_special_tokens=False)]
    got = []
    for idx in sorted((tmp_path / "single").glob("out_*.idx")):
        code, seqs, _ = formats.read_megatron(str(idx)[:-4])
        assert code == 4  # 128,256 ids: int32
        got += seqs
    assert got == want
    (tmp_path / executor).mkdir()
    s = on_cluster(executor, lambda extra: tokenmill.cluster.tokenize(
        inputs, tmp_path / executor / "out", executor=executor, unit_bytes=40000, **extra, **{**OPTIONS, **kw}))
    assert s["units"] > 5
    assert outputs(tmp_path / executor) == expected


def test_a_worker_with_another_tokenizer_file_fails_its_units(tmp_path):
    """The driver's sha256 of the tokenizer file travels with the plan: a worker whose file at that path is
    another fails instead of writing what may be other ids (here: the file changes after the run started)."""
    inputs = make_inputs(tmp_path)[:1]
    model = tmp_path / "tokenizer.json"
    model.write_bytes(model_path("llama3").read_bytes())
    spec = tokenmill.cluster.tokenizer_spec(tokenizer=model)
    units = tokenmill.cluster.plan(inputs, unit_bytes=1 << 20)
    spec.update(options=tokenmill.dataset._options(tmp_path / "o", "megatron", "auto", "text", "eos", None, 0, 1,
                                                   False, True, 1 << 20, 0.5, "<|end_of_text|>"),
                work_dir=str(tmp_path))
    model.write_bytes(model.read_bytes() + b"\n")  # the same ids, but not the file the driver hashed
    with pytest.raises(ValueError, match="its sha256 is .*, not .* as where the run started"):
        tokenmill.cluster.run_unit(units[0], spec, str(tmp_path))
    assert not list(tmp_path.glob("unit_*"))


def kill_a_worker_mid_unit(work_dir: Path, stop: threading.Event, killed: list):
    """SIGKILL the process writing a unit, seen by its temporary file (named "<file>.tmp.<pid>.XXXXXX" by the
    atomic writer), while that file is still there: the worker dies inside the unit."""
    pattern = re.compile(r"^unit_\d+\.bin\.tmp\.(\d+)\.")
    while not stop.is_set() and not killed:
        try:
            names = os.listdir(work_dir)
        except FileNotFoundError:
            names = []
        for n in names:
            m = pattern.match(n)
            if m and (work_dir / n).exists():
                pid = int(m.group(1))
                os.kill(pid, signal.SIGKILL)
                killed.append((n, pid))
                return
        time.sleep(0.001)


@pytest.mark.parametrize("executor", ["dask", "ray"])
def test_a_worker_that_dies_mid_unit_is_retried(tmp_path, executor):
    """A worker killed (SIGKILL) while it writes a unit: the executor runs the unit again (Dask reschedules a
    lost worker's tasks, Ray retries with max_retries), the rerun replaces the dead attempt's temporary
    file, and the merged output is byte for byte the single-machine run's; no unit is left half-written."""
    docs = docs_for(9, 70000)
    with open(tmp_path / "a.jsonl", "w", encoding="utf-8") as f:
        for x in docs:
            f.write(json.dumps({"text": x}) + "\n")
    inputs = [str(tmp_path / "a.jsonl")]
    kw = dict(encoding="gpt2", shard_tokens=200000, format="megatron", batch_bytes=1 << 14)
    expected = single_run(tmp_path, inputs, **kw)
    out = tmp_path / executor
    out.mkdir()
    work = tmp_path / "units"
    work.mkdir()
    units = tokenmill.cluster.plan(inputs, unit_bytes=1 << 20)
    assert len(units) >= 3
    stop, killed = threading.Event(), []
    watcher = threading.Thread(target=kill_a_worker_mid_unit, args=(work, stop, killed))
    watcher.start()
    try:
        on_cluster(executor, lambda extra: tokenmill.cluster.tokenize(
            inputs, out / "out", executor=executor, unit_bytes=1 << 20, work_dir=work, keep_units=True,
            retries=2, **extra, **kw))
    finally:
        stop.set()
        watcher.join()
    assert killed, "no unit was seen in progress"
    assert outputs(out) == expected
    names = sorted(p.name for p in work.iterdir())
    assert not [n for n in names if ".tmp." in n], names
    assert names == sorted(f"unit_{u['unit']:06d}{ext}" for u in units for ext in (".bin", ".idx", ".manifest.json"))
    for u in units:
        assert json.loads((work / f"unit_{u['unit']:06d}.manifest.json").read_text())["complete"]


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
    subprocess.run(argv, check=True)
    ref = outputs(tmp_path / "w")
    for f in (tmp_path / "w").iterdir():
        f.unlink()
    # Killed when its temporary shard is seen, not after a guessed time: a warm second run can finish sooner.
    proc = subprocess.Popen(argv)
    stop, killed = threading.Event(), []
    watcher = threading.Thread(target=kill_a_worker_mid_unit, args=(tmp_path / "w", stop, killed))
    watcher.start()
    proc.wait()
    stop.set()
    watcher.join()
    assert killed and killed[0][1] == proc.pid, "the unit was not seen in progress"
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


# ---- line numbers with lone "\r": what Python numbers, in a single run, the CLI and every unit ----------


def model_file(path: Path, pattern: bytes) -> Path:
    """A version 1 tokenmill model file (the 256 bytes as ranks, <|endoftext|> = 256) with its own pattern."""
    import base64

    out = b"tokenmill-model 1\npattern " + base64.b64encode(pattern) + b"\n"
    out += b"special " + base64.b64encode(b"<|endoftext|>") + b" 256\n" + b"ranks 256\n"
    out += b"".join(base64.b64encode(bytes([i])) + b" %d\n" % i for i in range(256))
    path.write_bytes(out)
    return path


def errors_of_every_run(tmp_path, path: Path, unit_bytes: int, **kw) -> list[str]:
    """The error of tokenmill.dataset, of `tokenmill tokenize` and of the cluster plan's units on `path`."""
    messages = []
    with pytest.raises(ValueError) as e:
        tokenmill.dataset.tokenize([path], tmp_path / "single", **kw)
    messages.append(str(e.value))
    argv = [tokenmill.cluster._cli(), "tokenize", str(path), "-o", str(tmp_path / "cli"), "-q"]
    argv += ["--model", str(kw["model"])] if "model" in kw else ["-e", kw.get("encoding", "cl100k_base")]
    p = subprocess.run(argv, capture_output=True, text=True)
    assert p.returncode == 1
    messages.append(p.stderr)
    units = tokenmill.cluster.plan([path], unit_bytes=unit_bytes)
    assert len(units) > 3
    with pytest.raises(ValueError) as e:
        tokenmill.cluster.tokenize([path], tmp_path / "local", executor="local", unit_bytes=unit_bytes, **kw)
    messages.append(str(e.value))
    return messages


def test_text_line_numbers_count_a_lone_cr_as_python_does(tmp_path):
    """Text lines end at "\\n", "\\r\\n" and a lone "\\r" (Python's file iteration). A custom pattern that PCRE2
    gives up on (issue #11) fails the document on one line; every run names the line Python numbers."""
    rng = random.Random(3)
    lines = [f"line {i}" + rng.choice(["\r", "\r", "\n", "\r\n"]) for i in range(400)]
    lines[300] = "a" * 40 + "b\r"
    path = tmp_path / "t.txt"
    path.write_bytes("".join(lines).encode())
    with open(path, encoding="utf-8") as f:
        want = next(i for i, line in enumerate(f, 1) if "aaaa" in line)
    assert want == 301
    model = model_file(tmp_path / "m.model", b"(a+)+$|.")
    for message in errors_of_every_run(tmp_path, path, 700, model=model):
        assert f"{path}:{want}: " in message and "gave up" in message, message


def test_jsonl_line_numbers_count_only_newlines(tmp_path):
    """JSON Lines records end at "\\n" only; a lone "\\r" is JSON whitespace inside a record (json.loads
    accepts it). A malformed record after many lone "\\r": every run names its line in data.split(b"\\n")."""
    rng = random.Random(4)
    records = []
    for i in range(500):
        r = json.dumps({"text": f"doc {i}"})
        records.append(r.replace(": ", ":\r", 1) if rng.random() < 0.5 else r + rng.choice(["\r", ""]))
    records[420] = '{"text":\r"x",}\r'
    data = ("\n".join(records) + "\n").encode()
    path = tmp_path / "t.jsonl"
    path.write_bytes(data)
    bad = []
    for i, raw in enumerate(data.split(b"\n"), 1):
        try:
            json.loads(raw) if raw.strip() else None
        except ValueError:
            bad.append(i)
    assert bad == [421]
    for message in errors_of_every_run(tmp_path, path, 2000, encoding="gpt2"):
        assert f"{path}:421: malformed JSON" in message, message


def test_distributed_count_names_the_files_line(tmp_path):
    """tokenmill count --chunks reads a unit's range on standard input: its error's line becomes the file's
    (text with lone "\\r"), the line the single-machine `tokenmill train` names."""
    rng = random.Random(6)
    lines = [f"w{i} x" + rng.choice(["\r", "\n", "\r\n"]) for i in range(600)]
    lines[500] = "a" * 40 + "b\n"
    path = tmp_path / "t.txt"
    path.write_bytes("".join(lines).encode())
    with open(path, encoding="utf-8") as f:
        want = next(i for i, line in enumerate(f, 1) if "aaaa" in line)
    p = subprocess.run([tokenmill.cluster._cli(), "train", "--vocab-size", "300", "-q", "--pattern", "(a+)+$|.",
                        "-o", str(tmp_path / "one.model"), str(path)], capture_output=True, text=True)
    assert p.returncode == 1 and f"{path}:{want}:" in p.stderr, p.stderr
    assert len(tokenmill.cluster.plan([path], unit_bytes=1000)) > 3
    with pytest.raises(ValueError, match=re.escape(f"{path}:{want}:") + ".*gave up"):
        tokenmill.cluster.train([path], tmp_path / "m.model", vocab_size=300, executor="local", unit_bytes=1000,
                                pattern="(a+)+$|.")
