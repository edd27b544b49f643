#!/bin/bash
exec > >(tee $OUT/log.txt) 2>&1
mkdir -p /opt/ree-deps; for f in .debs/*.deb; do dpkg -x $f /opt/ree-deps; done
export LD_LIBRARY_PATH=/opt/ree-deps/usr/lib/x86_64-linux-gnu
tar xJf .gpubuild/pack110.tar.xz -C .gpubuild
A=.gpubuild/ab; M=/tmp/m
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
$A/ree synth --shape tinyllama-1.1b --dtype bf16 --out $M/tl --seed 7 >/dev/null 2>&1
bench() {  # label, binary, env...
  local label=$1; local bx=$2; shift 2
  env "$@" timeout 40 $bx --model $M/tl --prompt-tokens ${PT:-128} --decode-tokens 256 --repeats 3 --modes reproducible --variants kernels/pdl1 --json > /tmp/b.json 2>/tmp/b.err
  python3 -c "
import json; d=json.load(open('/tmp/b.json'))
for r in d['modes']:
  g=r.get('graph_step_us',0); print('$label', 'PT=${PT:-128}', 'prefill', round(r['prefill_tokens_per_s'],1), 'decode', round(r['decode_tokens_per_s'],1), 'top8', round(r['decode_topk8_tokens_per_s'],1), 'graph_us', round(g,1), 'roof', round(r['roofline_ratio'],3), r['last_logits_hash'])
" 2>/dev/null || { echo "$label FAILED"; tail -3 /tmp/b.err; }
}
date +%T
for round in 1 2 3; do
  bench base $A/ree-cuda-bench
  bench no-attn $A/ree-cuda-bench REE_ABLATE=attn
  bench empty-big $A/ree-cuda-bench REE_ABLATE_ATTN_EMPTY=big
  bench empty-small $A/ree-cuda-bench REE_ABLATE_ATTN_EMPTY=small
  bench no-rope-attn $A/ree-cuda-bench REE_ABLATE=rope,attn
done
date +%T
