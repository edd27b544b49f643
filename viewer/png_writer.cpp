// PNG = signature, IHDR, IDAT (zlib stream of filtered rows), IEND; each
// chunk is length | type | data | CRC-32 of type and data (PNG spec, 5.3).
#include "png_writer.h"

#include <zlib.h>

#include <cstdio>
#include <memory>
#include <string>

#include "runtime/error.h"

namespace ree::viewer {
namespace {

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

void put_chunk(std::vector<uint8_t>& out, const char type[4], const std::vector<uint8_t>& data) {
  put_u32(out, static_cast<uint32_t>(data.size()));
  const size_t type_at = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  const uLong crc = crc32(0L, out.data() + type_at, static_cast<uInt>(4 + data.size()));
  put_u32(out, static_cast<uint32_t>(crc));
}

// Each row gets filter type 1 (Sub): UI screenshots are mostly flat colour,
// which Sub turns into runs of zeros that deflate well.
std::vector<uint8_t> filtered_rows(const Image& image) {
  const size_t stride = static_cast<size_t>(image.width) * image.channels;
  std::vector<uint8_t> rows;
  rows.reserve((stride + 1) * image.height);
  for (int y = 0; y < image.height; ++y) {
    const uint8_t* row = image.pixels.data() + y * stride;
    rows.push_back(1);
    for (size_t x = 0; x < stride; ++x)
      rows.push_back(static_cast<uint8_t>(row[x] - (x >= static_cast<size_t>(image.channels) ? row[x - image.channels] : 0)));
  }
  return rows;
}

}  // namespace

void write_png(const std::filesystem::path& path, const Image& image) {
  const std::string where = path.string();
  if (image.width <= 0 || image.height <= 0 || (image.channels != 3 && image.channels != 4))
    throw file_error(where, "cannot write a " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                                " image with " + std::to_string(image.channels) + " channels");
  if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * image.channels)
    throw file_error(where, "pixel buffer size does not match the image size");

  std::vector<uint8_t> ihdr;
  put_u32(ihdr, static_cast<uint32_t>(image.width));
  put_u32(ihdr, static_cast<uint32_t>(image.height));
  ihdr.push_back(8);                               // bit depth
  ihdr.push_back(image.channels == 4 ? 6 : 2);     // colour type: RGBA or RGB
  ihdr.push_back(0);                               // compression: deflate
  ihdr.push_back(0);                               // filter method 0
  ihdr.push_back(0);                               // no interlace

  const std::vector<uint8_t> raw = filtered_rows(image);
  uLongf compressed_size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<uint8_t> idat(compressed_size);
  if (compress2(idat.data(), &compressed_size, raw.data(), static_cast<uLong>(raw.size()), 6) != Z_OK)
    throw file_error(where, "zlib could not compress the image");
  idat.resize(compressed_size);

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  put_chunk(png, "IHDR", ihdr);
  put_chunk(png, "IDAT", idat);
  put_chunk(png, "IEND", {});

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(where.c_str(), "wb"), std::fclose);
  if (!file) throw file_error(where, "cannot create the screenshot file");
  if (std::fwrite(png.data(), 1, png.size(), file.get()) != png.size())
    throw file_error(where, "cannot write the screenshot file");
  if (std::fclose(file.release()) != 0) throw file_error(where, "cannot write the screenshot file");
}

}  // namespace ree::viewer
