#!/usr/bin/env bash
# The README's test command: sets up everything, then runs the whole suite.
#   1. build (Release) and the C++ unit tests
#   2. the differential suite against tiktoken 0.14.0 (and bpe-openai) on real corpora and generated input
#   2b. the Python package as users get it (scripts/package_test.sh: sdist -> wheel built with node hidden
#       -> auditwheel repair -> fresh venv) against tiktoken 0.14.0 and rustbpe 0.1.0
#   2c. clang-format on the lines changed since scripts/format-base (git clang-format)
#   3. the C++ tests again under AddressSanitizer + UndefinedBehaviorSanitizer (clang)
#   4. libFuzzer targets from the same sanitizer build, each for a bounded time (FUZZ_SECONDS, default 30)
# Env: TOKENMILL_CORPUS_DIR (default: built into .deps/corpus by ../shared/corpus/assemble.sh when that
# script is present; otherwise corpus tests are skipped and say so), TOKENMILL_CACHE_DIR (default .deps/cache).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export TOKENMILL_CACHE_DIR=${TOKENMILL_CACHE_DIR:-$ROOT/.deps/cache}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
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

# A skipped test proves nothing: a missing oracle, golden file or reference is a failure. The one skip
# allowed is the corpus tests' when no corpus could be set up (they say so).
no_skips() {
  if grep '^SKIPPED' "$1" | grep -v 'TOKENMILL_CORPUS_DIR is not set'; then
    echo "tokenmill: the tests above were skipped: install the missing reference (scripts/setup.sh --test)"
    exit 1
  fi
}

step "differential tests against tiktoken"
export TOKENMILL_ENCODE_RECORDS=$ROOT/build/tests/encode_records
export TOKENMILL_CLI=$ROOT/build/tokenmill
export TOKENMILL_DEPS_DIR=$ROOT/.deps
.venv/bin/python -m pytest -q -rs tests/differential 2>&1 | tee build/differential.log
no_skips build/differential.log

step "tokenize datasets: shards against Python's json/open + tiktoken, resume, bad input"
.venv/bin/python -m pytest -q -rs tests/dataset 2>&1 | tee build/dataset.log
no_skips build/dataset.log

step "Python package: sdist -> wheel without node -> auditwheel repair -> fresh venv -> tests/python"
scripts/package_test.sh

step "format: clang-format on the lines changed since scripts/format-base"
# Lines changed since the recorded base commit, not whole files: code older than the check is not
# reformatted wholesale (the house rule: format only what you touch). Works on any clone with history.
base=$(cat scripts/format-base)
git cat-file -e "$base^{commit}" 2>/dev/null || { echo "format-base $base is not in this clone's history"; exit 1; }
fmt=$(git clang-format --binary clang-format --diff --extensions cc,h,hpp "$base" -- src include cli python tests \
  bench fuzz tools)
if [ -n "$fmt" ] && [ "$fmt" != "no modified files to format" ] && [ "$fmt" != "clang-format did not modify any files" ]; then
  echo "$fmt"; echo "tokenmill: run git clang-format $base (lines above are not clang-formatted)"; exit 1
fi

# One clang tree serves both: the unit tests and the fuzzers link the same library, built once with ASan,
# UBSan and libFuzzer's coverage hooks. -O1 -g1 keeps stack traces with lines and builds in a third of
# RelWithDebInfo's time; two separate sanitizer trees cost CI ~18 minutes of compiling on 2 cores.
step "build under ASan + UBSan (clang): unit tests and fuzzers"
CXX=clang++ cmake -S . -B build-san -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DTOKENMILL_SANITIZE=ON -DTOKENMILL_FUZZ=ON -DTOKENMILL_BENCHMARK=OFF >/dev/null
cmake --build build-san

step "C++ unit tests under ASan + UBSan"
(cd build-san && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest -j2 --output-on-failure)

step "fuzzers (${FUZZ_SECONDS}s each)"
FUZZERS="fuzz_rank_file fuzz_encode fuzz_pattern fuzz_model_file fuzz_chunk_table fuzz_jsonl fuzz_jsonl_document
  fuzz_tokenizer_json fuzz_hf_encode fuzz_tekken"
for f in $FUZZERS; do
  mkdir -p build-san/corpus-$f
  # Seeds per input kind; the chunk table reader runs under a malloc limit, so an allocation sized by an
  # unchecked length field fails the run.
  seeds=fuzz/seeds; extra=""
  case $f in
    fuzz_pattern) seeds=fuzz/seeds-pattern ;;
    fuzz_model_file) seeds=fuzz/seeds-model ;;
    fuzz_chunk_table) seeds=fuzz/seeds-chunks; extra="-malloc_limit_mb=256" ;;
    fuzz_jsonl) seeds=fuzz/seeds-jsonl ;;
    fuzz_tekken) seeds=fuzz/seeds-tekken; extra="-max_len=32768" ;;  # a loadable file lists all 256 bytes
  esac
  build-san/fuzz/$f -max_total_time="$FUZZ_SECONDS" -max_len=4096 -rss_limit_mb=4096 -timeout=30 $extra \
    build-san/corpus-$f $seeds 2>&1 | tail -n 3
done

step "all tests passed"
