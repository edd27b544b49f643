#pragma once
// Reader for the safetensors format (https://huggingface.co/docs/safetensors):
//   [8 bytes: header length N, little-endian u64][N bytes: JSON header][data]
// The header maps tensor names to {"dtype", "shape", "data_offsets": [b, e]}
// with offsets relative to the start of the data section; "__metadata__" is
// ignored. Everything in the header is validated before any tensor byte is
// touched: a bad file gives a one-line ree::file_error, never a read past
// the mapping.
//
// A sharded checkpoint is a model.safetensors.index.json whose "weight_map"
// sends each tensor name to a shard file in the same directory.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "runtime/loader/mapped_file.h"

namespace ree {

// Largest header accepted (the reference implementation's limit): anything
// bigger is a corrupt length field, not a real header.
constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

// One tensor as the header describes it, offsets already validated.
struct SafetensorsEntry {
  std::string name;
  kernels::DType dtype = kernels::DType::F32;
  std::vector<int64_t> shape;  // as stored (row-major, outermost first)
  uint64_t offset = 0;         // absolute byte offset in the file
  uint64_t nbytes = 0;         // == product(shape) * element size
};

// Parses and validates the header of the safetensors file whose complete
// bytes are `file`. `origin` names the file in errors. Entries come back in
// the header's key order (which is sorted, as nlohmann::json keeps keys).
std::vector<SafetensorsEntry> parse_safetensors_header(std::span<const uint8_t> file,
                                                       const std::string& origin);

// A tensor of an opened checkpoint: its entry plus where its bytes are.
struct SafetensorsTensor {
  SafetensorsEntry entry;
  std::string file;               // path of the shard holding it (for messages)
  const uint8_t* data = nullptr;  // entry.nbytes bytes inside a mapping of `files`
};

// Every tensor of a checkpoint (one file or all shards) and the mappings
// that keep their bytes alive.
struct SafetensorsCheckpoint {
  std::vector<std::shared_ptr<MappedFile>> files;
  std::vector<SafetensorsTensor> tensors;
};

// One model.safetensors file.
SafetensorsCheckpoint open_safetensors(const std::filesystem::path& path);

// A model.safetensors.index.json and the shards its weight_map names (each
// mapped once). Every tensor the index lists must be in the shard it names;
// a tensor present in two shards is an error.
SafetensorsCheckpoint open_safetensors_index(const std::filesystem::path& index_path);

// Bytes per element of the dtypes safetensors can hold for ree.
size_t safetensors_element_bytes(kernels::DType dtype);
// "F32", "F16", "BF16" (the header's spelling); Q8_0 has none and gives nullptr.
const char* safetensors_dtype_name(kernels::DType dtype);

}  // namespace ree
