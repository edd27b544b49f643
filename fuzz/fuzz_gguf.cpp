// libFuzzer target: the GGUF reader and the Llama interpretation of its
// metadata on arbitrary file bytes, plus the SentencePiece ModelProto
// decoder on the same bytes (both are ree's own parsers of untrusted input).
// Properties beyond "no crash, no sanitizer report":
//  - every error is a ree::Error with a one-line message naming the file;
//  - every accepted tensor lies inside the input (its first and last bytes
//    are read, so ASan would see an escape) and has the byte count of its
//    type and shape;
//  - a tokenizer rebuilt from metadata survives encode -> decode unchanged;
//  - Q/K row orders are permutations of their rows.
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "runtime/error.h"
#include "runtime/loader/gguf.h"
#include "runtime/loader/gguf_llama.h"
#include "runtime/loader/sp_proto.h"

namespace {

void check_error(const ree::Error& e, const char* origin) {
  const char* message = e.what();
  const size_t n = std::strlen(origin);
  if (std::strchr(message, '\n') != nullptr || std::strncmp(message, origin, n) != 0 ||
      std::strncmp(message + n, ": ", 2) != 0) {
    __builtin_trap();
  }
}

void check_tensors(const ree::gguf::File& f, const uint8_t* data, size_t size) {
  volatile uint8_t sink = 0;
  for (const ree::gguf::TensorInfo& t : f.tensors) {
    if (t.file_offset > size || t.nbytes > size - t.file_offset) __builtin_trap();
    const auto row = ree::gguf::tensor_row_bytes(t.type, t.cols());
    if (!row || *row * t.rows() != t.nbytes) __builtin_trap();
    if (t.nbytes > 0) sink = sink + data[t.file_offset] + data[t.file_offset + t.nbytes - 1];
  }
}

void check_llama(const ree::gguf::File& f, std::span<const uint8_t> bytes, const std::string& origin) {
  const ree::ModelConfig config = ree::gguf::config_from_metadata(f, origin);
  const ree::sp::ModelProto proto = ree::gguf::tokenizer_from_metadata(f, origin);
  const std::string encoded = ree::sp::encode_model_proto(proto);
  const ree::sp::ModelProto again = ree::sp::decode_model_proto(encoded, origin);
  if (again.pieces.size() != proto.pieces.size() || ree::sp::encode_model_proto(again) != encoded) __builtin_trap();
  const ree::TensorSource source = ree::gguf::tensor_source_from_gguf(f, bytes, config, origin);
  for (const auto& [name, t] : source.tensors) {
    if (t.row_order.empty()) continue;
    std::vector<bool> seen(t.row_order.size(), false);
    for (const int32_t r : t.row_order) {
      if (r < 0 || static_cast<size_t>(r) >= seen.size() || seen[static_cast<size_t>(r)]) __builtin_trap();
      seen[static_cast<size_t>(r)] = true;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string origin = "fuzz.gguf";
  const std::span<const uint8_t> bytes(data, size);
  try {
    const ree::gguf::File f = ree::gguf::parse_gguf(bytes, origin);
    check_tensors(f, data, size);
    check_llama(f, bytes, origin);
  } catch (const ree::Error& e) {
    check_error(e, "fuzz.gguf");
  }
  try {
    (void)ree::sp::decode_model_proto(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.model");
  } catch (const ree::Error& e) {
    check_error(e, "fuzz.model");
  }
  return 0;
}
