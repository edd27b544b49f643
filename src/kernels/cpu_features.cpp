// Run-time CPU dispatch: which SIMD paths this CPU (and OS) supports.
//
// Requirements, chosen to match the compile flags of each path's file:
//   avx2:   AVX2 + FMA + F16C, and the OS saves ymm state (XCR0 bits 1-2).
//   avx512: everything avx2 needs + AVX512F + BW + VL + DQ, and the OS saves
//           opmask/zmm state (XCR0 bits 5-7).
// AVX512-BF16 (vdpbf16ps) is reported separately: Fast mode only.
#include <cpuid.h>

#include <string>

#include "kernels/kernel_table.h"
#include "runtime/error.h"

namespace ree::kernels {

namespace {

struct CpuFeatures {
  bool fma = false;
  bool avx2_path = false;
  bool avx512_path = false;
  bool avx512_bf16 = false;
};

uint64_t read_xcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t(edx) << 32) | eax;
}

CpuFeatures probe_cpu() {
  CpuFeatures f;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool fma = (ecx >> 12) & 1, osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1, f16c = (ecx >> 29) & 1;
  // FMA and F16C are VEX instructions: usable only when the OS saves ymm state.
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = read_xcr0();
  const bool os_ymm = (xcr0 & 0x6) == 0x6;
  const bool os_zmm = (xcr0 & 0xe0) == 0xe0;
  f.fma = fma && os_ymm;
  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf < 7) return f;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const bool avx2 = (ebx >> 5) & 1;
  const bool avx512f = (ebx >> 16) & 1, avx512dq = (ebx >> 17) & 1;
  const bool avx512bw = (ebx >> 30) & 1, avx512vl = (ebx >> 31) & 1;
  const unsigned max_sub = eax;
  f.avx2_path = avx2 && fma && f16c && os_ymm;
  f.avx512_path = f.avx2_path && avx512f && avx512dq && avx512bw && avx512vl && os_zmm;
  if (f.avx512_path && max_sub >= 1) {
    __cpuid_count(7, 1, eax, ebx, ecx, edx);
    f.avx512_bf16 = (eax >> 5) & 1;
  }
  return f;
}

const CpuFeatures& cpu() {
  static const CpuFeatures features = probe_cpu();  // computed once, never changes
  return features;
}

}  // namespace

bool cpu_has_fma() { return cpu().fma; }
bool cpu_has_avx512_bf16() { return cpu().avx512_bf16; }

SimdPath detect_simd() {
  if (cpu().avx512_path) return SimdPath::Avx512;
  if (cpu().avx2_path) return SimdPath::Avx2;
  return SimdPath::Scalar;
}

bool simd_supported(SimdPath p) {
  switch (p) {
    case SimdPath::Scalar: return true;
    case SimdPath::Avx2: return cpu().avx2_path;
    case SimdPath::Avx512: return cpu().avx512_path;
  }
  return false;
}

const char* simd_name(SimdPath p) {
  switch (p) {
    case SimdPath::Scalar: return "scalar";
    case SimdPath::Avx2: return "avx2";
    case SimdPath::Avx512: return "avx512";
  }
  return "unknown";
}

std::optional<SimdPath> parse_simd(std::string_view s) {
  if (s == "scalar") return SimdPath::Scalar;
  if (s == "avx2") return SimdPath::Avx2;
  if (s == "avx512") return SimdPath::Avx512;
  return std::nullopt;
}

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::Reproducible: return "reproducible";
    case Mode::Deterministic: return "deterministic";
    case Mode::Fast: return "fast";
  }
  return "unknown";
}

std::optional<Mode> parse_mode(std::string_view s) {
  if (s == "reproducible") return Mode::Reproducible;
  if (s == "deterministic") return Mode::Deterministic;
  if (s == "fast") return Mode::Fast;
  return std::nullopt;
}

const KernelTable& kernel_table(SimdPath p) {
  if (!simd_supported(p))
    throw Error(std::string("kernels: SIMD path '") + simd_name(p) + "' is not supported by this CPU");
  switch (p) {
    case SimdPath::Avx2: return kernel_table_avx2();
    case SimdPath::Avx512: return kernel_table_avx512();
    case SimdPath::Scalar: break;
  }
  return kernel_table_scalar();
}

}  // namespace ree::kernels
