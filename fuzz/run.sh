#!/usr/bin/env bash
# Usage: fuzz/run.sh TARGET SECONDS
# Runs one libFuzzer target for SECONDS, starting from the committed seeds
# (fuzz/corpus/TARGET) plus whatever earlier runs found (fuzz/corpus-TARGET,
# not committed). Crashes land in fuzz/corpus-artifacts-TARGET/. Configures
# and builds build-fuzz (clang, ASan + UBSan) when needed, with 2 jobs.
# Run it niced on a shared machine: nice -n 19 fuzz/run.sh ...
set -euo pipefail
if [[ $# -ne 2 ]]; then
  echo "usage: $0 TARGET SECONDS" >&2
  exit 2
fi
target=$1
seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
build=${REE_FUZZ_BUILD_DIR:-$root/build-fuzz}
seeds=$root/fuzz/corpus/$target
work=$root/fuzz/corpus-$target
artifacts=$root/fuzz/corpus-artifacts-$target
if [[ ! -d $seeds ]]; then
  echo "$0: no seed corpus $seeds" >&2
  exit 2
fi
if [[ ! -f $build/CMakeCache.txt ]]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DREE_FUZZ=ON -DREE_SANITIZE=ON -DREE_CUDA=OFF -DREE_VIEWER=OFF >/dev/null
fi
cmake --build "$build" -j2 --target "$target" >/dev/null
mkdir -p "$work" "$artifacts"
dict=()
if [[ -f $root/fuzz/$target.dict ]]; then
  dict=(-dict="$root/fuzz/$target.dict")
fi
exec "$build/bin/$target" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
  -artifact_prefix="$artifacts/" "${dict[@]}" "$work" "$seeds"
