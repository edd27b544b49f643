#!/bin/bash
exec > >(tee $OUT/log.txt) 2>&1
mkdir -p /opt/ree-deps; for f in .debs/*.deb; do dpkg -x $f /opt/ree-deps; done
export LD_LIBRARY_PATH=/opt/ree-deps/usr/lib/x86_64-linux-gnu
tar xJf .gpubuild/var.tar.xz -C .gpubuild
rm -rf .gpubuild/bin; tar xJf .gpubuild/bins13.tar.xz -C .gpubuild
mkdir -p .gpubuild/old; tar xJf .gpubuild/bins10.tar.xz -C .gpubuild/old
V=.gpubuild/var; B=.gpubuild/bin; O=.gpubuild/old/bin; M=/tmp/m
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
$B/ree synth --shape tinyllama-1.1b --dtype bf16 --out $M/tl --seed 7 >/dev/null 2>&1
bench() {  # label, binary, env...
  local label=$1; local bx=$2; shift 2
  env "$@" timeout 25 $bx --model $M/tl --prompt-tokens ${PT:-128} --decode-tokens 64 --repeats 3 --modes reproducible --variants kernels/pdl1 --json > /tmp/b.json 2>/tmp/b.err
  python3 -c "
import json; d=json.load(open('/tmp/b.json'))
for r in d['modes']: print('$label', 'PT=${PT:-128}', 'prefill', round(r['prefill_tokens_per_s'],1), 'decode', round(r['decode_tokens_per_s'],1))
" 2>/dev/null || { echo "$label FAILED"; tail -3 /tmp/b.err; }
}
for round in 1 2; do
  bench old-79f3d09 $O/ree-cuda-bench
  bench a97-b8 $V/bench8
  bench a97-b16 $V/bench16
  bench d94 $B/ree-cuda-bench
  bench d94-nofold $B/ree-cuda-bench REE_CUDA_NORM_FOLD=0
done
