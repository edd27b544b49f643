#!/bin/bash
exec > >(tee $OUT/log.txt) 2>&1
mkdir -p /opt/ree-deps; for f in .debs/*.deb; do dpkg -x $f /opt/ree-deps; done
export LD_LIBRARY_PATH=/opt/ree-deps/usr/lib/x86_64-linux-gnu
tar xJf .gpubuild/pack89.tar.xz -C .gpubuild; tar xJf .gpubuild/pack95.tar.xz -C .gpubuild
N=.gpubuild/s13f; P=.gpubuild/n1; M=/tmp/m
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
$N/ree synth --shape tinyllama-1.1b --dtype bf16 --out $M/tl --seed 7 >/dev/null 2>&1
bench() {  # label, binary, variant, env...
  local label=$1; local bx=$2; local v=$3; shift 3
  env "$@" timeout 40 $bx --model $M/tl --prompt-tokens ${PT:-128} --decode-tokens 256 --repeats 3 --modes reproducible --variants $v --json > /tmp/b.json 2>/tmp/b.err
  python3 -c "
import json; d=json.load(open('/tmp/b.json'))
for r in d['modes']:
  g=r.get('graph_step_us',0); print('$label', '$v', 'PT=${PT:-128}', 'prefill', round(r['prefill_tokens_per_s'],1), 'decode', round(r['decode_tokens_per_s'],1), 'us/tok', round(1e6/r['decode_tokens_per_s'],1), 'graph_us', round(g,1), r['last_logits_hash'])
" 2>/dev/null || { echo "$label FAILED"; tail -3 /tmp/b.err; }
}
date +%T
for round in 1 2; do
  bench base $P/ree-cuda-bench kernels/pdl1
  bench final $N/ree-cuda-bench kernels/pdl1
  bench base $P/ree-cuda-bench stream/pdl1
  bench final $N/ree-cuda-bench stream/pdl1
done
date +%T
timeout 240 $N/cuda_kernels | tail -3; echo "cuda_kernels rc=$?"
timeout 300 $N/cuda_model | tail -3; echo "cuda_model rc=$?"
timeout 200 $N/cuda_decode | tail -3; echo "cuda_decode rc=$?"
timeout 200 $N/ree-cuda-check --model $M/tl --prompt-lengths 37,300,1500 --chunks 0,64 --steps 100 2>&1 | tail -8; echo "check rc=$?"
REE_CUDA_DECODE=stream timeout 200 $N/ree-cuda-check --model $M/tl --prompt-lengths 37,300 --chunks 0 --steps 100 2>&1 | tail -3; echo "check stream rc=$?"
date +%T
