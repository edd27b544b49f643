#pragma once
// A minimal PNG encoder for screenshots: 8-bit RGB or RGBA, non-interlaced,
// zlib (Debian's zlib1g-dev) for the IDAT stream and the chunk CRCs.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace ree::viewer {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 4;               // 3 (RGB) or 4 (RGBA)
  std::vector<uint8_t> pixels;    // row-major, top row first
};

// Throws ree::Error("PATH: ...") when the file cannot be written or the
// image is malformed (size, channels, pixel count).
void write_png(const std::filesystem::path& path, const Image& image);

}  // namespace ree::viewer
