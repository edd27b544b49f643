#!/bin/bash
exec > >(tee $OUT/log.txt) 2>&1
mkdir -p /opt/ree-deps; for f in .debs/*.deb; do dpkg -x $f /opt/ree-deps; done
export LD_LIBRARY_PATH=/opt/ree-deps/usr/lib/x86_64-linux-gnu
B=.gpubuild/bin; P=.gpubuild/prev; M=/tmp/m
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
rm -rf .gpubuild/bin; tar xJf .gpubuild/pack81.tar.xz -C .gpubuild; ls $M/tl > /dev/null 2>&1 || .gpubuild/bin/ree synth --shape tinyllama-1.1b --dtype bf16 --out $M/tl --seed 7 >/dev/null 2>&1
bench() {  # label, binary, env...
  local label=$1; local bx=$2; shift 2
  env "$@" timeout 25 $bx --model $M/tl --prompt-tokens ${PT:-128} --decode-tokens 256 --repeats 3 --modes reproducible --variants kernels/pdl1 --json > /tmp/b.json 2>/tmp/b.err
  python3 -c "
import json; d=json.load(open('/tmp/b.json'))
for r in d['modes']: print('$label', 'PT=${PT:-128}', 'prefill', round(r['prefill_tokens_per_s'],1), 'decode', round(r['decode_tokens_per_s'],1), r['last_logits_hash'])
" 2>/dev/null || { echo "$label FAILED"; tail -3 /tmp/b.err; }
}
date +%T
V=.gpubuild/var2
timeout 200 .gpubuild/bin/cuda_kernels -tc='*matmul*,*SwiGLU*,*norm*'; echo "cuda_kernels attention rc=$?"
for round in 1 2; do
  bench prev-0601bfa .gpubuild/bin/prev
  bench swiglu1 .gpubuild/bin/swiglu1
done
date +%T
PT=1500 bench prev .gpubuild/bin/prev
PT=1500 bench swiglu1 .gpubuild/bin/swiglu1
