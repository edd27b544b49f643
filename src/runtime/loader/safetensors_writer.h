#pragma once
// Writer for the safetensors format (the reader's counterpart, safetensors.h).
// Tensors are written in the order given, packed back to back; the JSON
// header is padded with spaces to a multiple of 8 bytes so that every
// tensor's data starts 8-byte aligned when the tensors before it are.
// The file is written to "<path>.tmp" and renamed into place, so a reader
// never sees a half-written file under the final name.
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace ree {

struct TensorToWrite {
  std::string name;
  kernels::DType dtype = kernels::DType::F32;  // F32, F16 or BF16 (safetensors has no Q8_0)
  std::vector<int64_t> shape;                  // row-major, outermost first
  std::span<const uint8_t> bytes;              // product(shape) * element size bytes
};

// Throws ree::file_error(path, ...) for a dtype safetensors cannot hold, a
// byte count that does not match the shape, a duplicate or empty name, or
// an I/O failure. `metadata` becomes the header's "__metadata__" (string
// values only, as the format requires); left out when empty.
void write_safetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata = {});

// The complete file as bytes (what write_safetensors writes); for tests
// and fuzz seeds that need a file in memory.
std::vector<uint8_t> safetensors_bytes(std::span<const TensorToWrite> tensors,
                                       const std::map<std::string, std::string>& metadata,
                                       const std::string& origin);

}  // namespace ree
