#include "replay/locate.h"

#include <algorithm>

#include "runtime/error.h"

namespace ree::replay {

std::optional<size_t> first_differing_probe(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return i;
  return std::nullopt;
}

namespace {

std::string describe(const EngineOptions& o) {
  return std::string(device_name(o.device)) + " " + kernels::mode_name(o.mode) + " (" + std::to_string(o.threads) +
         (o.threads == 1 ? " thread)" : " threads)");
}

// Fills `engine` with tokens[0, position) and runs `position` alone with probes.
std::vector<uint64_t> probes_at(Engine& engine, const std::vector<int32_t>& tokens, int64_t position) {
  engine.reset();
  if (position > 0) feed(engine, std::span(tokens).first(size_t(position)), 0, ForwardRequest{});
  ForwardRequest r;
  r.probes = true;
  const int32_t token[1] = {tokens[size_t(position)]};
  return engine.forward(token, r).probes;
}

void name_probe(LocateResult& out, std::optional<size_t> index, const std::string& what_differs) {
  if (!index) {
    out.found = false;
    out.message = "every layer's probes match at position " + std::to_string(out.position) +
                  "; the difference comes after the last layer (final norm or output projection)";
    return;
  }
  out.found = true;
  out.layer = int(*index / kProbesPerLayer);
  out.point = ProbePoint(int(*index % kProbesPerLayer));
  out.message = "first difference at position " + std::to_string(out.position) + ": layer " +
                std::to_string(out.layer) + " " + probe_point_name(out.point) + " output (" + what_differs + ")";
}

const schema::Step* recorded_step(const trace::SessionReader& session, uint32_t turn, uint32_t step) {
  for (const trace::TurnSpan& span : session.turns()) {
    if (span.turn != turn) continue;
    if (step >= span.step_count) return nullptr;
    return session.record(session.steps()[span.first_step + step]).step();
  }
  return nullptr;
}

LocateResult against_record(const trace::SessionReader& session, Engine& engine, const LocateRequest& req) {
  LocateResult out;
  out.against = "recorded probes";
  if (!req.target) {
    out.message = "no step's logits differ from the record: nothing to locate";
    return out;
  }
  out.turn = req.target->turn;
  out.step = req.target->step;
  out.position = req.target->position;
  if (!session.header().config()->probes()) {
    out.message = "the session was recorded without --probe layers: record with probes, or compare two engines "
                  "with --against-device/--against-mode";
    return out;
  }
  const schema::Step* step = recorded_step(session, out.turn, out.step);
  if (!step || !step->layer_hashes() || out.position >= int64_t(req.tokens->size())) {
    out.message = "the step to locate is not in the session";
    return out;
  }
  const std::vector<uint64_t> recorded(step->layer_hashes()->begin(), step->layer_hashes()->end());
  const std::vector<uint64_t> observed = probes_at(engine, *req.tokens, out.position);
  name_probe(out, first_differing_probe(recorded, observed), "replay vs recorded probes");
  return out;
}

// The first position at which the two engines' logits hashes differ, or -1.
int64_t first_differing_position(Engine& a, Engine& b, const std::vector<int32_t>& tokens) {
  a.reset();
  b.reset();
  const int64_t chunk = std::min(a.options().max_batch, b.options().max_batch);
  ForwardRequest r;
  r.all_positions = true;
  for (size_t begin = 0; begin < tokens.size(); begin += size_t(chunk)) {
    const auto part = std::span(tokens).subspan(begin, std::min(tokens.size() - begin, size_t(chunk)));
    const ForwardResult fa = a.forward(part, r);
    const ForwardResult fb = b.forward(part, r);
    for (size_t i = 0; i < part.size(); ++i)
      if (fa.logits_hash[i] != fb.logits_hash[i]) return int64_t(begin + i);
  }
  return -1;
}

LocateResult against_engine(const Model& model, Engine& engine, const LocateRequest& req) {
  LocateResult out;
  auto other = make_engine(model, *req.against);
  out.against = describe(engine.options()) + " vs " + describe(*req.against);
  const std::vector<int32_t>& tokens = *req.tokens;
  if (tokens.empty()) {
    out.message = "nothing was fed: nothing to compare";
    return out;
  }
  const int64_t position = first_differing_position(engine, *other, tokens);
  if (position < 0) {
    out.message = "the two engines give identical logits at all " + std::to_string(tokens.size()) + " positions";
    return out;
  }
  out.position = position;
  const std::vector<uint64_t> a = probes_at(engine, tokens, position);
  const std::vector<uint64_t> b = probes_at(*other, tokens, position);
  name_probe(out, first_differing_probe(a, b), out.against);
  return out;
}

}  // namespace

LocateResult locate_divergence(const trace::SessionReader& session, const Model& model, Engine& engine,
                               const LocateRequest& request) {
  if (!request.tokens) throw Error("locate: no token history", ExitCode(4));
  if (request.against) return against_engine(model, engine, request);
  return against_record(session, engine, request);
}

}  // namespace ree::replay
