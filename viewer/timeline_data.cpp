#include "timeline_data.h"

#include <algorithm>
#include <cmath>

namespace ree::viewer {

std::vector<TimelineColumn> timeline_columns(std::span<const float> margin, std::span<const float> entropy,
                                             size_t columns) {
  const uint64_t n = std::min(margin.size(), entropy.size());
  std::vector<TimelineColumn> out;
  if (n == 0 || columns == 0) return out;
  const uint64_t count = std::min<uint64_t>(n, columns);
  out.resize(count);
  for (uint64_t c = 0; c < count; ++c) {
    TimelineColumn& col = out[c];
    col.first_step = c * n / count;
    col.end_step = (c + 1) * n / count;
    col.min_margin = INFINITY;
    col.max_entropy = 0.0f;
    for (uint64_t s = col.first_step; s < col.end_step; ++s) {
      // NaN margins (bad files) count as fragile.
      col.min_margin = std::isnan(margin[s]) ? 0.0f : std::min(col.min_margin, margin[s]);
      col.max_entropy = std::max(col.max_entropy, entropy[s]);
    }
  }
  return out;
}

uint64_t step_at(double x, double width, uint64_t steps) {
  if (steps == 0 || width <= 0) return 0;
  const double clamped = std::clamp(x, 0.0, width - 1e-9);
  return std::min<uint64_t>(steps - 1, static_cast<uint64_t>(clamped / width * static_cast<double>(steps)));
}

double x_of_step(uint64_t step, double width, uint64_t steps) {
  if (steps == 0) return 0;
  return (static_cast<double>(step) + 0.5) / static_cast<double>(steps) * width;
}

}  // namespace ree::viewer
