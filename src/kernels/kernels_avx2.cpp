// The AVX2 path (AVX2 + FMA + F16C), compiled with -mavx2 -mfma -mf16c
// (src/kernels/CMakeLists.txt); only reached when detect_simd() found them.
// Tiles: 2 groups x 1 token = 4 ymm chains for decode; 1 group x 4 tokens = 8
// ymm chains for prefill (16 ymm registers in all).
#include "kernels/vec16_avx2.h"
// (the vector type must be defined before the templates that use it)
#include "kernels/kernels_impl.h"

namespace ree::kernels {

namespace {
constexpr KernelTable kAvx2Table = make_kernel_table<VecAvx2, Tiles<2, 1, 4>>(SimdPath::Avx2);
}

const KernelTable& kernel_table_avx2() { return kAvx2Table; }

}  // namespace ree::kernels
