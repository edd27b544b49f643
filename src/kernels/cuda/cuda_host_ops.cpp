// Host-array wrappers around the CUDA kernels (cuda_host_ops.h).
#include "kernels/cuda/cuda_host_ops.h"

#include <algorithm>
#include <vector>

#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/cuda_engine.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device_weights.h"
#include "kernels/cuda/host_transfer.h"

namespace ree::cuda::host {
namespace {

DeviceBuffer position_on_device(int64_t pos0) { return to_device(&pos0, 1); }

}  // namespace

bool gpu_visible() { return cuda_device_info().ok; }

void matmul(const kernels::PackedMatrix& w, const float* x, int64_t T, float* y, int meter) {
  require_device();
  const TestMatrix on_device = upload_matrix(w);
  const GpuMatrix& m = on_device.m;
  DeviceBuffer d_x = to_device(x, size_t(T * w.cols));
  DeviceBuffer d_p(sizeof(float) * size_t(T) * size_t(m.chunks()) * size_t(w.rows), "partials");
  DeviceBuffer d_y(sizeof(float) * size_t(T * w.rows), "output");
  launch_matmul_partials(m, d_x.as<float>(), w.cols, T, d_p.as<float>(), Launch{}, meter);
  launch_combine(Partials{d_p.as<float>(), m.chunks(), w.rows}, T, d_y.as<float>(), Launch{});
  to_host(y, d_y, size_t(T * w.rows));
}

void matmul_swiglu(const kernels::PackedMatrix& w, const float* gate_up_partials, int chunks, float* y, int meter) {
  require_device();
  const TestMatrix on_device = upload_matrix(w);
  const GpuMatrix& m = on_device.m;
  DeviceBuffer d_gu = to_device(gate_up_partials, size_t(chunks) * size_t(2 * w.cols));
  DeviceBuffer d_p(sizeof(float) * size_t(m.chunks()) * size_t(w.rows), "partials");
  DeviceBuffer d_y(sizeof(float) * size_t(w.rows), "output");
  launch_matmul_partials_swiglu(m, Partials{d_gu.as<float>(), chunks, 2 * w.cols}, d_p.as<float>(), Launch{}, meter);
  launch_combine(Partials{d_p.as<float>(), m.chunks(), w.rows}, 1, d_y.as<float>(), Launch{});
  to_host(y, d_y, size_t(w.rows));
}

namespace {
// A residual norm of T rows already on the device, without y (the callers
// set it or leave the norm to a NormedX consumer). An empty `partials`: no
// product to add.
ResidualNormArgs residual_norm_args(const DeviceBuffer& x, const DeviceBuffer& partials, int chunks,
                                    const DeviceBuffer& w, const DeviceBuffer& ss, const DeviceBuffer& tickets,
                                    int64_t T, int n, float eps) {
  ResidualNormArgs a;
  a.ss_partial = ss.as<float>();
  a.tickets = tickets.as<unsigned>();
  a.add = Partials{partials.as<float>(), chunks, n};
  a.T = T;
  a.dim = n;
  a.eps = eps;
  a.x = x.as<float>();
  a.w = w.as<float>();
  return a;
}
}  // namespace

void residual_rmsnorm(float* x, const float* partials, int chunks, const float* w, int64_t T, int n, float eps,
                      float* y) {
  require_device();
  DeviceBuffer d_x = to_device(x, size_t(T * n));
  DeviceBuffer d_p = partials ? to_device(partials, size_t(T * chunks * n)) : DeviceBuffer();
  DeviceBuffer d_w = to_device(w, size_t(n));
  DeviceBuffer d_y(sizeof(float) * size_t(T * n), "output");
  DeviceBuffer d_ss(sizeof(float) * size_t(T) * size_t(chunk_count(n)), "norm scratch");
  std::vector<unsigned> zeros(static_cast<size_t>(T), 0u);
  DeviceBuffer d_tickets = to_device(zeros.data(), zeros.size());
  ResidualNormArgs a = residual_norm_args(d_x, d_p, chunks, d_w, d_ss, d_tickets, T, n, eps);
  a.y = d_y.as<float>();
  launch_residual_norm(a, Launch{});
  to_host(y, d_y, size_t(T * n));
  to_host(x, d_x, size_t(T * n));
}

void residual_rmsnorm_matmul(float* x, const float* partials, int chunks, const float* norm_w, int n, float eps,
                             const kernels::PackedMatrix& w, float* y, int meter) {
  require_device();
  const TestMatrix on_device = upload_matrix(w);
  const GpuMatrix& m = on_device.m;
  DeviceBuffer d_x = to_device(x, size_t(n));
  DeviceBuffer d_p = partials ? to_device(partials, size_t(chunks) * size_t(n)) : DeviceBuffer();
  DeviceBuffer d_w = to_device(norm_w, size_t(n));
  DeviceBuffer d_ss(sizeof(float) * size_t(chunk_count(n)), "norm scratch");
  DeviceBuffer d_tickets(sizeof(unsigned), "norm tickets");  // unused without y
  DeviceBuffer d_out(sizeof(float) * size_t(m.chunks()) * size_t(w.rows), "partials");
  DeviceBuffer d_y(sizeof(float) * size_t(w.rows), "output");
  launch_residual_norm(residual_norm_args(d_x, d_p, chunks, d_w, d_ss, d_tickets, 1, n, eps), Launch{});
  launch_matmul_partials_normed(m, NormedX{d_x.as<float>(), d_ss.as<float>(), d_w.as<float>(), n, eps},
                                d_out.as<float>(), Launch{}, meter);
  launch_combine(Partials{d_out.as<float>(), m.chunks(), w.rows}, 1, d_y.as<float>(), Launch{});
  to_host(y, d_y, size_t(w.rows));
  to_host(x, d_x, size_t(n));
}

void qkv_rope(const float* partials, int chunks, int64_t T, int64_t pos0, int n_heads, int n_kv_heads,
              const kernels::RopeTable& rope, float* q, float* k_cache, float* v_cache) {
  require_device();
  const int hd = rope.head_dim;
  const int64_t q_dim = int64_t(n_heads) * hd, kv_dim = int64_t(n_kv_heads) * hd, rows = q_dim + 2 * kv_dim;
  const size_t cache = size_t(rope.max_pos * kv_dim);
  DeviceBuffer d_p = to_device(partials, size_t(T * chunks * rows));
  DeviceBuffer d_cos = to_device(rope.cos.data(), rope.cos.size()), d_sin = to_device(rope.sin.data(), rope.sin.size());
  DeviceBuffer d_k = to_device(k_cache, cache), d_v = to_device(v_cache, cache);
  DeviceBuffer d_q(sizeof(float) * size_t(T * q_dim), "q");
  DeviceBuffer d_pos = position_on_device(pos0);
  QkvRopeArgs a;
  a.qkv = Partials{d_p.as<float>(), chunks, rows};
  a.T = T;
  a.n_heads = n_heads;
  a.n_kv_heads = n_kv_heads;
  a.head_dim = hd;
  a.pos0 = d_pos.as<int64_t>();
  a.cos = d_cos.as<float>();
  a.sin = d_sin.as<float>();
  a.q_out = d_q.as<float>();
  a.k_cache = d_k.as<float>();
  a.v_cache = d_v.as<float>();
  launch_qkv_rope(a, Launch{});
  to_host(q, d_q, size_t(T * q_dim));
  to_host(k_cache, d_k, cache);
  to_host(v_cache, d_v, cache);
}

void attention(const kernels::AttentionShape& shape, const float* q, int64_t T, int64_t pos0, const float* k_cache,
               const float* v_cache, float* out, int split, int64_t context) {
  require_device();
  const int64_t q_dim = int64_t(shape.n_heads) * shape.head_dim;
  const int64_t kv_dim = int64_t(shape.n_kv_heads) * shape.head_dim;
  const int64_t rows = pos0 + T;
  context = std::max(context, rows);
  DeviceBuffer d_q = to_device(q, size_t(T * q_dim));
  DeviceBuffer d_k = to_device(k_cache, size_t(rows * kv_dim)), d_v = to_device(v_cache, size_t(rows * kv_dim));
  DeviceBuffer d_out(sizeof(float) * size_t(T * q_dim), "attention output");
  DeviceBuffer d_scores(sizeof(float) * size_t(T * shape.n_heads * context), "scores");
  DeviceBuffer d_pos = position_on_device(pos0);
  prepare_attention(shape.head_dim);
  AttentionArgs a;
  a.T = T;
  a.t0 = 0;
  a.n_heads = shape.n_heads;
  a.n_kv_heads = shape.n_kv_heads;
  a.head_dim = shape.head_dim;
  a.pos0 = d_pos.as<int64_t>();
  a.q = d_q.as<float>();
  a.k_cache = d_k.as<float>();
  a.v_cache = d_v.as<float>();
  a.context = context;
  a.scores = d_scores.as<float>();
  a.out = d_out.as<float>();
  a.split = split;
  launch_attention(a, Launch{});
  to_host(out, d_out, size_t(T * q_dim));
}

void rope_attention(const float* partials, int chunks, int64_t pos, int n_heads, int n_kv_heads,
                    const kernels::RopeTable& rope, float* k_cache, float* v_cache, float* out) {
  require_device();
  const int hd = rope.head_dim;
  const int64_t q_dim = int64_t(n_heads) * hd, kv_dim = int64_t(n_kv_heads) * hd, rows = q_dim + 2 * kv_dim;
  const size_t cache = size_t(rope.max_pos * kv_dim);
  DeviceBuffer d_p = to_device(partials, size_t(chunks * rows));
  DeviceBuffer d_cos = to_device(rope.cos.data(), rope.cos.size()), d_sin = to_device(rope.sin.data(), rope.sin.size());
  DeviceBuffer d_k = to_device(k_cache, cache), d_v = to_device(v_cache, cache);
  DeviceBuffer d_out(sizeof(float) * size_t(q_dim), "attention output");
  DeviceBuffer d_scores(sizeof(float) * size_t(n_heads) * size_t(rope.max_pos), "scores");
  DeviceBuffer d_pos = position_on_device(pos);
  prepare_attention(hd);
  QkvRopeArgs r;
  r.qkv = Partials{d_p.as<float>(), chunks, rows};
  r.T = 1;
  r.n_heads = n_heads;
  r.n_kv_heads = n_kv_heads;
  r.head_dim = hd;
  r.pos0 = d_pos.as<int64_t>();
  r.cos = d_cos.as<float>();
  r.sin = d_sin.as<float>();
  r.k_cache = d_k.as<float>();
  r.v_cache = d_v.as<float>();
  AttentionArgs a;
  a.T = 1;
  a.n_heads = n_heads;
  a.n_kv_heads = n_kv_heads;
  a.head_dim = hd;
  a.pos0 = d_pos.as<int64_t>();
  a.k_cache = d_k.as<float>();
  a.v_cache = d_v.as<float>();
  a.context = rope.max_pos;
  a.scores = d_scores.as<float>();
  a.out = d_out.as<float>();
  launch_rope_attention(r, a, Launch{});
  to_host(out, d_out, size_t(q_dim));
  to_host(k_cache, d_k, cache);
  to_host(v_cache, d_v, cache);
}

void swiglu(const float* partials, int chunks, int64_t T, int64_t hidden, float* h) {
  require_device();
  DeviceBuffer d_p = to_device(partials, size_t(T * chunks * 2 * hidden));
  DeviceBuffer d_h(sizeof(float) * size_t(T * hidden), "h");
  SwigluArgs a;
  a.gate_up = Partials{d_p.as<float>(), chunks, 2 * hidden};
  a.T = T;
  a.hidden = hidden;
  a.h = d_h.as<float>();
  launch_swiglu(a, Launch{});
  to_host(h, d_h, size_t(T * hidden));
}

void embed(kernels::DType dtype, const uint8_t* table, int64_t rows, int64_t cols, const int32_t* tokens, int64_t T,
           float* x) {
  require_device();
  const size_t row_bytes = kernels::dtype_row_bytes(dtype, cols);
  DeviceBuffer d_table = to_device(table, row_bytes * size_t(rows));
  DeviceBuffer d_tokens = to_device(tokens, size_t(T));
  DeviceBuffer d_x(sizeof(float) * size_t(T * cols), "x");
  launch_embed({dtype, d_table.as<const uint8_t>(), row_bytes, int(cols), d_tokens.as<int32_t>(), T, d_x.as<float>()},
               Launch{});
  to_host(x, d_x, size_t(T * cols));
}

void exp(const float* x, int64_t n, float* y) {
  require_device();
  DeviceBuffer d_x = to_device(x, size_t(n));
  DeviceBuffer d_y(sizeof(float) * size_t(n), "y");
  launch_exp(d_x.as<float>(), n, d_y.as<float>(), Launch{});
  to_host(y, d_y, size_t(n));
}

void logits_summary(const float* logits, int64_t T, int64_t vocab, int top_k, int32_t* argmax, uint64_t* hash,
                    int32_t* top_ids, float* top_logits, bool single) {
  require_device();
  DeviceBuffer d_l = to_device(logits, size_t(T * vocab));
  DeviceBuffer d_a(sizeof(int32_t) * size_t(T), "argmax"), d_h(sizeof(uint64_t) * size_t(T), "hash");
  if (single) {
    launch_logits_summary_single(d_l.as<float>(), T, vocab, d_a.as<int32_t>(), d_h.as<uint64_t>(), Launch{});
  } else {
    DeviceBuffer d_ids(sizeof(int32_t) * size_t(T) * size_t(top_k + 1), "top-k");
    DeviceBuffer d_top(sizeof(float) * size_t(T) * size_t(top_k + 1), "top-k");
    DeviceBuffer d_scratch(sizeof(uint64_t) * size_t(T) * logits_summary_scratch_words(vocab), "scratch");
    std::vector<unsigned> zeros(static_cast<size_t>(T), 0u);
    DeviceBuffer d_tickets = to_device(zeros.data(), zeros.size());
    prepare_logits_summary(vocab);
    LogitsSummaryArgs a;
    a.logits = d_l.as<float>();
    a.T = T;
    a.vocab = vocab;
    a.top_k = top_k;
    a.argmax = d_a.as<int32_t>();
    a.hash = d_h.as<uint64_t>();
    a.top_ids = d_ids.as<int32_t>();
    a.top_logits = d_top.as<float>();
    a.scratch = d_scratch.as<uint64_t>();
    a.tickets = d_tickets.as<unsigned>();
    launch_logits_summary(a, Launch{});
    // twice: the tickets must have been left at zero
    launch_logits_summary(a, Launch{});
    to_host(top_ids, d_ids, size_t(T * top_k));
    to_host(top_logits, d_top, size_t(T * top_k));
  }
  to_host(argmax, d_a, size_t(T));
  to_host(hash, d_h, size_t(T));
}

}  // namespace ree::cuda::host
