#!/usr/bin/env bash
# One script runs all GPU tests and the GPU benchmarks in one device call
# (docs/cuda.md): build, the CUDA tests, CPU-vs-CUDA bit identity on
# synthetic models of real shapes, the speed benchmarks (ree and the
# transformers peer), and cross-device session replay.
#
#   scripts/gpu-suite.sh
#
# Environment:
#   OUT             where logs and JSON go (default ./gpu-out; the device tool sets it)
#   REE_GPU_STAGES  a subset of "build tests bench stream latency profile peer check replay"
#                   (default: all but profile, which runs one decode step under ncu)
#   REE_DEPS_DEBS   folder of Debian .deb files unpacked into /opt/ree-deps when
#                   the build dependencies are missing (default .debs; see docs/cuda.md)
#   REE_JOBS        build jobs (default: all cores)
#   REE_MODELS      where synthetic models are written (default /tmp/ree-models)
#   REE_BENCH_SPECS set empty to skip the benchmarks with the shipped settings of
#                   tinyllama-1.1b bf16, stories15m bf16 and tinyllama-1.1b q8_0
#   REE_BUILD_DIR   build directory (default build-gpu). Leave "build" out of
#                   REE_GPU_STAGES to use one built elsewhere (x86-64, CUDA 13)
# Exit code: 0 when every stage that ran passed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
LOG=$OUT/suite.log
STAGES=${REE_GPU_STAGES:-"build tests bench stream latency peer check replay"}
JOBS=${REE_JOBS:-$(nproc)}
MODELS=${REE_MODELS:-/tmp/ree-models}
BUILD=${REE_BUILD_DIR:-build-gpu}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
REE=$BUILD/bin/ree
failures=()

note() { echo "== $(date -u +%H:%M:%S) $*" | tee -a "$LOG"; }
stage() { [[ " $STAGES " == *" $1 "* ]]; }
# run NAME SECONDS COMMAND...: log the command's output, remember a failure.
run() {
  local name=$1 limit=$2
  shift 2
  note "$name: $*"
  timeout "$limit" "$@" >>"$LOG" 2>&1
  local rc=$?
  if [ $rc -ne 0 ]; then
    note "$name FAILED (exit $rc)"
    failures+=("$name")
  fi
  return $rc
}

# --- dependencies: the GPU machine has none of ree's Debian -dev packages ----
use_debs() {
  local deps=/opt/ree-deps debs=${REE_DEPS_DEBS:-.debs}
  note "unpacking $(ls "$debs"/*.deb | wc -l) .deb files from $debs into $deps"
  mkdir -p $deps
  for f in "$debs"/*.deb; do dpkg -x "$f" $deps; done
  for pc in $deps/usr/lib/x86_64-linux-gnu/pkgconfig/*.pc $deps/usr/share/pkgconfig/*.pc; do
    [ -f "$pc" ] && sed -i "s|^prefix=/usr\$|prefix=$deps/usr|" "$pc"
  done
  export PKG_CONFIG_PATH=$deps/usr/lib/x86_64-linux-gnu/pkgconfig:$deps/usr/share/pkgconfig:${PKG_CONFIG_PATH:-}
  export CMAKE_PREFIX_PATH=$deps/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
  export PATH=$deps/usr/bin:$PATH
  export LD_LIBRARY_PATH=$deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
}
if ! pkg-config --exists sentencepiece libxxhash libsodium 2>/dev/null || ! command -v flatc >/dev/null; then
  use_debs
fi

note "machine: $(uname -srm), $(nproc) cores"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv >>"$LOG" 2>&1
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
nvcc --version | tail -2 >>"$LOG" 2>&1

# --- build -------------------------------------------------------------------
if stage build; then
  run configure 300 cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=Release -DREE_VIEWER=OFF
  run build 540 cmake --build $BUILD -j "$JOBS" --target ree ree-cuda-bench ree-cuda-check ree-cuda-streambench ree-cuda-latbench \
    cuda_layout cuda_kernels cuda_decode cuda_model
  "$REE" info >>"$LOG" 2>&1
fi
[ -x "$REE" ] || { note "no ree executable: stopping"; exit 1; }

# --- tests -------------------------------------------------------------------
if stage tests; then
  # The test executables directly (a carried build has no usable CTest files).
  for t in cuda_layout cuda_kernels cuda_decode cuda_model; do
    exe=$(find "$BUILD" -name "$t" -type f -perm -u+x | head -1)
    if [ -z "$exe" ]; then
      note "test $t: not built"
      failures+=("$t")
      continue
    fi
    run "test-$t" 300 "$exe"
  done
fi

# --- synthetic models ----------------------------------------------------------
synth() {  # synth SHAPE DTYPE FORMAT -> path
  local shape=$1 dtype=$2 format=$3 out="$MODELS/$1-$2"
  [ "$format" = gguf ] && out="$out.gguf"
  [ -e "$out" ] || "$REE" synth --shape "$shape" --dtype "$dtype" --format "$format" --seed 7 --out "$out" >>"$LOG" 2>&1
  echo "$out"
}
mkdir -p "$MODELS"

# --- benchmarks -------------------------------------------------------------------
if stage bench; then
  BENCH=$BUILD/bin/ree-cuda-bench
  # the figures with the settings ree ships (REE_CUDA_* unset)
  for spec in ${REE_BENCH_SPECS-"tinyllama-1.1b bf16" "stories15m bf16" "tinyllama-1.1b q8_0"}; do
    set -- $spec
    fmt=hf
    [ "$2" = q8_0 ] && fmt=gguf
    m=$(synth "$1" "$2" $fmt)
    note "bench $1 $2"
    timeout 300 "$BENCH" --model "$m" --prompt-tokens 128 --decode-tokens 256 --repeats 3 \
      --modes reproducible,fast --json >"$OUT/bench-$1-$2.json" 2>>"$LOG" || failures+=("bench-$1-$2")
  done
  # the kernel path with and without programmatic dependent launch and with
  # RoPE and attention as two kernels (ra0), the fused decode step as one
  # persistent kernel and as a kernel per phase, and the persistent kernel's
  # phase clock
  m=$(synth tinyllama-1.1b bf16 hf)
  note "bench tinyllama-1.1b bf16: decode paths and PDL"
  timeout 300 "$BENCH" --model "$m" --prompt-tokens 128 --decode-tokens 256 --repeats 3 --modes reproducible \
    --variants ${REE_BENCH_VARIANTS:-stream/pdl1,stream/pdl0,kernels/pdl1,kernels/pdl1/ra0,kernels/pdl0,persistent/pdl1} \
    --phase-times 256 --phase-path ${REE_PHASE_PATH:-stream} --json >"$OUT/bench-tinyllama-1.1b-bf16-variants.json" 2>>"$LOG" || failures+=(bench-variants)
fi
if stage stream; then
  # streaming rate by work shape for matrices of the decode products' sizes
  # (bench/cuda/stream_bench.cu): what a product needs to reach the roofline
  run stream 120 "$BUILD/bin/ree-cuda-streambench" --json "$OUT/stream.json"
  grep -E "^best for" "$LOG" | tail -5 >>"$OUT/summary.txt"
fi
if stage latency; then
  # one SM's round trips (L2 hit, HBM miss, atomic) while the others stream
  # (bench/cuda/latency_bench.cu): what queued loads cost a decode step's chains
  run latency 120 "$BUILD/bin/ree-cuda-latbench" --json "$OUT/latency.json"
  grep -A 16 "^streamers" "$LOG" | tail -17 >>"$OUT/summary.txt"
fi
if stage profile; then
  # Kernel durations of decode steps (ncu serialises kernels: the sum is the
  # GPU work of a step without launch gaps), of the default path unless
  # REE_PROFILE_DECODE names another.
  NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  m=$(synth tinyllama-1.1b bf16 hf)
  if [ -n "$NCU" ]; then
    note "profile: $NCU on 2 decode steps of tinyllama-1.1b bf16 (REE_CUDA_DECODE=${REE_PROFILE_DECODE:-kernels})"
    REE_CUDA_DECODE=${REE_PROFILE_DECODE:-kernels} timeout 400 "$NCU" --metrics gpu__time_duration.sum --csv \
      --page raw --print-units base \
      "$BUILD/bin/ree-cuda-bench" --model "$m" --prompt-tokens 128 --profile-steps 2 --modes reproducible \
      >"$OUT/ncu-decode.csv" 2>>"$LOG" || failures+=(profile)
  else
    note "profile: no ncu on this machine"
  fi
fi
if stage peer; then
  m=$(synth tinyllama-1.1b bf16 hf)
  run peer-transformers 400 env PYTHONUNBUFFERED=1 python3 scripts/hf_peer_bench.py --model "$m" \
    --prompt-tokens 128 --decode-tokens 128 --repeats 3 --json "$OUT/hf-tinyllama.json"
fi

# --- CPU vs CUDA bit identity on real shapes -----------------------------------
if stage check; then
  CHECK=$BUILD/bin/ree-cuda-check
  for spec in "test f32 hf" "test bf16 hf" "test f16 gguf" "test q8_0 gguf" "stories15m bf16 hf" "stories15m q8_0 gguf"; do
    set -- $spec
    m=$(synth "$1" "$2" "$3")
    run "check-$1-$2" 300 "$CHECK" --model "$m" --prompt-lengths 1,37,300 --chunks 0,7,64 --steps 200
  done
  m=$(synth tinyllama-1.1b bf16 hf)
  run check-tinyllama-bf16 400 "$CHECK" --model "$m" --prompt-lengths 37,300 --chunks 0,64 --steps 200
  # long rows: decode attention split over 3, 4, 6 and 7 blocks a head (attention_split.cu)
  run check-tinyllama-bf16-long 500 "$CHECK" --model "$m" --prompt-lengths 600,1500 --chunks 0,64 --steps 200
  # the other decode paths on the real shape (the default is the kernel path)
  for path in stream persistent phases; do
    run "check-tinyllama-bf16-$path" 300 env REE_CUDA_DECODE=$path "$CHECK" --model "$m" --prompt-lengths 300 \
      --chunks 0 --steps 200
  done
fi

# --- cross-device session replay (once `ree agent` and `ree replay` exist) --------
if stage replay; then
  if "$REE" replay --help >/dev/null 2>&1 && "$REE" agent --help >/dev/null 2>&1; then
    model=samples/sample-model
    [ -f $model/config.json ] || model=$(synth tinyllama-1.1b bf16 hf)
    S=$MODELS/sessions
    mkdir -p "$S"
    rm -f "$S"/*.fb
    for pair in "cpu cuda" "cuda cpu"; do
      set -- $pair
      run "record-on-$1" 300 "$REE" agent --model "$model" --device "$1" --prompt "What is 12*7? Then tell me the time." \
        --max-tokens 64 --export "$S/$1.fb"
      run "replay-$1-on-$2" 300 "$REE" replay "$S/$1.fb" --strict --device "$2"
      run "replay-$1-on-$2-regenerate" 300 "$REE" replay "$S/$1.fb" --strict --regenerate --device "$2"
    done
  else
    note "replay: ree agent/replay not available in this build: skipped"
  fi
fi

note "summary"
if [ -s "$OUT/ncu-decode.csv" ]; then
  python3 - "$OUT/ncu-decode.csv" <<'PY' | tee -a "$OUT/summary.txt"
import csv, collections, re, sys
rows = [r for r in csv.reader(l for l in open(sys.argv[1]) if l.startswith('"'))]
head, rows = rows[0], rows[2:] if len(rows) > 2 and not rows[1][0].isdigit() else rows[1:]
name, grid, dur = head.index("Kernel Name"), head.index("Grid Size"), head.index("gpu__time_duration.sum")
# the last decode step: the kernels after the second-to-last logits summary
ends = [i for i, r in enumerate(rows) if "summary_kernel" in r[name]]
step = rows[ends[-2] + 1:ends[-1] + 1] if len(ends) >= 2 else rows
by = collections.OrderedDict()
for r in step:
    k = r[name].replace("ree::cuda::(anonymous namespace)::", "").replace("ree::kernels::", "").split("(ree::cuda")[0]
    t = float(r[dur].replace(",", "")) / 1e3
    n, s = by.get(k, (0, 0.0))
    by[k] = (n + 1, s + t)
total = sum(s for _, s in by.values())
print(f"ncu: one decode step (the last), {len(step)} kernels, {total:.1f} us of kernel time")
for k, (n, s) in sorted(by.items(), key=lambda kv: -kv[1][1]):
    print(f"  {k:40s} x{n:4d} {s:9.1f} us  ({s / n:6.2f} us each)")
PY
fi
grep -E "IDENTICAL|DIFFER|KV STATE|FAILED|test cases:|SUCCESS|skipping" "$LOG" | tee -a "$OUT/summary.txt"
for f in "$OUT"/bench-*.json "$OUT"/hf-*.json; do
  [ -f "$f" ] && python3 - "$f" <<'PY' | tee -a "$OUT/summary.txt"
import json, sys
d = json.load(open(sys.argv[1]))
name = sys.argv[1].rsplit("/", 1)[-1]
if "modes" in d:
    print(f"{name}: read {d['read_bandwidth_gbs']:.0f} GB/s, roofline {d['roofline_tokens_per_s']:.0f} tok/s")
    for m in d["modes"]:
        print(f"  {m['mode']:13s} {m.get('variant') or '(default)':16s} prefill {m['prefill_tokens_per_s']:8.0f}"
              f"  decode {m['decode_tokens_per_s']:7.1f}  decode+top8 {m['decode_topk8_tokens_per_s']:7.1f}"
              f"  roofline {100*m['roofline_ratio']:5.1f}%  {m.get('decode_path', '')}")
    pt = d.get("phase_times")
    if pt:
        print(f"  phase clock ({pt['decode_path']}, {pt['steps']} steps): {pt['kernel_us']:.1f} us per step")
        for p in pt["phases"]:
            print(f"    {p['phase']:42s} {p['mean_us']:8.2f} us each {p['per_step_us']:9.1f} us per step")
    for p in d.get("products_t1", []):
        print(f"  product {p['product']:8s} repro {p['reproducible_gbs']:6.0f} GB/s  cublas {p.get('cublas_gbs', 0):6.0f} GB/s")
else:
    print(f"{name}: prefill {d['prefill_tokens_per_s']:.0f} tok/s, decode {d['decode_tokens_per_s']:.1f} tok/s ({d['transformers']})")
PY
done
if [ ${#failures[@]} -gt 0 ]; then
  note "FAILED stages: ${failures[*]}"
  exit 1
fi
note "all stages passed"
