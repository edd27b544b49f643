#!/bin/bash
exec > >(tee $OUT/log.txt) 2>&1
mkdir -p /opt/ree-deps; for f in .debs/*.deb; do dpkg -x $f /opt/ree-deps; done
export LD_LIBRARY_PATH=/opt/ree-deps/usr/lib/x86_64-linux-gnu
for p in 120 119; do tar xJf .gpubuild/pack$p.tar.xz -C .gpubuild; done
A=.gpubuild/r7; F=.gpubuild/r6; M=/tmp/m
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
$A/ree synth --shape tinyllama-1.1b --dtype bf16 --out $M/tl --seed 7 >/dev/null 2>&1
bench() {  # label, binary, variant
  local label=$1; local bx=$2; local var=$3
  timeout 40 $bx --model $M/tl --prompt-tokens ${PT:-128} --decode-tokens 256 --repeats 3 --modes reproducible --variants $var --json > /tmp/b.json 2>/tmp/b.err
  python3 -c "
import json; d=json.load(open('/tmp/b.json'))
for r in d['modes']:
  g=r.get('graph_step_us',0); print('$label', 'PT=${PT:-128}', 'prefill', round(r['prefill_tokens_per_s'],1), 'decode', round(r['decode_tokens_per_s'],1), 'top8', round(r['decode_topk8_tokens_per_s'],1), 'graph_us', round(g,1), 'roof', round(r['roofline_ratio'],3), r['last_logits_hash'])
" 2>/dev/null || { echo "$label FAILED"; tail -3 /tmp/b.err; }
}
date +%T
for round in 1 2; do
  bench review-fix $F/ree-cuda-bench kernels/pdl1
  bench rope-rotate $A/ree-cuda-bench kernels/pdl1
done
date +%T
timeout 150 $A/cuda_kernels | tail -2; echo "cuda_kernels rc=${PIPESTATUS[0]}"
timeout 240 $A/cuda_model | tail -2; echo "cuda_model rc=${PIPESTATUS[0]}"
timeout 100 $A/cuda_decode | tail -2; echo "cuda_decode rc=${PIPESTATUS[0]}"
timeout 150 $A/ree-cuda-check --model $M/tl --prompt-lengths 37,300,1500 --chunks 0,64 --steps 100 2>&1 | tail -6; echo "check rc=$?"
REE_CUDA_ROPE_ATTENTION=0 timeout 100 $A/ree-cuda-check --model $M/tl --prompt-lengths 37,300 --chunks 0 --steps 100 2>&1 | tail -2; echo "check ra0 rc=$?"
date +%T
for d in stream persistent phases; do REE_CUDA_DECODE=$d timeout 60 $A/ree-cuda-check --model $M/tl --prompt-lengths 300 --chunks 0 --steps 100 2>&1 | tail -1; echo "check $d rc=$?"; done
date +%T
