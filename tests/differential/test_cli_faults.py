"""The command-line tool ($TOKENMILL_CLI) on bad input and faults (issue #11): every failure is a clear
error (rc 1, a message naming the input), never a crash, a silently short output or a lost file. Expected
ids come from tiktoken; expected JSON semantics from Python's json."""
from __future__ import annotations

import base64
import json
import os
import resource
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

import harness
from test_cli import cli, run


def train(tmp_path: Path, *args, text: str = "hello world hello there\n" * 20, vocab: int = 260, name="in.txt"):
    src = tmp_path / name
    src.write_text(text, encoding="utf-8")
    return run("train", "--vocab-size", vocab, "-q", *args, src)


def assert_error(r: subprocess.CompletedProcess, *needles: str) -> str:
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, f"rc {r.returncode} (expected 1, an error); stderr: {err}"
    for n in needles:
        assert n in err, f"{n!r} not in stderr: {err}"
    return err


def model_text(pattern: bytes, specials=(), ranks=None) -> bytes:
    """A version 1 model file (no checksum), as older tokenmill wrote; ranks default to the 256 bytes."""
    ranks = ranks if ranks is not None else [bytes([i]) for i in range(256)]
    out = b"tokenmill-model 1\npattern " + base64.b64encode(pattern) + b"\n"
    for tok, i in specials:
        out += b"special " + base64.b64encode(tok) + b" " + str(i).encode() + b"\n"
    out += b"ranks " + str(len(ranks)).encode() + b"\n"
    out += b"".join(base64.b64encode(t) + b" " + str(i).encode() + b"\n" for i, t in enumerate(ranks))
    return out


# ---- 1. a pattern that is not valid UTF-8 ----

def test_invalid_utf8_pattern_on_the_command_line_is_an_error(tmp_path):
    r = train(tmp_path, "--pattern", os.fsdecode(b"\xff(a"), "-o", tmp_path / "m.model")
    assert_error(r, "--pattern", "not valid UTF-8")


def test_invalid_utf8_pattern_in_a_model_file_is_an_error(tmp_path):
    m = tmp_path / "bad.model"
    m.write_bytes(model_text(b"\xff\xfe(x"))
    r = run("encode", "--model", m, "-", stdin=b"abc")
    assert_error(r, str(m), "not valid UTF-8")


def test_invalid_utf8_pattern_in_a_chunk_table_is_an_error(tmp_path):
    table = tmp_path / "t.chunks"
    src = tmp_path / "in.txt"
    src.write_text("abc abc\n")
    assert run("count", "--chunks", "-q", "-o", table, src).returncode == 0
    data = bytearray(table.read_bytes())
    # Header: magic 8, version 4, flags 4, documents 8, total 8, entries 8, pattern length 4, pattern.
    plen = int.from_bytes(data[40:44], "little")
    data[44] = 0xFF  # first pattern byte
    # Fix the trailing FNV-1a checksum so only the pattern is wrong.
    h = 0xCBF29CE484222325
    for b in data[:-8]:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    data[-8:] = h.to_bytes(8, "little")
    table.write_bytes(bytes(data))
    assert plen > 0
    r = run("train", "--vocab-size", 260, "-q", "--from-counts", "-o", tmp_path / "m.model", table)
    assert_error(r, str(table), "not valid UTF-8")


# ---- 2. a custom pattern where the regex engine gives up ----

def test_match_limit_in_training_is_an_error_not_lost_documents(tmp_path):
    text = "a" * 40 + "b\n"
    r = train(tmp_path, "--pattern", "(a+)+$|.", "-o", tmp_path / "m.model", text=text)
    assert_error(r, "gave up")
    assert not (tmp_path / "m.model").exists()


def test_match_limit_in_encode_is_an_error_not_a_shorter_output(tmp_path):
    m = tmp_path / "m.model"
    m.write_bytes(model_text(b"(a+)+$|."))
    for args in (["encode", "--ordinary"], ["encode"], ["count"]):
        r = run(*args, "--model", m, "-", stdin=b"a" * 40 + b"b")
        assert_error(r, "gave up")


def test_deep_repetition_gives_tiktokens_pieces(tmp_path):
    # (\w|\W)+ over 1,500 bytes overflowed PCRE2's default JIT stack; tiktoken's answer is one piece.
    import tiktoken

    pattern = r"(\w|\W)+"
    ranks = {bytes([i]): i for i in range(256)}
    text = ("ab, cd! " * 200)[:1500]
    m = tmp_path / "m.model"
    m.write_bytes(model_text(pattern.encode()))
    r = run("encode", "--ordinary", "--model", m, "-", stdin=text.encode())
    assert r.returncode == 0, r.stderr.decode()
    ref = tiktoken.Encoding("t", pat_str=pattern, mergeable_ranks=ranks, special_tokens={})
    assert [int(t) for t in r.stdout.split()] == ref.encode_ordinary(text)


# ---- 4. read errors ----

def test_read_error_is_an_error_naming_the_file():
    for cmd in ("count", "encode"):
        r = run(cmd, "-e", "cl100k_base", "/proc/self/mem")
        assert_error(r, "/proc/self/mem")
        assert r.stdout == b""


def limited(limit_bytes: int):
    def set_limit():
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    return set_limit


def test_allocation_failure_on_input_is_an_error_naming_the_file(tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(300 << 20)  # sparse: 300 MiB of zero bytes, no disk used
    for cmd in ("count", "encode"):
        r = subprocess.run([cli(), cmd, "-e", "cl100k_base", big], capture_output=True, timeout=120,
                           preexec_fn=limited(256 << 20))
        assert_error(r, str(big))
        assert r.stdout == b""


def test_encoding_a_text_too_large_for_the_memory_limit_is_an_error_not_an_abort(tmp_path):
    """100 MiB of text under a 256 MiB address-space limit: reading it fits, its ids do not. Before the library
    caught bad_alloc at its entry points, this was rc 134 (std::bad_alloc escaping main)."""
    big = tmp_path / "big.txt"
    with open(big, "w") as f:
        f.write("hello world, the quick brown fox\nJumps over 123 lazy dogs\n" * (100 * 2**20 // 58))
    r = subprocess.run([cli(), "encode", "-e", "cl100k_base", big], capture_output=True, timeout=120,
                       preexec_fn=limited(256 << 20))
    assert_error(r, str(big), "out of memory encoding")
    assert r.stdout == b""


def full_device(tmp_path: Path) -> Path:
    """A private copy of /dev/full (char 1:7): a tool that wrongly renames over its -o target replaces this
    node, not the system's. Without the right to make nodes (not root), the system's node, which then
    cannot be replaced either."""
    node = tmp_path / "full"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except PermissionError:
        return Path("/dev/full")
    return node


# ---- 5. a failed stdout ----

@pytest.mark.parametrize("args", [["count", "-e", "cl100k_base", "-"], ["encodings"]])
def test_full_stdout_is_an_error(args, tmp_path):
    with open(full_device(tmp_path), "wb") as full:
        r = subprocess.run([cli(), *args], input=b"hello", stdout=full, stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == 1, r.stderr.decode()
    assert b"standard output" in r.stderr


@pytest.mark.parametrize("args", [["count", "-e", "cl100k_base", "-"], ["encodings"]])
def test_closed_stdout_is_an_error(args):
    r = subprocess.run([cli(), *args], input=b"hello", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=60, preexec_fn=lambda: os.close(1))
    assert r.returncode == 1, r.stderr.decode()


# ---- 6. --allowed-special takes one value ----

def test_allowed_special_does_not_swallow_the_input_file(tmp_path):
    text = "a<|endoftext|>b"
    f = tmp_path / "in.txt"
    f.write_text(text)
    r = run("encode", "-e", "cl100k_base", "--allowed-special", "all", f, stdin=b"other text")
    assert r.returncode == 0, r.stderr.decode()
    expected = harness.tiktoken_encoding("cl100k_base").encode(text, allowed_special="all")
    assert [int(t) for t in r.stdout.split()] == expected


def test_unknown_allowed_special_is_an_error_listing_the_specials():
    r = run("encode", "-e", "cl100k_base", "--allowed-special", "<|endoftxt|>", "-", stdin=b"x")
    err = assert_error(r, "<|endoftxt|>")
    for token in harness.tiktoken_encoding("cl100k_base").special_tokens_set:
        assert token in err
    r = run("count", "-e", "cl100k_base", "--allowed-special", "<|nope|>", "-", stdin=b"x")
    assert_error(r, "<|nope|>", "<|endoftext|>")


# ---- 7. JSON Lines with a duplicate key: Python's json takes the last value ----

def test_jsonl_duplicate_key_follows_python_json(tmp_path):
    line = '{"text": "aaaa aaaa aaaa", "text": "zzzz zzzz zzzz"}'
    assert json.loads(line)["text"] == "zzzz zzzz zzzz"
    src = tmp_path / "d.jsonl"
    src.write_text(line + "\n")
    t1, t2 = tmp_path / "dup.tiktoken", tmp_path / "plain.tiktoken"
    r = run("train", "--vocab-size", 258, "-q", "--input-format", "jsonl", "-o", tmp_path / "a.model",
            "--tiktoken", t1, src)
    assert r.returncode == 0, r.stderr.decode()
    plain = tmp_path / "p.jsonl"
    plain.write_text(json.dumps({"text": json.loads(line)["text"]}) + "\n")
    r = run("train", "--vocab-size", 258, "-q", "--input-format", "jsonl", "-o", tmp_path / "b.model",
            "--tiktoken", t2, plain)
    assert r.returncode == 0, r.stderr.decode()
    assert t1.read_bytes() == t2.read_bytes()
    assert base64.b64encode(b"zz") in t1.read_bytes()


# ---- 8. -o naming a device, FIFO or symlink ----

def test_output_to_dev_full_reports_no_space(tmp_path):
    full = full_device(tmp_path)
    r = run("encode", "-e", "cl100k_base", "-o", full, "-", stdin=b"hello world")
    assert_error(r, str(full), "No space left")
    assert stat.S_ISCHR(os.lstat(full).st_mode)


def test_output_to_a_fifo_writes_through(tmp_path):
    fifo = tmp_path / "ids.fifo"
    os.mkfifo(fifo)
    p = subprocess.Popen([cli(), "encode", "-e", "cl100k_base", "-o", fifo, "-"], stdin=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdin.write(b"hello world")
    p.stdin.close()
    # Opening the read end without blocking: if the tool replaced the FIFO instead, nobody would write.
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    data = b""
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            chunk = None
        if chunk:
            data += chunk
        elif chunk == b"" and p.poll() is not None:
            break
        time.sleep(0.01)
    os.close(fd)
    assert p.wait(timeout=60) == 0, p.stderr.read().decode()
    assert [int(t) for t in data.split()] == harness.tiktoken_encoding("cl100k_base").encode("hello world")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["ids.fifo"]


def test_output_through_a_symlink_replaces_the_target(tmp_path):
    target = tmp_path / "real" / "ids.txt"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    r = run("encode", "-e", "cl100k_base", "-o", link, "-", stdin=b"hello world")
    assert r.returncode == 0, r.stderr.decode()
    assert link.is_symlink()
    expected = harness.tiktoken_encoding("cl100k_base").encode("hello world")
    assert [int(t) for t in target.read_text().split()] == expected
    assert sorted(os.listdir(target.parent)) == ["ids.txt"]


# ---- 10. train writes all outputs or none ----

def test_train_writes_no_model_when_another_output_fails(tmp_path):
    model = tmp_path / "m.model"
    r = train(tmp_path, "-o", model, "--hf-json", tmp_path / "missing" / "tokenizer.json")
    assert_error(r, "tokenizer.json")
    assert not model.exists()
    r = train(tmp_path, "-o", model, "--tiktoken", tmp_path / "missing" / "r.tiktoken")
    assert_error(r, "r.tiktoken")
    assert not model.exists()
    assert sorted(os.listdir(tmp_path)) == ["in.txt"]


# ---- 11. model files carry a checksum ----

def test_model_file_bit_flips_are_refused(tmp_path):
    model = tmp_path / "m.model"
    assert train(tmp_path, "-o", model, vocab=280).returncode == 0
    data = model.read_bytes()
    text = "hello there world"
    good = run("encode", "--model", model, "-", stdin=text.encode())
    assert good.returncode == 0
    flipped = tmp_path / "f.model"
    loaded_different = []
    for pos in range(0, len(data), max(1, len(data) // 150)):
        for bit in (0, 3, 6):
            d = bytearray(data)
            d[pos] ^= 1 << bit
            flipped.write_bytes(bytes(d))
            r = run("encode", "--model", flipped, "-", stdin=text.encode())
            if r.returncode == 0 and r.stdout != good.stdout:
                loaded_different.append((pos, bit))
            assert r.returncode in (0, 1), r.stderr
    assert loaded_different == []


def test_version_1_model_files_still_load(tmp_path):
    m = tmp_path / "v1.model"
    m.write_bytes(model_text(rb"\p{L}+|\s+|."))
    r = run("encode", "--ordinary", "--model", m, "-", stdin=b"ab cd")
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.split() == [b"97", b"98", b"32", b"99", b"100"]


# ---- 12. temp files of killed runs are cleaned up ----

def test_stale_temp_files_of_dead_processes_are_removed(tmp_path):
    out = tmp_path / "ids.txt"
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = [tmp_path / f"ids.txt.tmp.{dead.pid}", tmp_path / f"ids.txt.tmp.{dead.pid}.AbC123"]
    for s in stale:
        s.write_bytes(b"x" * 1000)
    live = tmp_path / f"ids.txt.tmp.{os.getpid()}.Xyz789"  # this process is alive: left alone
    live.write_bytes(b"y")
    other = tmp_path / "other.txt.tmp.1"
    other.write_bytes(b"z")
    r = run("encode", "-e", "cl100k_base", "-o", out, "-", stdin=b"hi")
    assert r.returncode == 0, r.stderr.decode()
    assert sorted(os.listdir(tmp_path)) == sorted(["ids.txt", live.name, other.name])


def test_sigkill_leaves_no_file_that_a_later_run_keeps(tmp_path):
    out = tmp_path / "ids.txt"
    big = tmp_path / "big.txt"
    big.write_bytes(b"hello world " * (4 << 20))
    p = subprocess.Popen([cli(), "encode", "-e", "cl100k_base", "-o", out, big])
    deadline = time.time() + 60
    while time.time() < deadline and not any(n.startswith("ids.txt.tmp") for n in os.listdir(tmp_path)):
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert not out.exists()
    r = run("encode", "-e", "cl100k_base", "-o", out, "-", stdin=b"hi")
    assert r.returncode == 0
    assert sorted(os.listdir(tmp_path)) == ["big.txt", "ids.txt"]


# ---- 13. no abort: /dev/zero and memory limits ----

def test_dev_zero_as_model_is_an_error(tmp_path):
    r = subprocess.run([cli(), "encode", "--model", "/dev/zero", "-"], input=b"x", capture_output=True,
                       timeout=120, preexec_fn=limited(512 << 20))
    assert_error(r, "/dev/zero")


def test_dev_zero_as_input_under_a_memory_limit_is_an_error():
    r = subprocess.run([cli(), "count", "-e", "cl100k_base", "/dev/zero"], capture_output=True, timeout=120,
                       preexec_fn=limited(512 << 20))
    assert_error(r, "/dev/zero", "memory")


def test_loading_an_encoding_under_a_memory_limit_is_an_error():
    r = subprocess.run([cli(), "count", "-e", "o200k_base", "-"], input=b"x", capture_output=True, timeout=120,
                       preexec_fn=limited(40 << 20))
    assert r.returncode == 1, (r.returncode, r.stderr.decode())


# ---- 14. a chunk table's lengths are checked against the file ----

def test_chunk_table_with_a_huge_entry_length_is_truncated_not_allocated(tmp_path):
    table = tmp_path / "t.chunks"
    src = tmp_path / "in.txt"
    src.write_text("abc abc\n")
    assert run("count", "--chunks", "-q", "-o", table, src).returncode == 0
    data = bytearray(table.read_bytes())
    plen = int.from_bytes(data[40:44], "little")
    first_entry = 44 + plen
    data[first_entry:first_entry + 4] = (0xF0000000).to_bytes(4, "little")
    table.write_bytes(bytes(data[:197]))
    r = subprocess.run([cli(), "train", "--vocab-size", "260", "-q", "--from-counts", "-o", tmp_path / "m.model",
                        table], capture_output=True, timeout=120, preexec_fn=limited(512 << 20))
    assert_error(r, str(table), "truncated")


# ---- 15. special token ids the format cannot hold ----

def test_special_token_id_no_rank_is_refused(tmp_path):
    m = tmp_path / "m.model"
    m.write_bytes(model_text(rb"\p{L}+|.", specials=[(b"<|x|>", 4294967295)]))
    r = run("encode", "--model", m, "-", stdin=b"ab")
    assert_error(r, str(m), "4294967295")
