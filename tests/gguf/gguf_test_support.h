#pragma once
// Helpers for the GGUF tests: a byte builder for hand-made GGUF files (so the
// reader is checked against a layout written independently of the writer),
// the synthetic test-shape model as a GGUF spec, and file helpers.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/loader/gguf_writer.h"
#include "runtime/loader/synth.h"

namespace ree::test {

// Little-endian bytes appended by hand, following the GGUF spec directly.
struct Bytes {
  std::vector<uint8_t> data;

  Bytes& u8(uint8_t v) {
    data.push_back(v);
    return *this;
  }
  Bytes& le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) data.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  Bytes& u16(uint16_t v) { return le(v, 2); }
  Bytes& u32(uint32_t v) { return le(v, 4); }
  Bytes& u64(uint64_t v) { return le(v, 8); }
  Bytes& f32(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    return u32(bits);
  }
  Bytes& f64(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    return u64(bits);
  }
  Bytes& str(const std::string& s) {
    u64(s.size());
    data.insert(data.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& pad_to(size_t alignment) {
    while (data.size() % alignment != 0) data.push_back(0);
    return *this;
  }
  // GGUF header: magic, version, tensor count, metadata count.
  Bytes& header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    data.insert(data.end(), {'G', 'G', 'U', 'F'});
    return u32(version).u64(n_tensors).u64(n_kv);
  }
};

inline void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The `test` synth shape as a GGUF spec in `dtype`.
inline gguf::LlamaGgufSpec test_spec(kernels::DType dtype) {
  gguf::LlamaGgufSpec spec;
  spec.config = *synth_shape("test");
  spec.tokenizer = synth_tokenizer(spec.config.vocab_size);
  spec.dtype = dtype;
  spec.name = "test";
  return spec;
}

inline gguf::F32RowSource synth_source(const ModelConfig& config, uint64_t seed) {
  return [config, seed](const std::string& name, int64_t r0, int64_t r1, float* out) {
    synth_rows(config, seed, name, r0, r1, out);
  };
}

}  // namespace ree::test
