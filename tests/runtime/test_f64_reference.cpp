// ree's reproducible f32 logits against an independent float64 forward pass
// (reference_forward.cpp) on random-weight models of the `test` shape.
#include <doctest/doctest.h>

#include <cmath>

#include "reference_forward.h"
#include "runtime/engine.h"
#include "runtime/model.h"
#include "test_util.h"

using namespace ree;

namespace {
// max |a - b| over max |b|: a relative error that does not explode on
// logits near zero.
double normwise_error(const float* got, const double* ref, size_t n) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < n; ++i) {
    num = std::max(num, std::fabs(double(got[i]) - ref[i]));
    den = std::max(den, std::fabs(ref[i]));
  }
  return num / den;
}
}  // namespace

TEST_CASE("f32 reproducible logits match a float64 reference") {
  test::TempDir dir;
  for (const char* dtype : {"f32", "bf16"}) {
    CAPTURE(dtype);
    const auto path = dir / (std::string("m-") + dtype);
    const auto r = test::run_ree(std::string("synth --shape test --format hf --seed 5 --dtype ") + dtype +
                                 " --out " + test::quote(path));
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    const Model m = load_model(path, LoadOptions{nullptr, false});
    std::vector<int32_t> tokens{m.config.bos_id};
    for (int i = 0; i < 299; ++i) tokens.push_back(3 + (i * 37) % (m.config.vocab_size - 3));
    const auto ref = test::reference_logits(path, m.config, tokens);

    EngineOptions o;
    o.threads = 2;
    o.context = 512;
    o.max_batch = 512;
    auto engine = make_engine(m, o);
    ForwardRequest req;
    req.all_positions = true;
    req.full_logits = true;
    const ForwardResult fr = engine->forward(tokens, req);
    const size_t V = size_t(m.config.vocab_size);
    double worst = 0.0;
    for (size_t t = 0; t < tokens.size(); ++t) {
      const double e = normwise_error(fr.logits.data() + t * V, ref.data() + t * V, V);
      worst = std::max(worst, e);
      // Greedy token agrees unless the reference itself is a near tie.
      const double* row = ref.data() + t * V;
      size_t best = 0, second = 1;
      for (size_t i = 0; i < V; ++i) {
        if (row[i] > row[best]) { second = best; best = i; }
        else if (i != best && row[i] > row[second]) second = i;
      }
      if (row[best] - row[second] > 1e-4 * std::fabs(row[best])) CHECK(fr.argmax[t] == int32_t(best));
    }
    MESSAGE("worst normwise relative error (" << std::string(dtype) << "): " << worst);
    CHECK(worst < 1e-5);
  }
}
