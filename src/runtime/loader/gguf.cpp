// GGUF reader: every read goes through Cursor, which checks the remaining
// length first; every count is checked against the bytes left before any
// vector is sized from it (gguf.h has the layout).
#include "runtime/loader/gguf.h"

#include <bit>
#include <limits>

#include "runtime/error.h"
#include "runtime/loader/json_fields.h"

namespace ree::gguf {
namespace {

// Smallest encoding of one element of each type, used to reject counts that
// cannot fit in the bytes that remain before allocating for them.
uint64_t min_encoded_size(ValueType type) {
  switch (type) {
    case ValueType::Uint8: case ValueType::Int8: case ValueType::Bool: return 1;
    case ValueType::Uint16: case ValueType::Int16: return 2;
    case ValueType::Uint32: case ValueType::Int32: case ValueType::Float32: return 4;
    case ValueType::Uint64: case ValueType::Int64: case ValueType::Float64: return 8;
    case ValueType::String: return 8;   // u64 length
    case ValueType::Array: return 12;   // u32 type + u64 count
  }
  return 1;
}

bool is_known_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::Float64); }

// Minimal tensor info: u64 name length, u32 n_dims, one u64 dim, u32 type, u64 offset.
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;
// Minimal key/value: u64 key length, u32 type, a one-byte value.
constexpr uint64_t kMinKeyValueBytes = 8 + 4 + 1;

class Cursor {
 public:
  Cursor(std::span<const uint8_t> bytes, const std::string& origin) : bytes_(bytes), origin_(origin) {}

  uint64_t position() const { return pos_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }

  [[noreturn]] void fail(const std::string& what) const { throw file_error(origin_, what); }

  void need(uint64_t n, const std::string& what) const {
    if (n > remaining()) {
      fail("truncated GGUF: " + what + " at offset " + std::to_string(pos_) + " needs " +
           std::to_string(n) + " bytes, " + std::to_string(remaining()) + " left");
    }
  }

  uint64_t read_uint(int n_bytes, const std::string& what) {
    need(static_cast<uint64_t>(n_bytes), what);
    uint64_t value = 0;
    for (int i = 0; i < n_bytes; ++i) value |= static_cast<uint64_t>(bytes_[pos_ + i]) << (8 * i);
    pos_ += static_cast<uint64_t>(n_bytes);
    return value;
  }
  uint32_t u32(const std::string& what) { return static_cast<uint32_t>(read_uint(4, what)); }
  uint64_t u64(const std::string& what) { return read_uint(8, what); }

  std::string string(const std::string& what) {
    const uint64_t len = u64(what + " length");
    need(len, what);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<size_t>(len));
    pos_ += len;
    return s;
  }

  // Rejects `count` elements of at least `min_size` bytes each that cannot
  // fit in what is left: a huge count costs nothing.
  void check_count(uint64_t count, uint64_t min_size, const std::string& what) const {
    if (min_size != 0 && count > remaining() / min_size) {
      fail("absurd " + what + " " + std::to_string(count) + " (only " + std::to_string(remaining()) +
           " bytes left at offset " + std::to_string(pos_) + ")");
    }
  }

 private:
  std::span<const uint8_t> bytes_;
  uint64_t pos_ = 0;
  const std::string& origin_;
};

int64_t sign_extend(uint64_t raw, int n_bytes) {
  if (n_bytes == 8) return static_cast<int64_t>(raw);
  const int shift = 64 - 8 * n_bytes;
  return static_cast<int64_t>(raw << shift) >> shift;
}

double read_float(Cursor& c, ValueType type, const std::string& what) {
  if (type == ValueType::Float32) {
    return static_cast<double>(std::bit_cast<float>(c.u32(what)));  // exact
  }
  return std::bit_cast<double>(c.u64(what));
}

int64_t read_integer(Cursor& c, ValueType type, const std::string& what) {
  switch (type) {
    case ValueType::Uint8: return static_cast<int64_t>(c.read_uint(1, what));
    case ValueType::Int8: return sign_extend(c.read_uint(1, what), 1);
    case ValueType::Uint16: return static_cast<int64_t>(c.read_uint(2, what));
    case ValueType::Int16: return sign_extend(c.read_uint(2, what), 2);
    case ValueType::Uint32: return static_cast<int64_t>(c.read_uint(4, what));
    case ValueType::Int32: return sign_extend(c.read_uint(4, what), 4);
    case ValueType::Uint64: case ValueType::Int64: return static_cast<int64_t>(c.u64(what));
    case ValueType::Bool: {
      const uint64_t b = c.read_uint(1, what);
      if (b > 1) c.fail(what + " is a bool with value " + std::to_string(b));
      return static_cast<int64_t>(b);
    }
    default: c.fail(what + ": not an integer type");
  }
}

bool is_integer_type(ValueType t) {
  return t != ValueType::Float32 && t != ValueType::Float64 && t != ValueType::String &&
         t != ValueType::Array;
}

ValueType read_value_type(Cursor& c, const std::string& what) {
  const uint32_t raw = c.u32(what + " type");
  if (!is_known_value_type(raw)) c.fail(what + " has unknown value type " + std::to_string(raw));
  return static_cast<ValueType>(raw);
}

Value read_value(Cursor& c, ValueType type, const std::string& what, int depth);

Value read_array(Cursor& c, const std::string& what, int depth) {
  if (depth >= kMaxArrayNesting) {
    c.fail(what + ": arrays nested deeper than " + std::to_string(kMaxArrayNesting));
  }
  Value v;
  v.type = ValueType::Array;
  v.element_type = read_value_type(c, what + " element");
  const uint64_t count = c.u64(what + " count");
  c.check_count(count, min_encoded_size(v.element_type), what + " count");
  const size_t n = static_cast<size_t>(count);
  const ValueType et = v.element_type;
  if (et == ValueType::String) {
    v.strings.reserve(n);
    for (size_t i = 0; i < n; ++i) v.strings.push_back(c.string(what + " element"));
  } else if (et == ValueType::Array) {
    v.arrays.reserve(n);
    for (size_t i = 0; i < n; ++i) v.arrays.push_back(read_array(c, what + " element", depth + 1));
  } else if (et == ValueType::Float32 || et == ValueType::Float64) {
    v.floats.reserve(n);
    for (size_t i = 0; i < n; ++i) v.floats.push_back(read_float(c, et, what + " element"));
  } else {
    v.ints.reserve(n);
    for (size_t i = 0; i < n; ++i) v.ints.push_back(read_integer(c, et, what + " element"));
  }
  return v;
}

Value read_value(Cursor& c, ValueType type, const std::string& what, int depth) {
  if (type == ValueType::Array) return read_array(c, what, depth);
  Value v;
  v.type = type;
  if (type == ValueType::String) {
    v.string_value = c.string(what);
  } else if (type == ValueType::Float32 || type == ValueType::Float64) {
    v.float_value = read_float(c, type, what);
  } else {
    v.int_value = read_integer(c, type, what);
  }
  return v;
}

// a * b when it fits in a uint64, nullopt otherwise.
std::optional<uint64_t> mul_checked(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

TensorInfo read_tensor_info(Cursor& c, size_t index) {
  TensorInfo t;
  t.name = c.string("tensor " + std::to_string(index) + " name");
  // Names come from the file: printable() keeps messages on one line.
  const std::string what = "tensor " + printable(t.name);
  const uint32_t n_dims = c.u32(what + " n_dims");
  if (n_dims < 1 || n_dims > kMaxDims) {
    c.fail(what + " has " + std::to_string(n_dims) + " dimensions (1 to " + std::to_string(kMaxDims) +
           " allowed)");
  }
  uint64_t elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    const uint64_t ne = c.u64(what + " dimension");
    if (ne == 0) c.fail(what + " has an empty dimension " + std::to_string(d));
    const auto product = mul_checked(elements, ne);
    if (!product || *product > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      c.fail(what + " has an absurd number of elements");
    }
    elements = *product;
    t.ne.push_back(ne);
  }
  const uint32_t type = c.u32(what + " type");
  if (type != 0 && type != 1 && type != 8 && type != 30) {
    c.fail("unsupported tensor type " + std::to_string(type) + " for tensor " + printable(t.name));
  }
  t.type = static_cast<TensorType>(type);
  t.offset = c.u64(what + " offset");
  if (t.type == TensorType::Q8_0 && t.ne[0] % 32 != 0) {
    c.fail(what + " has " + std::to_string(t.ne[0]) + " columns, not a multiple of the Q8_0 block size");
  }
  const auto row_bytes = tensor_row_bytes(t.type, t.ne[0]);
  const auto nbytes = row_bytes ? mul_checked(*row_bytes, t.rows()) : std::nullopt;
  if (!nbytes) c.fail(what + " has an absurd size");
  t.nbytes = *nbytes;
  return t;
}

uint32_t alignment_from_metadata(const File& file, const std::string& origin) {
  const Value* v = file.find("general.alignment");
  if (v == nullptr) return kDefaultAlignment;
  if (!v->is_integer() || v->int_value <= 0 || v->int_value > (int64_t{1} << 30) ||
      (v->int_value & (v->int_value - 1)) != 0) {
    throw file_error(origin, "general.alignment must be a power of two integer up to 2^30");
  }
  return static_cast<uint32_t>(v->int_value);
}

// Checks each tensor's data lies inside the file and sets file_offset.
void place_tensors(File& file, uint64_t file_size, const std::string& origin) {
  for (TensorInfo& t : file.tensors) {
    if (t.offset % file.alignment != 0) {
      throw file_error(origin, "tensor " + printable(t.name) + " offset " + std::to_string(t.offset) +
                                   " is not a multiple of the alignment " + std::to_string(file.alignment));
    }
    const uint64_t room = file_size - file.data_offset;  // data_offset <= file_size checked by caller
    if (t.offset > room || t.nbytes > room - t.offset) {
      throw file_error(origin, "tensor " + printable(t.name) + " data [" + std::to_string(t.offset) + ", +" +
                                   std::to_string(t.nbytes) + ") lies outside the file's data section (" +
                                   std::to_string(room) + " bytes)");
    }
    t.file_offset = file.data_offset + t.offset;
  }
}

}  // namespace

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::Uint8: return "uint8";
    case ValueType::Int8: return "int8";
    case ValueType::Uint16: return "uint16";
    case ValueType::Int16: return "int16";
    case ValueType::Uint32: return "uint32";
    case ValueType::Int32: return "int32";
    case ValueType::Float32: return "float32";
    case ValueType::Bool: return "bool";
    case ValueType::String: return "string";
    case ValueType::Array: return "array";
    case ValueType::Uint64: return "uint64";
    case ValueType::Int64: return "int64";
    case ValueType::Float64: return "float64";
  }
  return "unknown";
}

bool Value::is_integer() const { return is_integer_type(type) && type != ValueType::Bool; }

size_t Value::array_size() const {
  if (type != ValueType::Array) return 0;
  return ints.size() + floats.size() + strings.size() + arrays.size();  // only one is filled
}

const char* tensor_type_name(TensorType t) {
  switch (t) {
    case TensorType::F32: return "F32";
    case TensorType::F16: return "F16";
    case TensorType::Q8_0: return "Q8_0";
    case TensorType::BF16: return "BF16";
  }
  return "unknown";
}

std::optional<uint64_t> tensor_row_bytes(TensorType t, uint64_t n) {
  switch (t) {
    case TensorType::F32: return mul_checked(n, 4);
    case TensorType::F16: case TensorType::BF16: return mul_checked(n, 2);
    case TensorType::Q8_0:
      if (n % 32 != 0) return std::nullopt;
      return mul_checked(n / 32, 34);
  }
  return std::nullopt;
}

uint64_t TensorInfo::rows() const {
  uint64_t r = 1;
  for (size_t d = 1; d < ne.size(); ++d) r *= ne[d];  // the reader checked the product fits
  return r;
}

const Value* File::find(std::string_view key) const {
  const auto it = metadata_index.find(std::string(key));
  return it == metadata_index.end() ? nullptr : &metadata[it->second].second;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  const auto it = tensor_index.find(std::string(name));
  return it == tensor_index.end() ? nullptr : &tensors[it->second];
}

File parse_gguf(std::span<const uint8_t> bytes, const std::string& origin) {
  Cursor c(bytes, origin);
  if (bytes.size() < 4 || c.u32("magic") != kMagic) throw file_error(origin, "not a GGUF file (bad magic)");
  File file;
  const uint32_t version = c.u32("version");
  if (version != 2 && version != 3) {
    // A big-endian file has its version byte-swapped.
    if (version == 0x03000000 || version == 0x02000000) c.fail("big-endian GGUF is not supported");
    c.fail("unsupported GGUF version " + std::to_string(version) + " (ree reads versions 2 and 3)");
  }
  file.version = version;
  const uint64_t n_tensors = c.u64("tensor count");
  const uint64_t n_kv = c.u64("metadata count");
  c.check_count(n_kv, kMinKeyValueBytes, "metadata count");
  c.check_count(n_tensors, kMinTensorInfoBytes, "tensor count");

  file.metadata.reserve(static_cast<size_t>(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.string("metadata key " + std::to_string(i));
    const std::string what = "metadata " + printable(key);
    if (!file.metadata_index.emplace(key, file.metadata.size()).second) c.fail("duplicate " + what);
    const ValueType type = read_value_type(c, what);
    file.metadata.emplace_back(std::move(key), read_value(c, type, what, 0));
  }

  file.tensors.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo t = read_tensor_info(c, static_cast<size_t>(i));
    if (!file.tensor_index.emplace(t.name, file.tensors.size()).second) {
      c.fail("duplicate tensor " + printable(t.name));
    }
    file.tensors.push_back(std::move(t));
  }

  file.alignment = alignment_from_metadata(file, origin);
  const uint64_t end_of_infos = c.position();
  const uint64_t padding = (file.alignment - end_of_infos % file.alignment) % file.alignment;
  if (padding > c.remaining()) {
    if (!file.tensors.empty()) c.fail("truncated GGUF: the data section is missing");
    file.data_offset = bytes.size();
  } else {
    file.data_offset = end_of_infos + padding;
  }
  place_tensors(file, bytes.size(), origin);
  return file;
}

namespace {
[[noreturn]] void wrong_type(std::string_view key, const Value& v, const char* expected,
                             const std::string& origin) {
  throw file_error(origin, "metadata " + std::string(key) + " is " + value_type_name(v.type) + ", expected " +
                               expected);
}
}  // namespace

std::optional<int64_t> get_int(const File& file, std::string_view key, const std::string& origin) {
  const Value* v = file.find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_integer()) wrong_type(key, *v, "an integer", origin);
  if (v->type == ValueType::Uint64 && v->int_value < 0) {
    throw file_error(origin, "metadata " + std::string(key) + " is out of range");
  }
  return v->int_value;
}

std::optional<double> get_float(const File& file, std::string_view key, const std::string& origin) {
  const Value* v = file.find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_float()) wrong_type(key, *v, "a float", origin);
  return v->float_value;
}

std::optional<std::string> get_string(const File& file, std::string_view key, const std::string& origin) {
  const Value* v = file.find(key);
  if (v == nullptr) return std::nullopt;
  if (v->type != ValueType::String) wrong_type(key, *v, "a string", origin);
  return v->string_value;
}

std::optional<bool> get_bool(const File& file, std::string_view key, const std::string& origin) {
  const Value* v = file.find(key);
  if (v == nullptr) return std::nullopt;
  if (v->type != ValueType::Bool) wrong_type(key, *v, "a bool", origin);
  return v->int_value != 0;
}

}  // namespace ree::gguf
