#!/bin/bash
exec > >(tee $OUT/log.txt) 2>&1
mkdir -p /opt/ree-deps; for f in .debs/*.deb; do dpkg -x $f /opt/ree-deps; done
export LD_LIBRARY_PATH=/opt/ree-deps/usr/lib/x86_64-linux-gnu
rm -rf .gpubuild/bin .gpubuild/old; tar xJf .gpubuild/pack82.tar.xz -C .gpubuild
B=.gpubuild/bin; O=.gpubuild/old; M=/tmp/m
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
$B/ree synth --shape tinyllama-1.1b --dtype bf16 --out $M/tl --seed 7 >/dev/null 2>&1
bench() {  # label, binary, env...
  local label=$1; local bx=$2; shift 2
  env "$@" timeout 25 $bx --model $M/tl --prompt-tokens ${PT:-128} --decode-tokens 256 --repeats 3 --modes reproducible --variants kernels/pdl1 --json > /tmp/b.json 2>/tmp/b.err
  python3 -c "
import json; d=json.load(open('/tmp/b.json'))
for r in d['modes']: print('$label', 'PT=${PT:-128}', 'prefill', round(r['prefill_tokens_per_s'],1), 'decode', round(r['decode_tokens_per_s'],1), r['last_logits_hash'])
" 2>/dev/null || { echo "$label FAILED"; tail -3 /tmp/b.err; }
}
date +%T
timeout 200 $B/cuda_kernels ; echo "cuda_kernels rc=$?"
timeout 100 $B/cuda_decode ; echo "cuda_decode rc=$?"
timeout 400 $B/cuda_model ; echo "cuda_model rc=$?"
timeout 200 $B/ree-cuda-check --model $M/tl --prompt-lengths 37,300,1500 --chunks 0,64 --steps 100; echo "check rc=$?"
date +%T
for round in 1 2; do
  bench d94576c $O/ree-cuda-bench-d94576c
  bench final $B/ree-cuda-bench
done
PT=1500 bench d94576c $O/ree-cuda-bench-d94576c
PT=1500 bench final $B/ree-cuda-bench
date +%T
