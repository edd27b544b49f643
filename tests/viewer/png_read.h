#pragma once
// A PNG reader for the viewer tests: enough of the format to check what
// ree-view writes independently of the writer (8-bit RGB/RGBA, no
// interlace, all five filter types), with every chunk CRC verified. zlib
// does the inflating. Throws std::runtime_error on anything else.
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace ree::test {

struct PngImage {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;  // top row first
  const uint8_t* at(int x, int y) const { return pixels.data() + (static_cast<size_t>(y) * width + x) * channels; }
};

inline uint32_t read_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

inline uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return static_cast<uint8_t>(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

inline PngImage read_png(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  static const uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() < 8 || !std::equal(kSignature, kSignature + 8, bytes.begin())) throw std::runtime_error("not a PNG");
  PngImage image;
  std::vector<uint8_t> idat;
  bool ended = false;
  for (size_t at = 8; at + 12 <= bytes.size() && !ended;) {
    const uint32_t length = read_u32(&bytes[at]);
    if (at + 12 + length > bytes.size()) throw std::runtime_error("chunk runs past the end");
    const std::string type(bytes.begin() + at + 4, bytes.begin() + at + 8);
    const uint8_t* data = &bytes[at + 8];
    const uint32_t crc = read_u32(&bytes[at + 8 + length]);
    if (crc32(0L, &bytes[at + 4], 4 + length) != crc) throw std::runtime_error("bad CRC in " + type);
    if (type == "IHDR") {
      image.width = static_cast<int>(read_u32(data));
      image.height = static_cast<int>(read_u32(data + 4));
      if (data[8] != 8 || (data[9] != 2 && data[9] != 6) || data[12] != 0) throw std::runtime_error("unsupported PNG");
      image.channels = data[9] == 6 ? 4 : 3;
    } else if (type == "IDAT") {
      idat.insert(idat.end(), data, data + length);
    } else if (type == "IEND") {
      ended = true;
    }
    at += 12 + length;
  }
  if (!ended || image.width <= 0 || image.height <= 0) throw std::runtime_error("incomplete PNG");
  const size_t stride = static_cast<size_t>(image.width) * image.channels;
  std::vector<uint8_t> raw((stride + 1) * image.height);
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, idat.data(), idat.size()) != Z_OK || raw_size != raw.size())
    throw std::runtime_error("bad zlib stream");
  image.pixels.resize(stride * image.height);
  for (int y = 0; y < image.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* in = &raw[y * (stride + 1) + 1];
    uint8_t* out = &image.pixels[y * stride];
    const uint8_t* up = y > 0 ? &image.pixels[(y - 1) * stride] : nullptr;
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= static_cast<size_t>(image.channels) ? out[x - image.channels] : 0;
      const int b = up ? up[x] : 0;
      const int c = up && x >= static_cast<size_t>(image.channels) ? up[x - image.channels] : 0;
      switch (filter) {
        case 0: out[x] = in[x]; break;
        case 1: out[x] = static_cast<uint8_t>(in[x] + a); break;
        case 2: out[x] = static_cast<uint8_t>(in[x] + b); break;
        case 3: out[x] = static_cast<uint8_t>(in[x] + (a + b) / 2); break;
        case 4: out[x] = static_cast<uint8_t>(in[x] + paeth(a, b, c)); break;
        default: throw std::runtime_error("bad filter type");
      }
    }
  }
  return image;
}

}  // namespace ree::test
