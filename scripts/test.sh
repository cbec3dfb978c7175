#!/usr/bin/env bash
# The README's test command: sets up everything, then runs the whole suite.
#   1. build (Release) and the C++ unit tests
#   2. the differential suite against tiktoken 0.14.0 (and bpe-openai) on real corpora and generated input
#   2b. the Python package (pip install . into .venv) against tiktoken 0.14.0 and rustbpe 0.1.0
#   3. the C++ tests again under AddressSanitizer + UndefinedBehaviorSanitizer
#   4. libFuzzer targets, each for a bounded time (FUZZ_SECONDS, default 60)
# Env: TOKENMILL_CORPUS_DIR (default: built into .deps/corpus by ../shared/corpus/assemble.sh when that
# script is present; otherwise corpus tests are skipped and say so), TOKENMILL_CACHE_DIR (default .deps/cache).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export TOKENMILL_CACHE_DIR=${TOKENMILL_CACHE_DIR:-$ROOT/.deps/cache}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
step() { echo; echo "=== $* ($(date +%T))"; }

step "setup + build"
scripts/setup.sh --test

step "fetch rank files (verified against tiktoken's sha256)"
build/tokenmill fetch all

if [ -z "${TOKENMILL_CORPUS_DIR:-}" ]; then
  if [ -f "$ROOT/.deps/corpus/en.txt" ]; then
    export TOKENMILL_CORPUS_DIR=$ROOT/.deps/corpus
  elif [ -x "$ROOT/../shared/corpus/assemble.sh" ] || [ -f "$ROOT/../shared/corpus/assemble.sh" ]; then
    step "assemble corpora (../shared/corpus/assemble.sh, ~2-3 min)"
    WORK=$ROOT/.deps/corpus-work bash "$ROOT/../shared/corpus/assemble.sh" "$ROOT/.deps/corpus" | tail -n 6
    rm -rf "$ROOT/.deps/corpus-work"
    export TOKENMILL_CORPUS_DIR=$ROOT/.deps/corpus
  fi
fi

step "C++ unit tests"
(cd build && ctest -j2 --output-on-failure)

step "install + find_package(tokenmill) from a separate project"
rm -rf build/install-test
cmake --install build --prefix build/install-test/prefix >/dev/null
cmake -S tests/find-package-test -B build/install-test/build -G Ninja -DCMAKE_PREFIX_PATH="$ROOT/build/install-test/prefix" >/dev/null
cmake --build build/install-test/build >/dev/null
build/install-test/build/uses_tokenmill

step "differential tests against tiktoken"
export TOKENMILL_ENCODE_RECORDS=$ROOT/build/tests/encode_records
export TOKENMILL_CLI=$ROOT/build/tokenmill
export TOKENMILL_DEPS_DIR=$ROOT/.deps
.venv/bin/python -m pytest -q tests/differential

step "Python package: pip install . into .venv, tests/python against tiktoken + rustbpe"
.venv/bin/pip install -q --disable-pip-version-check .
.venv/bin/python -m pytest -q tests/python

step "C++ unit tests under ASan + UBSan"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOKENMILL_SANITIZE=ON -DTOKENMILL_BENCHMARK=OFF >/dev/null
cmake --build build-asan
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest -j2 --output-on-failure)

step "fuzzers (${FUZZ_SECONDS}s each)"
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOKENMILL_FUZZ=ON \
  -DTOKENMILL_TEST=OFF -DTOKENMILL_BENCHMARK=OFF >/dev/null
cmake --build build-fuzz --target fuzz_rank_file fuzz_encode fuzz_tokenizer_json fuzz_hf_encode
for f in fuzz_rank_file fuzz_encode fuzz_tokenizer_json fuzz_hf_encode; do
  mkdir -p build-fuzz/corpus-$f
  build-fuzz/fuzz/$f -max_total_time="$FUZZ_SECONDS" -max_len=4096 -rss_limit_mb=4096 \
    build-fuzz/corpus-$f fuzz/seeds 2>&1 | tail -n 3
done

step "all tests passed"
