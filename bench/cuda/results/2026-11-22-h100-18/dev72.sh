#!/bin/bash
exec > >(tee $OUT/log.txt) 2>&1
mkdir -p /opt/ree-deps; for f in .debs/*.deb; do dpkg -x $f /opt/ree-deps; done
export LD_LIBRARY_PATH=/opt/ree-deps/usr/lib/x86_64-linux-gnu
tar xJf .gpubuild/var.tar.xz -C .gpubuild
V=.gpubuild/var; B=.gpubuild/bin; M=/tmp/m
ls /tmp/m/tl >/dev/null 2>&1 || $B/ree synth --shape tinyllama-1.1b --dtype bf16 --out $M/tl --seed 7 >/dev/null 2>&1
bench() {  # label, binary, env...
  local label=$1; local bx=$2; shift 2
  env "$@" timeout 25 $bx --model $M/tl --prompt-tokens ${PT:-128} --decode-tokens 256 --repeats 3 --modes reproducible --variants kernels/pdl1 --json > /tmp/b.json 2>/tmp/b.err
  python3 -c "
import json; d=json.load(open('/tmp/b.json'))
for r in d['modes']: print('$label', 'PT=${PT:-128}', round(r['decode_tokens_per_s'],1), round(1e6/r['decode_tokens_per_s'],1), r['last_logits_hash'])
" 2>/dev/null || { echo "$label FAILED"; tail -3 /tmp/b.err; }
}
for round in 1 2; do
  bench b32 $B/ree-cuda-bench
  bench b8 $V/bench8
  bench b16 $V/bench16
  bench b8-nofold $V/bench8 REE_CUDA_NORM_FOLD=0
done
