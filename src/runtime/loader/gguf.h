#pragma once
// GGUF (versions 3 and 2) as ggml defines it: header, metadata key/values,
// tensor infos and the aligned data section. parse_gguf() reads the bytes of
// a whole file (a MappedFile in practice) and checks every length, count and
// offset against them with overflow-safe arithmetic before it allocates or
// reads anything, so malformed input gives a ree::Error naming the file and
// never an out-of-bounds read.
//
// Layout (all little-endian):
//   "GGUF" u32 version, u64 tensor_count, u64 kv_count
//   kv_count x { string key, u32 value_type, value }
//   tensor_count x { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
//   padding to general.alignment (default 32), then the data section;
//   each tensor's offset is relative to the data section and aligned.
// A string is u64 length + bytes (no terminator). An array is u32 element
// type + u64 count + elements (arrays may nest).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ree::gguf {

// The magic as a little-endian u32 ("GGUF").
constexpr uint32_t kMagic = 0x46554747;
constexpr uint32_t kDefaultAlignment = 32;

enum class ValueType : uint32_t {
  Uint8 = 0,
  Int8 = 1,
  Uint16 = 2,
  Int16 = 3,
  Uint32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  Uint64 = 10,
  Int64 = 11,
  Float64 = 12,
};
const char* value_type_name(ValueType);

// One metadata value. Scalars use the field their type names; an array
// keeps its element type and fills exactly one of the vectors.
struct Value {
  ValueType type = ValueType::Uint8;
  int64_t int_value = 0;       // every integer type and Bool (Uint64 as its bit pattern)
  double float_value = 0.0;    // Float32 (exactly) and Float64
  std::string string_value;    // String

  ValueType element_type = ValueType::Uint8;  // Array only
  std::vector<int64_t> ints;         // integer and Bool elements (Uint64 as bit patterns)
  std::vector<double> floats;        // Float32/Float64 elements
  std::vector<std::string> strings;  // String elements
  std::vector<Value> arrays;         // nested Array elements

  bool is_integer() const;  // Uint8..Int64 (not Bool)
  bool is_float() const { return type == ValueType::Float32 || type == ValueType::Float64; }
  size_t array_size() const;
};

// ggml tensor types ree supports. Anything else is rejected by the reader.
enum class TensorType : uint32_t { F32 = 0, F16 = 1, Q8_0 = 8, BF16 = 30 };
const char* tensor_type_name(TensorType);
// Bytes of `n` consecutive elements of one row; nullopt when n is not a
// whole number of blocks (Q8_0: 32 elements in 34 bytes).
std::optional<uint64_t> tensor_row_bytes(TensorType, uint64_t n);

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> ne;     // ggml order: ne[0] is the number of columns
  TensorType type = TensorType::F32;
  uint64_t offset = 0;          // relative to the data section, as stored
  uint64_t file_offset = 0;     // absolute, checked: file_offset + nbytes <= file size
  uint64_t nbytes = 0;

  uint64_t cols() const { return ne.empty() ? 0 : ne[0]; }
  uint64_t rows() const;        // product of ne[1..]
};

struct File {
  uint32_t version = 3;
  uint32_t alignment = kDefaultAlignment;
  uint64_t data_offset = 0;     // start of the data section in the file
  std::vector<std::pair<std::string, Value>> metadata;  // in file order, keys unique
  std::vector<TensorInfo> tensors;                      // in file order, names unique
  std::unordered_map<std::string, size_t> metadata_index;  // key -> index in metadata
  std::unordered_map<std::string, size_t> tensor_index;    // name -> index in tensors

  const Value* find(std::string_view key) const;
  const TensorInfo* find_tensor(std::string_view name) const;
};

// Limits that keep malformed input from costing time or memory; generous
// for every real model.
constexpr int kMaxArrayNesting = 8;
constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS

// Parse and validate the header, metadata and tensor infos of a GGUF file
// whose whole contents are `bytes`. `origin` names the file in errors.
File parse_gguf(std::span<const uint8_t> bytes, const std::string& origin);

// Typed metadata lookups for loaders. Each throws "ORIGIN: metadata KEY ..."
// when the key is present with the wrong type or out of range.
std::optional<int64_t> get_int(const File&, std::string_view key, const std::string& origin);
std::optional<double> get_float(const File&, std::string_view key, const std::string& origin);
std::optional<std::string> get_string(const File&, std::string_view key, const std::string& origin);
std::optional<bool> get_bool(const File&, std::string_view key, const std::string& origin);

}  // namespace ree::gguf
