#pragma once
// The timeline's data: per pixel column, the smallest margin (fragile steps
// must not be averaged away) and the largest top-k entropy of the steps the
// column covers.
#include <cstdint>
#include <span>
#include <vector>

namespace ree::viewer {

struct TimelineColumn {
  uint64_t first_step = 0;  // steps [first_step, end_step)
  uint64_t end_step = 0;
  float min_margin = 0.0f;
  float max_entropy = 0.0f;
};

// min(steps, columns) columns covering all steps in order; none for no steps.
std::vector<TimelineColumn> timeline_columns(std::span<const float> margin, std::span<const float> entropy,
                                             size_t columns);

// The step under x (0 <= x < width) when `steps` steps span `width` pixels.
uint64_t step_at(double x, double width, uint64_t steps);
// The x of a step's centre.
double x_of_step(uint64_t step, double width, uint64_t steps);

}  // namespace ree::viewer
