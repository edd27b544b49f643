#!/usr/bin/env bash
# Every CPU benchmark behind docs/benchmarks.md, in one command (not a test:
# run it on a quiet machine; the load average is printed before each part so
# a reader can tell whether it was).
#
#   scripts/bench.sh [BUILD_DIR] [OUT_DIR]        (defaults: build, bench-out)
#
# Environment: THREADS (default: nproc), PARTS (default: all of
#   "runtime kernels trace diff digest replay agent"), MODEL_DIR (where the
#   synthetic tinyllama-1.1b bf16 model is written, default /tmp/ree-bench-tl).
# Each part's full output goes to OUT_DIR/<part>.log; GPU figures come from
# scripts/gpu-suite.sh instead (docs/cuda.md).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
OUT=${2:-$SRC/bench-out}
THREADS=${THREADS:-$(nproc)}
PARTS=${PARTS:-runtime kernels trace diff digest replay agent}
MODEL_DIR=${MODEL_DIR:-/tmp/ree-bench-tl}
BIN=$BUILD/bin
mkdir -p "$OUT"

want() { [[ " $PARTS " == *" $1 "* ]]; }
part() {  # NAME COMMAND...: runs it, output to OUT/NAME.log and the terminal
  local name=$1
  shift
  echo
  echo "=== $name ($(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "\$ $*"
  "$@" 2>&1 | tee "$OUT/$name.log"
}

echo "machine: $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "ree: $("$BIN/ree" --version), commit $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "threads: $THREADS; logs: $OUT"

if want runtime; then
  [[ -f $MODEL_DIR/model.safetensors ]] ||
    "$BIN/ree" synth --shape tinyllama-1.1b --dtype bf16 --out "$MODEL_DIR" >/dev/null
  for t in 1 "$THREADS"; do
    part "runtime-t$t" "$BIN/ree" bench --model "$MODEL_DIR" --threads "$t" --all-modes \
      --prompt-tokens 64 --decode-tokens 16 --repeats 3
  done
fi
want kernels && part kernels "$BIN/ree-kbench" --threads "$THREADS"
want trace && part trace "$BIN/ree-tracebench"
want diff && part diff "$BIN/ree-diffbench"
want digest && part digest "$BIN/loader_digest_bench" --gb 2 --threads "$THREADS"
want replay && part replay env PARTS=replay "$SRC/tests/replay/bench_agent_replay.sh" "$BIN/ree" "$THREADS" 5
want agent && part agent env PARTS=agent "$SRC/tests/replay/bench_agent_replay.sh" "$BIN/ree" "$THREADS" 5
echo
echo "done (load average $(cut -d' ' -f1-3 /proc/loadavg)); logs in $OUT"
