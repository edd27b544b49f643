#!/bin/sh
# The files compiled with AVX2/AVX-512 flags must export only their entry
# points: any other global (above all a weak inline copy, 'W'/'V'/'u') could be
# picked by the linker for callers on CPUs without those instructions
# (src/kernels/kernel_table.h). Usage: check_simd_symbols.sh libree_kernels.a
set -eu
lib="$1"
symbols=$(nm -A -C --defined-only "$lib" | grep -E '(kernels_avx2|kernels_avx512|matmul_fast_bf16)\.cpp\.o:' || true)
if [ -z "$symbols" ]; then
  echo "no symbols found for the SIMD files in $lib" >&2
  exit 1
fi
unexpected=$(printf '%s\n' "$symbols" | grep -E ' [A-Za-z] ' | grep -v -E ' [trdbn] ' |
  grep -v -E ' T ree::kernels::(kernel_table_avx2|kernel_table_avx512|matmul_fast_bf16_avx512|f32_to_bf16_pairs_avx512)\(' || true)
if [ -n "$unexpected" ]; then
  echo "SIMD files export unexpected symbols:" >&2
  printf '%s\n' "$unexpected" >&2
  exit 1
fi
echo "SIMD files export only their entry points"
