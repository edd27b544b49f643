// The AVX-512 path (F, BW, VL, DQ), compiled with those flags
// (src/kernels/CMakeLists.txt); only reached when detect_simd() found them.
// Tiles: 4 groups x 1 token for decode (4 weight streams, 8 zmm chains in
// deterministic mode); 2 groups x 4 tokens for prefill (8 zmm chains, each
// weight vector used by 4 tokens).
#include "kernels/vec16_avx512.h"
// (the vector type must be defined before the templates that use it)
#include "kernels/kernels_impl.h"

namespace ree::kernels {

namespace {
constexpr KernelTable make_avx512_table() {
  KernelTable t = make_kernel_table<VecAvx512, Tiles<4, 2, 4>>(SimdPath::Avx512);
  return t;
}
constexpr KernelTable kAvx512Table = make_avx512_table();
}  // namespace

const KernelTable& kernel_table_avx512() { return kAvx512Table; }

}  // namespace ree::kernels
