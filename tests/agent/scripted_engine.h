#pragma once
// An Engine that "generates" scripted replies: a deterministic stand-in for
// a model that makes exactly the tool calls a test needs (well-formed,
// malformed, unknown tools, too many), so the agent's tool handling and its
// replay are tested without depending on what a trained model happens to say.
//
// It walks the replies token by token: each fed token equal to the next
// expected reply token consumes it, and every result row's logits put 5.0 on
// the next expected token (0.0 elsewhere). Replies must not start with a
// token that also appears in the prompts (prompt tokens would consume it).
// Rows of a batched pass follow the same rule token by token, so teacher
// forcing and token-by-token decoding see the same logits, as repro-v1
// promises for a real model.
#include <cstring>
#include <vector>

#include "kernels/kernels.h"
#include "runtime/engine.h"
#include "runtime/error.h"

namespace ree::test {

class ScriptedEngine : public Engine {
 public:
  // Each reply should end with the template's stop token.
  ScriptedEngine(const Model& model, std::vector<std::vector<int32_t>> replies)
      : model_(model), replies_(std::move(replies)) {
    options_.context = 4096;
  }

  const Model& model() const override { return model_; }
  const EngineOptions& options() const override { return options_; }
  std::string device_description() const override { return "scripted"; }
  int64_t position() const override { return position_; }
  int64_t context() const override { return options_.context; }
  void reset() override {
    position_ = 0;
    reply_ = 0;
    cursor_ = 0;
  }
  void rewind(int64_t) override { throw Error("the scripted engine cannot rewind"); }
  uint64_t kv_state_hash() const override {
    const uint64_t state[3] = {uint64_t(position_), reply_, cursor_};
    return kernels::f32_hash(reinterpret_cast<const float*>(state), 6);
  }

  ForwardResult forward(std::span<const int32_t> tokens, const ForwardRequest& request) override {
    const int64_t vocab = model_.config.vocab_size;
    ForwardResult r;
    r.first_position = request.all_positions ? position_ : position_ + int64_t(tokens.size()) - 1;
    r.top_k = int(std::min<int64_t>(request.top_k, vocab));
    std::vector<float> row(size_t(vocab), 0.0f);
    for (size_t i = 0; i < tokens.size(); ++i) {
      consume(tokens[i]);
      if (!request.all_positions && i + 1 < tokens.size()) continue;
      std::fill(row.begin(), row.end(), 0.0f);
      row[size_t(expected())] = 5.0f;
      r.logits_hash.push_back(kernels::logits_hash(row.data(), vocab));
      r.argmax.push_back(kernels::argmax(row.data(), vocab));
      const size_t at = r.top.size();
      r.top.resize(at + size_t(r.top_k));
      top_k_of(row.data(), vocab, r.top_k, r.top.data() + at);
      if (request.full_logits) r.logits.insert(r.logits.end(), row.begin(), row.end());
      if (request.probes) r.probes.resize(r.probes.size() + size_t(model_.config.n_layers * kProbesPerLayer), 7);
      ++r.n_positions;
    }
    position_ += int64_t(tokens.size());
    return r;
  }

 private:
  int32_t expected() const {
    if (reply_ >= replies_.size()) return model_.config.eos_id;
    return replies_[reply_][cursor_];
  }
  void consume(int32_t token) {
    if (reply_ >= replies_.size() || token != replies_[reply_][cursor_]) return;
    if (++cursor_ == replies_[reply_].size()) {
      ++reply_;
      cursor_ = 0;
    }
  }

  const Model& model_;
  EngineOptions options_;
  std::vector<std::vector<int32_t>> replies_;
  int64_t position_ = 0;
  size_t reply_ = 0, cursor_ = 0;
};

}  // namespace ree::test
