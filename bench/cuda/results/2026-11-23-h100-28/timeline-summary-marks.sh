#!/bin/bash
exec > >(tee $OUT/log.txt) 2>&1
mkdir -p /opt/ree-deps; for f in .debs/*.deb; do dpkg -x $f /opt/ree-deps; done
export LD_LIBRARY_PATH=/opt/ree-deps/usr/lib/x86_64-linux-gnu
tar xJf .gpubuild/pack118.tar.xz -C .gpubuild
T=.gpubuild/tl3; M=/tmp/m
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
$T/ree synth --shape tinyllama-1.1b --dtype bf16 --out $M/tl --seed 7 >/dev/null 2>&1
date +%T
REE_TIMELINE=200 timeout 60 $T/ree-cuda-bench --model $M/tl --prompt-tokens 128 --decode-tokens 256 --repeats 1 --modes reproducible --variants kernels/pdl1 2>&1 | grep -B2 -A32 "timeline means"
date +%T
