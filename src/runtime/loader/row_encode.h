#pragma once
// f32 -> stored weight types, for the writers (GGUF, safetensors through
// synth and convert). The reverse direction is kernels::row_to_f32, which is
// exact; encoding rounds:
//   F16, BF16: round to nearest, ties to even; NaN stays NaN (quiet).
//   Q8_0: ggml's quantize_row_q8_0_ref exactly (blocks of 32:
//         d = amax / 127, q = roundf(x * (1 / d)), d stored as f16) so that
//         files ree writes quantise like llama.cpp's.
// Encoding a value that came from a stored F16/BF16 value gives its bits back.
#include <cstdint>

#include "kernels/kernels.h"

namespace ree {

uint16_t f32_to_f16_bits(float value);
uint16_t f32_to_bf16_bits(float value);

// Writes kernels::dtype_row_bytes(dtype, n) bytes (Q8_0: n % 32 == 0).
void encode_row(kernels::DType dtype, const float* src, int64_t n, uint8_t* dst);

// Bytes of n elements of one row, without the kernels library (same values
// as kernels::dtype_row_bytes; Q8_0 n must be a multiple of 32).
uint64_t encoded_row_bytes(kernels::DType dtype, int64_t n);

}  // namespace ree
