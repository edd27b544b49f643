// Model: what one decode step costs in weight bytes.
#include "runtime/model.h"

namespace ree {

int64_t Model::weight_bytes() const {
  // Every packed matrix is read whole per step; the norms are f32; the
  // embedding contributes one row per token.
  int64_t bytes = 0;
  for (const LayerWeights& layer : weights.layers) {
    for (const kernels::PackedMatrix* m :
         {&layer.wq, &layer.wk, &layer.wv, &layer.wo, &layer.w_gate, &layer.w_up, &layer.w_down}) {
      bytes += static_cast<int64_t>(m->stored_bytes());
    }
    bytes += static_cast<int64_t>((layer.attn_norm.size() + layer.ffn_norm.size()) * sizeof(float));
  }
  bytes += static_cast<int64_t>(weights.final_norm.size() * sizeof(float));
  bytes += static_cast<int64_t>(weights.lm_head.stored_bytes());
  if (weights.tok_embeddings.rows > 0) {
    bytes += static_cast<int64_t>(kernels::dtype_row_bytes(weights.tok_embeddings.dtype, weights.tok_embeddings.cols));
  }
  return bytes;
}

}  // namespace ree
