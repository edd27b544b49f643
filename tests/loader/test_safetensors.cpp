// safetensors reader and writer, MappedFile bounds.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>

#include "error_check.h"
#include "loader_test_support.h"
#include "runtime/loader/mapped_file.h"
#include "runtime/loader/safetensors.h"
#include "runtime/loader/safetensors_writer.h"
#include "test_util.h"

using namespace ree;
using ree::test::TempDir;

namespace {

std::vector<uint8_t> iota_bytes(size_t n, uint8_t start) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(start + i * 7);
  return v;
}

uint64_t header_length_of(const std::filesystem::path& file) {
  const std::string text = test::read_text(file);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(text[static_cast<size_t>(i)]);
  return v;
}

}  // namespace

TEST_CASE("MappedFile maps a whole file and refuses ranges outside it") {
  TempDir dir;
  const auto path = dir / "f.bin";
  test::write_text(path, "0123456789");
  const auto file = MappedFile::open(path.string());
  REQUIRE(file->size() == 10);
  CHECK(std::memcmp(file->range(2, 3, "x").data(), "234", 3) == 0);
  CHECK(file->range(10, 0, "x").empty());
  CHECK_FILE_ERROR(file->range(8, 3, "tensor t"), path.string(), "tensor t [8, +3) lies outside the file (10 bytes)");
  CHECK_FILE_ERROR(file->range(11, 0, "x"), path.string(), "outside");
  // offset + length wraps around 2^64: still refused.
  CHECK_FILE_ERROR(file->range(UINT64_MAX, 2, "x"), path.string(), "outside");
  CHECK_FILE_ERROR(file->range(2, UINT64_MAX, "x"), path.string(), "outside");

  test::write_text(dir / "empty", "");
  const auto empty = MappedFile::open((dir / "empty").string());
  CHECK(empty->size() == 0);
  CHECK(empty->range(0, 0, "x").empty());
  CHECK_FILE_ERROR(empty->range(0, 1, "x"), (dir / "empty").string(), "outside");

  CHECK_FILE_ERROR(MappedFile::open((dir / "absent").string()), (dir / "absent").string(), "cannot open");
  CHECK_FILE_ERROR(MappedFile::open(dir.path().string()), dir.path().string(), "not a regular file");
}

TEST_CASE("safetensors round trip: what the writer writes the reader reads back") {
  TempDir dir;
  const auto path = dir / "t.safetensors";
  const std::vector<uint8_t> a = iota_bytes(2 * 3 * 4, 1), b = iota_bytes(5 * 2, 9), c = iota_bytes(4 * 2, 3);
  const std::vector<TensorToWrite> tensors = {{"zeta", kernels::DType::F32, {2, 3}, a},
                                              {"alpha", kernels::DType::BF16, {5}, b},
                                              {"mid.weight", kernels::DType::F16, {2, 2}, c}};
  write_safetensors(path, tensors, {{"format", "pt"}});
  CHECK(header_length_of(path) % 8 == 0);
  CHECK_FALSE(std::filesystem::exists(path.string() + ".tmp"));

  const SafetensorsCheckpoint ckpt = open_safetensors(path);
  REQUIRE(ckpt.tensors.size() == 3);  // __metadata__ is not a tensor
  for (const TensorToWrite& w : tensors) {
    const SafetensorsTensor* found = nullptr;
    for (const auto& t : ckpt.tensors) found = t.entry.name == w.name ? &t : found;
    REQUIRE(found != nullptr);
    CHECK(found->entry.dtype == w.dtype);
    CHECK(found->entry.shape == w.shape);
    REQUIRE(found->entry.nbytes == w.bytes.size());
    CHECK(std::memcmp(found->data, w.bytes.data(), w.bytes.size()) == 0);
    CHECK(found->file == path.string());
  }
  // The same bytes as safetensors_bytes() gives in memory.
  const std::vector<uint8_t> in_memory = safetensors_bytes(tensors, {{"format", "pt"}}, "mem");
  const std::string on_disk = test::read_text(path);
  REQUIRE(in_memory.size() == on_disk.size());
  CHECK(std::memcmp(in_memory.data(), on_disk.data(), on_disk.size()) == 0);
}

TEST_CASE("safetensors writer refuses what the format cannot hold") {
  TempDir dir;
  const auto path = dir / "bad.safetensors";
  const std::vector<uint8_t> bytes(34, 0);
  const std::vector<TensorToWrite> q8 = {{"q", kernels::DType::Q8_0, {1, 32}, bytes}};
  CHECK_FILE_ERROR(write_safetensors(path, q8), path.string(), "cannot be stored in safetensors");
  const std::vector<TensorToWrite> wrong_size = {{"w", kernels::DType::F32, {2, 4}, bytes}};
  CHECK_FILE_ERROR(write_safetensors(path, wrong_size), path.string(), "has 34 bytes, its dtype and shape need 32");
  const std::vector<uint8_t> four(4, 0);
  const std::vector<TensorToWrite> twice = {{"w", kernels::DType::F32, {1}, four}, {"w", kernels::DType::F32, {1}, four}};
  CHECK_FILE_ERROR(write_safetensors(path, twice), path.string(), "repeated");
  const std::vector<TensorToWrite> latin1 = {{"caf\xe9", kernels::DType::F32, {1}, four}};
  CHECK_FILE_ERROR(write_safetensors(path, latin1), path.string(), "must be valid UTF-8");
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("safetensors reader: truncated files") {
  TempDir dir;
  const auto tiny = dir / "tiny.safetensors";
  test::write_text(tiny, "abcde");
  CHECK_FILE_ERROR(open_safetensors(tiny), tiny.string(), "truncated: 5 bytes");

  // A valid file cut short inside its data section.
  const auto cut = dir / "cut.safetensors";
  const std::vector<uint8_t> data = iota_bytes(64, 0);
  const std::vector<TensorToWrite> tensors = {{"w", kernels::DType::F32, {4, 4}, data}};
  write_safetensors(cut, tensors);
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) - 1);
  CHECK_FILE_ERROR(open_safetensors(cut), cut.string(), "data_offsets [0, 64] lie outside the data section (63 bytes");

  // Cut inside the header.
  std::filesystem::resize_file(cut, 20);
  CHECK_FILE_ERROR(open_safetensors(cut), cut.string(), "exceeds the file (20 bytes");
}

TEST_CASE("safetensors reader: wrong header length and bad JSON") {
  TempDir dir;
  const auto path = dir / "h.safetensors";
  const std::string ok_header = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  const std::vector<uint8_t> four(4, 0);

  test::write_raw_safetensors(path, ok_header, four, uint64_t{1} << 40);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "header length 1099511627776 is not sane");
  test::write_raw_safetensors(path, ok_header, four, ok_header.size() + 100);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "exceeds the file");
  // A length shorter than the header cuts the JSON.
  test::write_raw_safetensors(path, ok_header, four, ok_header.size() - 3);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "safetensors header is not valid JSON");

  test::write_raw_safetensors(path, "{\"w\": [1, 2,\n\x01", four);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "safetensors header is not valid JSON");
  test::write_raw_safetensors(path, "[1, 2]", four);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "is not a JSON object");
  test::write_raw_safetensors(path, R"({"w": 5})", four);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "tensor w is not a JSON object");
  test::write_raw_safetensors(path, R"({"w":{"shape":[1],"data_offsets":[0,4]}})", four);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "tensor w has no dtype");
  test::write_raw_safetensors(path, R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", four);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "tensor w has no shape");
  test::write_raw_safetensors(path, R"({"w":{"dtype":"F32","shape":[1]}})", four);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "tensor w has no data_offsets");
}

TEST_CASE("safetensors reader: dtypes, shapes and offsets are validated") {
  TempDir dir;
  const auto path = dir / "v.safetensors";
  const std::vector<uint8_t> data(64, 0);
  const auto header_with = [](const std::string& tensor) { return R"({"__metadata__":{"a":"b"},"t":)" + tensor + "}"; };

  test::write_raw_safetensors(path, header_with(R"({"dtype":"I32","shape":[4],"data_offsets":[0,16]})"), data);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "unsupported dtype I32 for tensor t");
  test::write_raw_safetensors(path, header_with(R"({"dtype":"F32","shape":[4],"data_offsets":[0,1000]})"), data);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "lie outside the data section (64 bytes");
  test::write_raw_safetensors(path, header_with(R"({"dtype":"F32","shape":[4],"data_offsets":[16,0]})"), data);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "bad data_offsets");
  test::write_raw_safetensors(path, header_with(R"({"dtype":"F32","shape":[4],"data_offsets":[-4,12]})"), data);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "bad data_offsets");
  test::write_raw_safetensors(path, header_with(R"({"dtype":"F32","shape":[2,2],"data_offsets":[0,12]})"), data);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "has 12 bytes of data but its dtype and shape need 16");
  test::write_raw_safetensors(path, header_with(R"({"dtype":"F32","shape":[-1],"data_offsets":[0,4]})"), data);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "bad dimension -1");
  test::write_raw_safetensors(path, header_with(R"({"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,4]})"), data);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "overflows");
  test::write_raw_safetensors(path, header_with(R"({"dtype":"BF16","shape":[2305843009213693952,4],"data_offsets":[0,4]})"), data);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "overflows");
  test::write_raw_safetensors(path, header_with(R"({"dtype":"F32","shape":[1.5],"data_offsets":[0,4]})"), data);
  CHECK_FILE_ERROR(open_safetensors(path), path.string(), "bad dimension");

  // A valid one: offsets relative to the data section, metadata ignored.
  std::vector<uint8_t> payload(64);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i);
  test::write_raw_safetensors(path, header_with(R"({"dtype":"F16","shape":[3,2],"data_offsets":[20,32]})"), payload);
  const SafetensorsCheckpoint ckpt = open_safetensors(path);
  REQUIRE(ckpt.tensors.size() == 1);
  CHECK(ckpt.tensors[0].entry.shape == std::vector<int64_t>{3, 2});
  CHECK(ckpt.tensors[0].data[0] == 20);
  CHECK(ckpt.tensors[0].entry.nbytes == 12);
}

TEST_CASE("sharded checkpoints: index weight_map") {
  TempDir dir;
  const std::vector<uint8_t> a = iota_bytes(16, 1), b = iota_bytes(8, 2), c = iota_bytes(4, 3);
  const std::vector<TensorToWrite> shard1 = {{"a", kernels::DType::F32, {4}, a}, {"b", kernels::DType::F16, {4}, b}};
  const std::vector<TensorToWrite> shard2 = {{"c", kernels::DType::BF16, {2}, c}};
  write_safetensors(dir / "m-1.safetensors", shard1);
  write_safetensors(dir / "m-2.safetensors", shard2);
  const auto index = dir / "model.safetensors.index.json";

  test::write_text(index, R"({"metadata":{"total_size":28},"weight_map":{"a":"m-1.safetensors","b":"m-1.safetensors","c":"m-2.safetensors"}})");
  const SafetensorsCheckpoint ckpt = open_safetensors_index(index);
  CHECK(ckpt.files.size() == 2);
  REQUIRE(ckpt.tensors.size() == 3);
  for (const auto& t : ckpt.tensors) {
    if (t.entry.name == "c") {
      CHECK(t.file == (dir / "m-2.safetensors").string());
      CHECK(std::memcmp(t.data, c.data(), c.size()) == 0);
    }
  }

  test::write_text(index, R"({"weight_map":{"a":"m-1.safetensors","c":"m-3.safetensors"}})");
  CHECK_FILE_ERROR(open_safetensors_index(index), index.string(), "weight_map names shard m-3.safetensors, which does not exist");
  test::write_text(index, R"({"weight_map":{"a":"m-2.safetensors"}})");
  CHECK_FILE_ERROR(open_safetensors_index(index), index.string(), "puts tensor a in m-2.safetensors, but that shard does not hold it");
  test::write_text(index, R"({"weight_map":{"a":"../m-1.safetensors"}})");
  CHECK_FILE_ERROR(open_safetensors_index(index), index.string(), "not a plain file name");
  test::write_text(index, R"({"weight_map":{"a":"m-1.safetensors","b":"m-1.safetensors","x":"m-1b.safetensors"}})");
  write_safetensors(dir / "m-1b.safetensors", shard1);  // holds "a" too
  CHECK_FILE_ERROR(open_safetensors_index(index), index.string(), "tensor a is in both m-1.safetensors and m-1b.safetensors");
  test::write_text(index, R"({"weight_map":[1]})");
  CHECK_FILE_ERROR(open_safetensors_index(index), index.string(), "no weight_map object");
  test::write_text(index, R"({"weight_map":)");
  CHECK_FILE_ERROR(open_safetensors_index(index), index.string(), "index is not valid JSON");
  // A shard's own errors name the shard.
  test::write_text(dir / "m-4.safetensors", "xy");
  test::write_text(index, R"({"weight_map":{"a":"m-4.safetensors"}})");
  CHECK_FILE_ERROR(open_safetensors_index(index), (dir / "m-4.safetensors").string(), "truncated");
}
