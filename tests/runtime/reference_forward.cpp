#include "reference_forward.h"

#include <cmath>
#include <map>
#include <stdexcept>

#include "runtime/loader/safetensors.h"

namespace ree::test {
namespace {

using Matrix = std::vector<double>;  // row-major

struct RefWeights {
  std::map<std::string, Matrix> t;
  const Matrix& operator[](const std::string& name) const {
    auto it = t.find(name);
    if (it == t.end()) throw std::runtime_error("reference: missing " + name);
    return it->second;
  }
};

RefWeights read_weights(const std::filesystem::path& dir) {
  const auto ckpt = open_safetensors(dir / "model.safetensors");
  RefWeights w;
  for (const auto& tensor : ckpt.tensors) {
    int64_t n = 1;
    for (int64_t d : tensor.entry.shape) n *= d;
    std::vector<float> f(static_cast<size_t>(n));
    kernels::row_to_f32(tensor.entry.dtype, tensor.data, n, f.data());
    w.t[tensor.entry.name] = Matrix(f.begin(), f.end());
  }
  return w;
}

// y[r] = sum_k W[r][k] x[k]
std::vector<double> matvec(const Matrix& W, const std::vector<double>& x, size_t rows) {
  const size_t cols = x.size();
  std::vector<double> y(rows, 0.0);
  for (size_t r = 0; r < rows; ++r) {
    double acc = 0.0;
    for (size_t k = 0; k < cols; ++k) acc += W[r * cols + k] * x[k];
    y[r] = acc;
  }
  return y;
}

std::vector<double> rmsnorm(const std::vector<double>& x, const Matrix& w, double eps) {
  double ss = 0.0;
  for (double v : x) ss += v * v;
  const double inv = 1.0 / std::sqrt(ss / double(x.size()) + eps);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * inv * w[i];
  return y;
}

// Hugging Face rotate_half RoPE on one head.
void rope(double* h, int hd, int64_t pos, double theta) {
  for (int i = 0; i < hd / 2; ++i) {
    const double freq = std::pow(theta, -2.0 * i / hd);
    const double a = double(pos) * freq, c = std::cos(a), s = std::sin(a);
    const double x0 = h[i], x1 = h[i + hd / 2];
    h[i] = x0 * c - x1 * s;
    h[i + hd / 2] = x0 * s + x1 * c;
  }
}

}  // namespace

std::vector<double> reference_logits(const std::filesystem::path& dir, const ModelConfig& c,
                                     const std::vector<int32_t>& tokens) {
  const RefWeights w = read_weights(dir);
  const size_t T = tokens.size(), dim = size_t(c.dim), hd = size_t(c.head_dim);
  const size_t q_dim = size_t(c.n_heads) * hd, kv_dim = size_t(c.n_kv_heads) * hd;
  std::vector<std::vector<double>> x(T, std::vector<double>(dim));
  const Matrix& emb = w["model.embed_tokens.weight"];
  for (size_t t = 0; t < T; ++t)
    for (size_t i = 0; i < dim; ++i) x[t][i] = emb[size_t(tokens[t]) * dim + i];

  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    std::vector<std::vector<double>> q(T), k(T), v(T);
    for (size_t t = 0; t < T; ++t) {
      const auto xn = rmsnorm(x[t], w[p + "input_layernorm.weight"], c.norm_eps);
      q[t] = matvec(w[p + "self_attn.q_proj.weight"], xn, q_dim);
      k[t] = matvec(w[p + "self_attn.k_proj.weight"], xn, kv_dim);
      v[t] = matvec(w[p + "self_attn.v_proj.weight"], xn, kv_dim);
      for (int h = 0; h < c.n_heads; ++h) rope(q[t].data() + h * hd, int(hd), int64_t(t), c.rope_theta);
      for (int h = 0; h < c.n_kv_heads; ++h) rope(k[t].data() + h * hd, int(hd), int64_t(t), c.rope_theta);
    }
    const int group = c.n_heads / c.n_kv_heads;
    for (size_t t = 0; t < T; ++t) {
      std::vector<double> att(q_dim, 0.0);
      for (int h = 0; h < c.n_heads; ++h) {
        const size_t kvh = size_t(h / group);
        std::vector<double> s(t + 1);
        double m = -INFINITY;
        for (size_t j = 0; j <= t; ++j) {
          double d = 0.0;
          for (size_t i = 0; i < hd; ++i) d += q[t][h * hd + i] * k[j][kvh * hd + i];
          s[j] = d / std::sqrt(double(hd));
          m = std::max(m, s[j]);
        }
        double sum = 0.0;
        for (auto& e : s) sum += (e = std::exp(e - m));
        for (size_t j = 0; j <= t; ++j)
          for (size_t i = 0; i < hd; ++i) att[h * hd + i] += s[j] / sum * v[j][kvh * hd + i];
      }
      const auto o = matvec(w[p + "self_attn.o_proj.weight"], att, dim);
      for (size_t i = 0; i < dim; ++i) x[t][i] += o[i];
      const auto xn = rmsnorm(x[t], w[p + "post_attention_layernorm.weight"], c.norm_eps);
      auto g = matvec(w[p + "mlp.gate_proj.weight"], xn, size_t(c.hidden_dim));
      const auto u = matvec(w[p + "mlp.up_proj.weight"], xn, size_t(c.hidden_dim));
      for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
      const auto d = matvec(w[p + "mlp.down_proj.weight"], g, dim);
      for (size_t i = 0; i < dim; ++i) x[t][i] += d[i];
    }
  }
  const Matrix& head = c.tied_embeddings ? emb : w["lm_head.weight"];
  std::vector<double> logits;
  for (size_t t = 0; t < T; ++t) {
    const auto xn = rmsnorm(x[t], w["model.norm.weight"], c.norm_eps);
    const auto l = matvec(head, xn, size_t(c.vocab_size));
    logits.insert(logits.end(), l.begin(), l.end());
  }
  return logits;
}

}  // namespace ree::test
