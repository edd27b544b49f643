// Stored weight types: names, row sizes, exact conversion of one row to f32.
#include <cstring>
#include <string>

#include "kernels/half.h"
#include "kernels/kernels.h"
#include "kernels/pack_layout.h"
#include "runtime/error.h"

namespace ree::kernels {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::Q8_0: return "q8_0";
  }
  return "unknown";
}

std::optional<DType> parse_dtype(std::string_view s) {
  if (s == "f32") return DType::F32;
  if (s == "f16") return DType::F16;
  if (s == "bf16") return DType::BF16;
  if (s == "q8_0") return DType::Q8_0;
  return std::nullopt;
}

namespace {
void check_q8_length(int64_t n) {
  if (n % kQ8Block != 0)
    throw Error("kernels: q8_0 row length " + std::to_string(n) + " is not a multiple of 32");
}
}  // namespace

size_t dtype_row_bytes(DType t, int64_t n) {
  if (n < 0) throw Error("kernels: negative row length " + std::to_string(n));
  switch (t) {
    case DType::F32: return size_t(n) * 4;
    case DType::F16:
    case DType::BF16: return size_t(n) * 2;
    case DType::Q8_0: check_q8_length(n); return size_t(n / kQ8Block) * 34;
  }
  return 0;
}

void row_to_f32(DType t, const void* src_row, int64_t n, float* out) {
  if (n < 0) throw Error("kernels: row_to_f32: negative row length " + std::to_string(n));
  const auto* bytes = static_cast<const uint8_t*>(src_row);
  switch (t) {
    case DType::F32: std::memcpy(out, bytes, size_t(n) * 4); return;
    case DType::F16:
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, bytes + 2 * i, 2);
        out[i] = t == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
      }
      return;
    case DType::Q8_0:
      check_q8_length(n);
      // ggml block: f16 scale d, then 32 int8 q; value = float(q) * float(d), exact.
      for (int64_t b = 0; b < n / kQ8Block; ++b) {
        const uint8_t* block = bytes + b * 34;
        uint16_t d16;
        std::memcpy(&d16, block, 2);
        const float d = f16_to_f32(d16);
        for (int i = 0; i < kQ8Block; ++i) out[b * kQ8Block + i] = float(int8_t(block[2 + i])) * d;
      }
      return;
  }
}

}  // namespace ree::kernels
