#!/bin/bash
exec > >(tee $OUT/log.txt) 2>&1
mkdir -p /opt/ree-deps; for f in .debs/*.deb; do dpkg -x $f /opt/ree-deps; done
export LD_LIBRARY_PATH=/opt/ree-deps/usr/lib/x86_64-linux-gnu
tar xJf .gpubuild/pack113.tar.xz -C .gpubuild; tar xJf .gpubuild/pack108.tar.xz -C .gpubuild
T=.gpubuild/tl2; A=.gpubuild/r1; M=/tmp/m
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
$A/ree synth --shape tinyllama-1.1b --dtype bf16 --out $M/tl --seed 7 >/dev/null 2>&1
bench() {  # label, variant, env...
  local label=$1; local var=$2; shift 2
  env "$@" timeout 40 $A/ree-cuda-bench --model $M/tl --prompt-tokens ${PT:-128} --decode-tokens 256 --repeats 3 --modes reproducible --variants $var --json > /tmp/b.json 2>/tmp/b.err
  python3 -c "
import json; d=json.load(open('/tmp/b.json'))
for r in d['modes']:
  g=r.get('graph_step_us',0); print('$label', 'PT=${PT:-128}', 'prefill', round(r['prefill_tokens_per_s'],1), 'decode', round(r['decode_tokens_per_s'],1), 'top8', round(r['decode_topk8_tokens_per_s'],1), 'graph_us', round(g,1), 'roof', round(r['roofline_ratio'],3), r['last_logits_hash'], r.get('decode_path',''))
" 2>/dev/null || { echo "$label FAILED"; tail -3 /tmp/b.err; }
}
date +%T
REE_TIMELINE=200 timeout 60 $T/ree-cuda-bench --model $M/tl --prompt-tokens 128 --decode-tokens 256 --repeats 1 --modes reproducible --variants kernels/pdl1/ra1 2>&1 | grep -A30 "timeline means"
for round in 1 2 3; do
  bench base kernels/pdl1
  bench fused kernels/pdl1/ra1
done
PT=600 bench base kernels/pdl1
PT=600 bench fused kernels/pdl1/ra1
PT=1500 bench base kernels/pdl1
PT=1500 bench fused kernels/pdl1/ra1
date +%T
