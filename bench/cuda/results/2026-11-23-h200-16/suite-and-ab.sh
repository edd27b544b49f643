#!/bin/bash
REE_GPU_STAGES="build tests bench peer check replay" scripts/gpu-suite.sh; echo "suite rc=$?"
exec > >(tee $OUT/ab.txt) 2>&1
export LD_LIBRARY_PATH=/opt/ree-deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
tar xJf .gpubuild/pack106.tar.xz -C .gpubuild
F=build-gpu/bin; P=.gpubuild/fin; M=/tmp/m
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
$F/ree synth --shape tinyllama-1.1b --dtype bf16 --out $M/tl --seed 7 >/dev/null 2>&1
bench() {  # label, binary
  local label=$1; local bx=$2
  timeout 40 $bx --model $M/tl --prompt-tokens ${PT:-128} --decode-tokens 256 --repeats 3 --modes reproducible --variants kernels/pdl1 --json > /tmp/b.json 2>/tmp/b.err
  python3 -c "
import json; d=json.load(open('/tmp/b.json'))
for r in d['modes']:
  g=r.get('graph_step_us',0); print('$label', 'PT=${PT:-128}', 'prefill', round(r['prefill_tokens_per_s'],1), 'decode', round(r['decode_tokens_per_s'],1), 'top8', round(r['decode_topk8_tokens_per_s'],1), 'graph_us', round(g,1), 'roof', round(r['roofline_ratio'],3), r['last_logits_hash'])
" 2>/dev/null || { echo "$label FAILED"; tail -3 /tmp/b.err; }
}
date +%T
for round in 1 2; do
  bench session14 $P/ree-cuda-bench
  bench final $F/ree-cuda-bench
done
date +%T
