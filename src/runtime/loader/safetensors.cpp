#include "runtime/loader/safetensors.h"

#include <map>
#include <string_view>

#include "runtime/error.h"
#include "runtime/loader/json_fields.h"

namespace ree {

size_t safetensors_element_bytes(kernels::DType dtype) {
  switch (dtype) {
    case kernels::DType::F32: return 4;
    case kernels::DType::F16: return 2;
    case kernels::DType::BF16: return 2;
    case kernels::DType::Q8_0: return 0;
  }
  return 0;
}

const char* safetensors_dtype_name(kernels::DType dtype) {
  switch (dtype) {
    case kernels::DType::F32: return "F32";
    case kernels::DType::F16: return "F16";
    case kernels::DType::BF16: return "BF16";
    case kernels::DType::Q8_0: return nullptr;
  }
  return nullptr;
}

namespace {

constexpr size_t kMaxRank = 8;  // Llama tensors have rank 1 or 2; more is junk

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

kernels::DType parse_tensor_dtype(const nlohmann::json& info, const std::string& name,
                                  const std::string& origin) {
  const auto it = info.find("dtype");
  if (it == info.end() || !it->is_string()) {
    throw file_error(origin, "tensor " + printable(name) + " has no dtype string");
  }
  const std::string& dtype = it->get_ref<const std::string&>();
  if (dtype == "F32") return kernels::DType::F32;
  if (dtype == "F16") return kernels::DType::F16;
  if (dtype == "BF16") return kernels::DType::BF16;
  throw file_error(origin, "unsupported dtype " + printable(dtype, 40) + " for tensor " + printable(name));
}

// Shape as stored; also returns the element count, overflow-checked.
std::vector<int64_t> parse_tensor_shape(const nlohmann::json& info, const std::string& name,
                                        const std::string& origin, uint64_t* elements) {
  const auto it = info.find("shape");
  if (it == info.end() || !it->is_array() || it->size() > kMaxRank) {
    throw file_error(origin, "tensor " + printable(name) + " has no shape array of rank <= " +
                                 std::to_string(kMaxRank));
  }
  std::vector<int64_t> shape;
  uint64_t count = 1;
  for (const auto& dim_json : *it) {
    const std::optional<int64_t> dim = as_int(dim_json, 0, INT64_MAX);
    if (!dim) {
      throw file_error(origin, "tensor " + printable(name) + " has a bad dimension " + short_dump(dim_json));
    }
    if (__builtin_mul_overflow(count, static_cast<uint64_t>(*dim), &count)) {
      throw file_error(origin, "tensor " + printable(name) + " has a shape whose size overflows");
    }
    shape.push_back(*dim);
  }
  *elements = count;
  return shape;
}

// Checks data_offsets against the shape and the data section; returns the
// absolute offset of the first byte.
uint64_t check_tensor_offsets(const nlohmann::json& info, const std::string& name,
                              const std::string& origin, uint64_t expected_bytes,
                              uint64_t data_start, uint64_t data_size) {
  const auto it = info.find("data_offsets");
  if (it == info.end() || !it->is_array() || it->size() != 2) {
    throw file_error(origin, "tensor " + printable(name) + " has no data_offsets [begin, end]");
  }
  const std::optional<int64_t> begin = as_int((*it)[0], 0, INT64_MAX);
  const std::optional<int64_t> end = as_int((*it)[1], 0, INT64_MAX);
  if (!begin || !end || *begin > *end) {
    throw file_error(origin, "tensor " + printable(name) + " has bad data_offsets " + short_dump(*it));
  }
  const auto b = static_cast<uint64_t>(*begin);
  const auto e = static_cast<uint64_t>(*end);
  if (e > data_size) {
    throw file_error(origin, "tensor " + printable(name) + " data_offsets [" + std::to_string(b) + ", " +
                                 std::to_string(e) + "] lie outside the data section (" +
                                 std::to_string(data_size) + " bytes; file truncated?)");
  }
  if (e - b != expected_bytes) {
    throw file_error(origin, "tensor " + printable(name) + " has " + std::to_string(e - b) +
                                 " bytes of data but its dtype and shape need " +
                                 std::to_string(expected_bytes));
  }
  return data_start + b;
}

}  // namespace

std::vector<SafetensorsEntry> parse_safetensors_header(std::span<const uint8_t> file,
                                                       const std::string& origin) {
  if (file.size() < 8) {
    throw file_error(origin, "truncated: " + std::to_string(file.size()) +
                                 " bytes, a safetensors file starts with an 8-byte header length");
  }
  const uint64_t header_bytes = read_u64_le(file.data());
  if (header_bytes > kMaxSafetensorsHeaderBytes) {
    throw file_error(origin, "header length " + std::to_string(header_bytes) +
                                 " is not sane (limit " + std::to_string(kMaxSafetensorsHeaderBytes) +
                                 "); not a safetensors file?");
  }
  if (header_bytes > file.size() - 8) {
    throw file_error(origin, "header length " + std::to_string(header_bytes) + " exceeds the file (" +
                                 std::to_string(file.size()) + " bytes; truncated?)");
  }
  const std::string_view header_text(reinterpret_cast<const char*>(file.data() + 8),
                                     static_cast<size_t>(header_bytes));
  const nlohmann::json header = parse_json(header_text, origin, "safetensors header");
  if (!header.is_object()) throw file_error(origin, "safetensors header is not a JSON object");

  const uint64_t data_start = 8 + header_bytes;
  const uint64_t data_size = file.size() - data_start;
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    if (!info.is_object()) throw file_error(origin, "tensor " + printable(name) + " is not a JSON object");
    SafetensorsEntry entry;
    entry.name = name;
    entry.dtype = parse_tensor_dtype(info, name, origin);
    uint64_t elements = 0;
    entry.shape = parse_tensor_shape(info, name, origin, &elements);
    if (__builtin_mul_overflow(elements, safetensors_element_bytes(entry.dtype), &entry.nbytes)) {
      throw file_error(origin, "tensor " + printable(name) + " has a shape whose size overflows");
    }
    entry.offset = check_tensor_offsets(info, name, origin, entry.nbytes, data_start, data_size);
    entries.push_back(std::move(entry));
  }
  return entries;
}

namespace {

// Adds every tensor of one mapped file to `checkpoint`.
void add_safetensors_file(const std::shared_ptr<MappedFile>& file, SafetensorsCheckpoint* checkpoint) {
  std::vector<SafetensorsEntry> entries = parse_safetensors_header(file->bytes(), file->path());
  checkpoint->files.push_back(file);
  for (SafetensorsEntry& entry : entries) {
    SafetensorsTensor tensor;
    tensor.data = file->range(entry.offset, entry.nbytes, "tensor " + printable(entry.name)).data();
    tensor.entry = std::move(entry);
    tensor.file = file->path();
    checkpoint->tensors.push_back(std::move(tensor));
  }
}

// A shard name from weight_map must be a plain file name in the index's
// directory: a path there could make the loader read any file.
void check_shard_name(const std::string& shard, const std::string& origin) {
  if (shard.empty() || shard == "." || shard == ".." || shard.find('/') != std::string::npos ||
      shard.find('\\') != std::string::npos || shard.find('\0') != std::string::npos) {
    throw file_error(origin, "weight_map names shard " + printable(shard) + ", which is not a plain file name");
  }
}

std::string read_text_file(const std::filesystem::path& path) {
  const std::shared_ptr<MappedFile> file = MappedFile::open(path.string());
  const std::span<const uint8_t> bytes = file->bytes();
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

SafetensorsCheckpoint open_safetensors(const std::filesystem::path& path) {
  SafetensorsCheckpoint checkpoint;
  add_safetensors_file(MappedFile::open(path.string()), &checkpoint);
  return checkpoint;
}

SafetensorsCheckpoint open_safetensors_index(const std::filesystem::path& index_path) {
  const std::string origin = index_path.string();
  const nlohmann::json index = parse_json(read_text_file(index_path), origin, "index");
  const auto map_it = index.is_object() ? index.find("weight_map") : index.end();
  if (!index.is_object() || map_it == index.end() || !map_it->is_object()) {
    throw file_error(origin, "no weight_map object");
  }
  // tensor name -> shard, and the shards in first-mention order.
  std::map<std::string, std::string> shard_of;
  std::vector<std::string> shards;
  for (const auto& [name, shard_json] : map_it->items()) {
    if (!shard_json.is_string()) throw file_error(origin, "weight_map[" + printable(name) + "] is not a string");
    const std::string& shard = shard_json.get_ref<const std::string&>();
    check_shard_name(shard, origin);
    shard_of[name] = shard;
    bool seen = false;
    for (const std::string& s : shards) seen = seen || s == shard;
    if (!seen) shards.push_back(shard);
  }

  SafetensorsCheckpoint checkpoint;
  std::map<std::string, std::string> found_in;  // tensor -> shard that holds it
  for (const std::string& shard : shards) {
    const std::filesystem::path shard_path = index_path.parent_path() / shard;
    std::error_code ec;
    if (!std::filesystem::exists(shard_path, ec)) {
      throw file_error(origin, "weight_map names shard " + printable(shard) + ", which does not exist");
    }
    const size_t first_new = checkpoint.tensors.size();
    add_safetensors_file(MappedFile::open(shard_path.string()), &checkpoint);
    for (size_t i = first_new; i < checkpoint.tensors.size(); ++i) {
      const std::string& name = checkpoint.tensors[i].entry.name;
      const auto [it, inserted] = found_in.emplace(name, shard);
      if (!inserted) {
        throw file_error(origin, "tensor " + printable(name) + " is in both " + printable(it->second) +
                                     " and " + printable(shard));
      }
    }
  }
  for (const auto& [name, shard] : shard_of) {
    const auto it = found_in.find(name);
    if (it == found_in.end() || it->second != shard) {
      throw file_error(origin, "weight_map puts tensor " + printable(name) + " in " + printable(shard) +
                                   ", but that shard does not hold it");
    }
  }
  return checkpoint;
}

}  // namespace ree
