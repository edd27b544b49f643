// Host-array wrappers around the fused decode step's phases (decode_host_ops.h).
#include "kernels/cuda/decode_host_ops.h"

#include <vector>

#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/gpu_layout.h"
#include "kernels/cuda/host_transfer.h"

namespace ree::cuda::host {
namespace {

// Arguments sized for products of up to `cols` columns; two layers, so that
// layer 1's Qkv reads the residual stream rather than an embedding row.
DecodeArgs args_for(int64_t cols) {
  DecodeArgs a;
  a.dim = int(cols);
  a.hidden = int(cols);
  a.n_layers = 2;
  a.n_heads = 1;
  a.n_kv_heads = 1;
  a.head_dim = 2;
  a.context = 1;
  return a;
}

void launch_one(DecodeArgs& a, const std::vector<DecodeLayer>& layers, DecodePhase phase, int layer, int64_t items,
                PhaseGrid grid, DeviceBuffer& layer_buffer) {
  layer_buffer = to_device(layers.data(), layers.size());
  a.layers = layer_buffer.as<DecodeLayer>();
  prepare_decode(a);
  launch_decode_phase(a, phase, layer, grid.blocks > 0 ? grid.blocks : int(items), grid.offset, Launch{});
  check(cudaGetLastError(), "decode phase");
}

int64_t groups_of(const kernels::PackedMatrix& w) { return (w.rows + kRowsPerGroup - 1) / kRowsPerGroup; }

}  // namespace

void decode_norm_product(DecodePhase phase, const kernels::PackedMatrix& w, const float* x, const float* norm_w,
                         float eps, float* y, PhaseGrid grid) {
  require_device();
  TestMatrix m = upload_matrix(w);
  DeviceBuffer d_x = to_device(x, size_t(w.cols)), d_w = to_device(norm_w, size_t(w.cols));
  DeviceBuffer d_y(sizeof(float) * size_t(w.rows), "output");
  DecodeArgs a = args_for(w.cols);
  a.eps = eps;
  a.x = d_x.as<float>();
  std::vector<DecodeLayer> layers(2);
  if (phase == DecodePhase::Qkv) {
    layers[1].qkv = m.m;
    layers[1].attn_norm = d_w.as<float>();
    a.qkv = d_y.as<float>();
  } else if (phase == DecodePhase::GateUp) {
    layers[1].gate_up = m.m;
    layers[1].ffn_norm = d_w.as<float>();
    a.gate_up = d_y.as<float>();
  } else {
    a.lm_head = m.m;
    a.final_norm = d_w.as<float>();
    a.logits = d_y.as<float>();
  }
  DeviceBuffer d_layers;
  launch_one(a, layers, phase, 1, groups_of(w), grid, d_layers);
  to_host(y, d_y, size_t(w.rows));
}

void decode_embed_norm_product(kernels::DType dtype, const uint8_t* table, int64_t rows, int32_t token,
                               const kernels::PackedMatrix& w, const float* norm_w, float eps, float* x_out, float* y,
                               PhaseGrid grid) {
  require_device();
  TestMatrix m = upload_matrix(w);
  const size_t row_bytes = kernels::dtype_row_bytes(dtype, w.cols);
  DeviceBuffer d_table = to_device(table, row_bytes * size_t(rows));
  DeviceBuffer d_token = to_device(&token, 1);
  DeviceBuffer d_w = to_device(norm_w, size_t(w.cols));
  DeviceBuffer d_x(sizeof(float) * size_t(w.cols), "x"), d_y(sizeof(float) * size_t(w.rows), "output");
  DecodeArgs a = args_for(w.cols);
  a.eps = eps;
  a.embedding_dtype = dtype;
  a.embedding = d_table.as<const uint8_t>();
  a.embedding_row_bytes = row_bytes;
  a.token = d_token.as<int32_t>();
  a.x = d_x.as<float>();
  a.qkv = d_y.as<float>();
  std::vector<DecodeLayer> layers(2);
  layers[0].qkv = m.m;
  layers[0].attn_norm = d_w.as<float>();
  DeviceBuffer d_layers;
  launch_one(a, layers, DecodePhase::Qkv, 0, groups_of(w), grid, d_layers);
  to_host(y, d_y, size_t(w.rows));
  to_host(x_out, d_x, size_t(w.cols));
}

void decode_residual_product(DecodePhase phase, const kernels::PackedMatrix& w, const float* in, float* x,
                             PhaseGrid grid) {
  require_device();
  TestMatrix m = upload_matrix(w);
  const bool down = phase == DecodePhase::Down;
  DeviceBuffer d_in = to_device(in, size_t(w.cols) * (down ? 2 : 1));
  DeviceBuffer d_x = to_device(x, size_t(w.rows));
  DecodeArgs a = args_for(w.cols);
  a.dim = int(w.rows);
  a.x = d_x.as<float>();
  std::vector<DecodeLayer> layers(2);
  if (down) {
    layers[0].down = m.m;
    a.gate_up = d_in.as<float>();
  } else {
    layers[0].wo = m.m;
    a.att = d_in.as<float>();
  }
  DeviceBuffer d_layers;
  launch_one(a, layers, down ? DecodePhase::Down : DecodePhase::Out, 0, groups_of(w), grid, d_layers);
  to_host(x, d_x, size_t(w.rows));
}

void decode_attention(const kernels::AttentionShape& shape, const float* qkv, int64_t pos,
                      const kernels::RopeTable& rope, float* k_cache, float* v_cache, float* out, PhaseGrid grid) {
  require_device();
  const int hd = shape.head_dim;
  const int64_t q_dim = int64_t(shape.n_heads) * hd, kv_dim = int64_t(shape.n_kv_heads) * hd;
  const size_t cache = size_t(rope.max_pos * kv_dim);
  DeviceBuffer d_qkv = to_device(qkv, size_t(q_dim + 2 * kv_dim));
  DeviceBuffer d_k = to_device(k_cache, cache), d_v = to_device(v_cache, cache);
  DeviceBuffer d_cos = to_device(rope.cos.data(), rope.cos.size()), d_sin = to_device(rope.sin.data(), rope.sin.size());
  DeviceBuffer d_pos = to_device(&pos, 1);
  DeviceBuffer d_scores(sizeof(float) * size_t(shape.n_heads) * size_t(rope.max_pos), "scores");
  DeviceBuffer d_out(sizeof(float) * size_t(q_dim), "attention output");
  DecodeArgs a = args_for(1);
  a.dim = int(q_dim);
  a.n_heads = shape.n_heads;
  a.n_kv_heads = shape.n_kv_heads;
  a.head_dim = hd;
  a.context = rope.max_pos;
  a.rope_cos = d_cos.as<float>();
  a.rope_sin = d_sin.as<float>();
  a.pos = d_pos.as<int64_t>();
  a.qkv = d_qkv.as<float>();
  a.scores = d_scores.as<float>();
  a.att = d_out.as<float>();
  std::vector<DecodeLayer> layers(2);
  layers[0].k_cache = d_k.as<float>();
  layers[0].v_cache = d_v.as<float>();
  DeviceBuffer d_layers;
  launch_one(a, layers, DecodePhase::Attention, 0, shape.n_heads, grid, d_layers);
  to_host(out, d_out, size_t(q_dim));
  to_host(k_cache, d_k, cache);
  to_host(v_cache, d_v, cache);
}

}  // namespace ree::cuda::host
