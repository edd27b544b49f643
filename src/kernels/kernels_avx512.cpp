// The AVX-512 path (F, BW, VL, DQ), compiled with those flags
// (src/kernels/CMakeLists.txt); only reached when detect_simd() found them.
// Tiles: 4 groups x 1 token for decode (4 weight streams, 8 zmm chains in
// deterministic mode); 4 groups x 4 tokens for prefill (16 zmm chains, each
// weight vector used by 4 tokens, each broadcast token value by 4 groups; the
// chunk sums kept in memory: kernels_impl.h). ree-kbench --ops prefill, bf16
// 1024x4096 T=64 on 2 EPYC cores: 167 GFLOP/s with 2 x 4, 210 with 4 x 4;
// 2 x 8 and 4 x 6 measured slower.
#include "kernels/vec16_avx512.h"
// (the vector type must be defined before the templates that use it)
#include "kernels/kernels_impl.h"

namespace ree::kernels {

namespace {
constexpr KernelTable make_avx512_table() {
  KernelTable t = make_kernel_table<VecAvx512, Tiles<4, 4, 4>>(SimdPath::Avx512);
  return t;
}
constexpr KernelTable kAvx512Table = make_avx512_table();
}  // namespace

const KernelTable& kernel_table_avx512() { return kAvx512Table; }

}  // namespace ree::kernels
