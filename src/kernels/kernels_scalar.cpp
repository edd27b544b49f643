// The scalar path: the reference every other path matches bit for bit.
// Compiled with the baseline x86-64 flags, so it runs on any CPU.
#include "kernels/vec16_scalar.h"
// (the vector type must be defined before the templates that use it)
#include "kernels/kernels_impl.h"

namespace ree::kernels {

namespace {
constexpr KernelTable kScalarTable = make_kernel_table<VecScalar, Tiles<1, 1, 4>>(SimdPath::Scalar);
}

const KernelTable& kernel_table_scalar() { return kScalarTable; }

}  // namespace ree::kernels
