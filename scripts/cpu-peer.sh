#!/usr/bin/env bash
# The CPU peer comparison (docs/benchmarks.md, "CPU runtime against
# transformers"): ree's reproducible CPU runtime and Hugging Face
# transformers' greedy `generate` (eager attention, torch's CPU kernels) on
# the same machine, the same model directory, the same prompt length and the
# same thread counts, measured one after the other in one run. It needs
# torch and transformers, which the GPU machines have (this development
# machine does not), so it runs in the same device call as
# scripts/gpu-suite.sh:
#
#   scripts/cpu-peer.sh REE MODEL_DIR OUT_DIR [THREADS ...]     (default threads: 2 and nproc)
#
# Writes OUT_DIR/cpu-ree-tN.json, OUT_DIR/cpu-hf-<dtype>-tN.json and prints a
# table with the ratios. Not a test.
set -euo pipefail
REE=$1 MODEL=$2 OUT=$3
shift 3
THREADS=("$@")
[ ${#THREADS[@]} -gt 0 ] || THREADS=(2 "$(nproc)")
PROMPT=${PEER_PROMPT_TOKENS:-32}
DECODE=${PEER_DECODE_TOKENS:-8}
SRC=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"

field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }

echo "cpu peer: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; model $MODEL;" \
  "prompt $PROMPT, decode $DECODE"
printf '%-8s %-34s %14s %14s\n' threads engine "prefill tok/s" "decode tok/s"
for t in "${THREADS[@]}"; do
  "$REE" bench --model "$MODEL" --threads "$t" --mode reproducible --prompt-tokens "$PROMPT" \
    --decode-tokens "$DECODE" --repeats 2 --json >"$OUT/cpu-ree-t$t.json"
  ree_pre=$(field "$OUT/cpu-ree-t$t.json" "d['modes'][0]['prefill_tokens_per_s']")
  ree_dec=$(field "$OUT/cpu-ree-t$t.json" "d['modes'][0]['decode_tokens_per_s']")
  ree_roof=$(field "$OUT/cpu-ree-t$t.json" "d['modes'][0]['roofline_ratio']")
  printf '%-8s %-34s %14.2f %14.2f   (%.2f of roofline)\n' "$t" "ree reproducible (f32 arithmetic)" "$ree_pre" \
    "$ree_dec" "$ree_roof"
  for dtype in bfloat16 float32; do
    PYTHONUNBUFFERED=1 python3 "$SRC/scripts/hf_peer_bench.py" --model "$MODEL" --device cpu --threads "$t" \
      --dtype "$dtype" --prompt-tokens "$PROMPT" --decode-tokens "$DECODE" --repeats 2 \
      --json "$OUT/cpu-hf-$dtype-t$t.json" >/dev/null
    hf_pre=$(field "$OUT/cpu-hf-$dtype-t$t.json" "d['prefill_tokens_per_s']")
    hf_dec=$(field "$OUT/cpu-hf-$dtype-t$t.json" "d['decode_tokens_per_s']")
    printf '%-8s %-34s %14.2f %14.2f   ree/transformers: prefill %.2fx, decode %.2fx\n' "$t" \
      "transformers eager, $dtype" "$hf_pre" "$hf_dec" "$(python3 -c "print($ree_pre/$hf_pre)")" \
      "$(python3 -c "print($ree_dec/$hf_dec)")"
  done
done
