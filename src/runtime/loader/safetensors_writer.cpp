#include "runtime/loader/safetensors_writer.h"

#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "runtime/error.h"
#include "runtime/loader/safetensors.h"

namespace ree {

namespace {

// Byte count product(shape) * element size, or an error naming the tensor.
uint64_t expected_bytes(const TensorToWrite& tensor, const std::string& origin) {
  const size_t element = safetensors_element_bytes(tensor.dtype);
  if (element == 0) {
    throw file_error(origin, std::string("tensor ") + tensor.name + ": dtype " +
                                 kernels::dtype_name(tensor.dtype) + " cannot be stored in safetensors");
  }
  uint64_t count = element;
  for (const int64_t dim : tensor.shape) {
    if (dim < 0 || __builtin_mul_overflow(count, static_cast<uint64_t>(dim), &count)) {
      throw file_error(origin, "tensor " + tensor.name + " has a bad shape");
    }
  }
  return count;
}

std::string header_text(std::span<const TensorToWrite> tensors,
                        const std::map<std::string, std::string>& metadata, const std::string& origin) {
  // ordered_json keeps the tensors in the caller's order in the header too.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const TensorToWrite& tensor : tensors) {
    if (tensor.name.empty() || tensor.name == "__metadata__" || !names.insert(tensor.name).second) {
      throw file_error(origin, "tensor name \"" + tensor.name + "\" is empty, reserved or repeated");
    }
    const uint64_t nbytes = expected_bytes(tensor, origin);
    if (nbytes != tensor.bytes.size()) {
      throw file_error(origin, "tensor " + tensor.name + " has " + std::to_string(tensor.bytes.size()) +
                                   " bytes, its dtype and shape need " + std::to_string(nbytes));
    }
    header[tensor.name] = {{"dtype", safetensors_dtype_name(tensor.dtype)},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception&) {
    throw file_error(origin, "tensor names and metadata must be valid UTF-8");  // JSON cannot hold them
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

}  // namespace

std::vector<uint8_t> safetensors_bytes(std::span<const TensorToWrite> tensors,
                                       const std::map<std::string, std::string>& metadata,
                                       const std::string& origin) {
  const std::string header = header_text(tensors, metadata, origin);
  std::vector<uint8_t> out;
  uint64_t length = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(length >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  for (const TensorToWrite& tensor : tensors) out.insert(out.end(), tensor.bytes.begin(), tensor.bytes.end());
  return out;
}

void write_safetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string origin = path.string();
  const std::string header = header_text(tensors, metadata, origin);
  const std::filesystem::path tmp = path.string() + ".tmp";
  std::FILE* out = std::fopen(tmp.c_str(), "wb");
  if (out == nullptr) throw file_error(origin, "cannot create " + tmp.string());
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i));
  bool ok = std::fwrite(length, 1, 8, out) == 8 &&
            std::fwrite(header.data(), 1, header.size(), out) == header.size();
  for (const TensorToWrite& tensor : tensors) {
    ok = ok && std::fwrite(tensor.bytes.data(), 1, tensor.bytes.size(), out) == tensor.bytes.size();
  }
  ok = (std::fclose(out) == 0) && ok;
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, path, ec);
  if (!ok || ec) {
    std::filesystem::remove(tmp, ec);
    throw file_error(origin, "write failed (disk full or not writable?)");
  }
}

}  // namespace ree
