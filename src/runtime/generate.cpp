#include "runtime/generate.h"

#include <algorithm>
#include <limits>

#include "runtime/error.h"

namespace ree {

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::Eos: return "eos";
    case StopReason::MaxTokens: return "max_tokens";
    case StopReason::ToolCall: return "tool_call";
    case StopReason::Interrupted: return "interrupted";
    case StopReason::ContextFull: return "context_full";
  }
  return "?";
}

namespace {

// What each forward must return so that a step can be recorded and a token chosen.
ForwardRequest step_request(const GenerateOptions& o) {
  ForwardRequest r;
  const int sampling_k = o.sampling.greedy() ? 0 : o.sampling.top_k;
  r.top_k = std::max({o.record_top_k, sampling_k, 2});
  // Sampling over the whole vocabulary needs the whole logits row.
  r.full_logits = !o.sampling.greedy() && o.sampling.top_k <= 0;
  r.probes = o.probes;
  return r;
}

Step make_step(const GenerateOptions& o, uint32_t index, const ForwardResult& fr) {
  Step s;
  s.turn = o.turn;
  s.index = index;
  s.position = fr.first_position + fr.n_positions - 1;
  s.logits_hash = fr.logits_hash.back();
  const TopEntry* top = fr.top.data() + (fr.n_positions - 1) * fr.top_k;
  s.top.assign(top, top + std::min(fr.top_k, o.record_top_k));
  s.margin = fr.top_k >= 2 ? top[0].logit - top[1].logit : std::numeric_limits<float>::infinity();
  if (!fr.probes.empty()) {
    const size_t per = fr.probes.size() / size_t(fr.n_positions);
    s.probes.assign(fr.probes.end() - per, fr.probes.end());
  }
  return s;
}

int32_t pick(const GenerateOptions& o, uint32_t index, const ForwardResult& fr, const Engine& e) {
  if (fr.argmax.back() < 0) throw Error("NaN in the logits at position " + std::to_string(fr.first_position));
  if (o.sampling.greedy()) return fr.argmax.back();
  if (o.sampling.top_k > 0) {
    const TopEntry* top = fr.top.data() + (fr.n_positions - 1) * fr.top_k;
    return choose_token(o.sampling, {top, size_t(std::min(fr.top_k, o.sampling.top_k))}, o.turn, index);
  }
  const int64_t vocab = e.model().config.vocab_size;
  const auto all = sorted_candidates(fr.logits.data() + (fr.n_positions - 1) * vocab, vocab);
  return choose_token(o.sampling, all, o.turn, index);
}

}  // namespace

GenerateResult generate(Engine& engine, std::span<const int32_t> prompt, const GenerateOptions& o,
                        const std::function<void(const Step&)>& on_step) {
  GenerateResult result;
  if (o.max_tokens <= 0) return result;
  const ForwardRequest request = step_request(o);
  if (engine.position() + int64_t(prompt.size()) > engine.context()) {
    result.stop = StopReason::ContextFull;
    return result;
  }
  ForwardResult fr = feed(engine, prompt, o.prefill_chunk, request);
  for (uint32_t index = 0;; ++index) {
    const int32_t token = pick(o, index, fr, engine);
    Step step = make_step(o, index, fr);
    step.token = token;
    result.tokens.push_back(token);
    if (on_step) on_step(step);

    const bool is_stop = std::find(o.stop_tokens.begin(), o.stop_tokens.end(), token) != o.stop_tokens.end();
    if (is_stop) result.stop = StopReason::Eos;
    else if (int64_t(result.tokens.size()) >= o.max_tokens) result.stop = StopReason::MaxTokens;
    else if (o.interrupt && o.interrupt->load()) result.stop = StopReason::Interrupted;
    else if (engine.position() >= engine.context()) result.stop = StopReason::ContextFull;
    else {
      const int32_t next[1] = {token};
      fr = engine.forward(next, request);
      continue;
    }
    if (o.feed_last && engine.position() < engine.context()) {
      const int32_t last[1] = {token};
      engine.forward(last, ForwardRequest{});
    }
    return result;
  }
}

}  // namespace ree
