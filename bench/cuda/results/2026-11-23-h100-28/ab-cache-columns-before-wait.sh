#!/bin/bash
exec > >(tee $OUT/log.txt) 2>&1
mkdir -p /opt/ree-deps; for f in .debs/*.deb; do dpkg -x $f /opt/ree-deps; done
export LD_LIBRARY_PATH=/opt/ree-deps/usr/lib/x86_64-linux-gnu
for p in 117 115; do tar xJf .gpubuild/pack$p.tar.xz -C .gpubuild; done
A=.gpubuild/r5; F=.gpubuild/r3; M=/tmp/m
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
for round in 1 2 3; do
  bench prev $F/ree-cuda-bench kernels/pdl1
  bench new $A/ree-cuda-bench kernels/pdl1
done
date +%T
