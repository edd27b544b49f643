#pragma once
// The viewer's colours, in one place: the screenshot tests look for some of
// them by value (kDivergence at the divergence row), and docs/viewer.md
// explains what each means. Packed as Dear ImGui's IM_COL32 (R in the low
// byte, A in the high byte).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "diff/topk.h"

namespace ree::viewer {

struct Rgb {
  uint8_t r, g, b;
  constexpr uint32_t packed(uint8_t a = 255) const {
    return uint32_t{r} | (uint32_t{g} << 8) | (uint32_t{b} << 16) | (uint32_t{a} << 24);
  }
};

// Differences between two sessions.
constexpr Rgb kDivergence = {236, 64, 200};   // first token divergence of a turn: the cell and a row bar
constexpr Rgb kDrift = {64, 200, 236};        // same token, different logits hash: cell outline
constexpr Rgb kTopKChanged = {120, 140, 255}; // same token, top-k changed: cell outline
constexpr Rgb kDiffRow = {90, 40, 80};        // background of rows holding a listed difference
// Selection and search.
constexpr Rgb kSelection = {255, 255, 255};
constexpr Rgb kSearchHit = {255, 220, 60};
// Receipt status.
constexpr Rgb kValid = {80, 200, 120};
constexpr Rgb kTruncated = {240, 170, 40};
constexpr Rgb kInvalid = {240, 70, 70};
// Timeline curves and markers.
constexpr Rgb kMarginCurveA = {110, 170, 255};
constexpr Rgb kMarginCurveB = {255, 160, 90};
constexpr Rgb kEntropyCurve = {150, 150, 150};
constexpr Rgb kTurnMarker = {90, 90, 100};
constexpr Rgb kToolMarker = {120, 220, 120};
constexpr Rgb kCheckpointMarker = {230, 230, 120};

// Margins at or above this are drawn in the calm colour; below it the cell
// warms up towards kFragile at the near-tie threshold (diff/topk.h).
constexpr float kCalmMargin = 5.0f;
constexpr Rgb kFragile = {200, 50, 50};
constexpr Rgb kUncertain = {170, 120, 40};
constexpr Rgb kCalm = {48, 58, 72};

// A token cell's fill for its top1-top2 margin: log-scaled between the near
// tie threshold (fragile, red) and kCalmMargin (calm, slate), through amber.
inline Rgb margin_colour(float margin, float near_tie = diff::kNearTieMargin) {
  if (!(margin > near_tie)) return kFragile;  // NaN too
  if (margin >= kCalmMargin) return kCalm;
  const float t = std::log(margin / near_tie) / std::log(kCalmMargin / near_tie);  // 0..1
  auto mix = [](const Rgb& x, const Rgb& y, float u) {
    auto c = [u](uint8_t p, uint8_t q) { return static_cast<uint8_t>(std::lround(p + (q - p) * u)); };
    return Rgb{c(x.r, y.r), c(x.g, y.g), c(x.b, y.b)};
  };
  return t < 0.5f ? mix(kFragile, kUncertain, t * 2.0f) : mix(kUncertain, kCalm, (t - 0.5f) * 2.0f);
}

}  // namespace ree::viewer
