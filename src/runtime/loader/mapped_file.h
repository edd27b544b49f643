#pragma once
// A whole file mapped read-only into memory, unmapped when the last owner
// lets go. Loaders keep views (RawTensor::data) into it, so Model holds the
// shared_ptr for as long as those views are used.
//
// Every access to untrusted offsets goes through range(), which checks the
// bounds with overflow-safe arithmetic and throws ree::file_error instead
// of ever reading outside the mapping.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace ree {

class MappedFile {
 public:
  // Maps `path` read-only. Throws ree::file_error(path, ...) when the file
  // cannot be opened, is not a regular file, or cannot be mapped.
  static std::shared_ptr<MappedFile> open(const std::string& path);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  // The whole mapping (empty for an empty file).
  std::span<const uint8_t> bytes() const { return {data_, static_cast<size_t>(size_)}; }
  // [offset, offset + length) of the file; throws ree::file_error naming
  // `what` when the range does not lie inside the file.
  std::span<const uint8_t> range(uint64_t offset, uint64_t length, const std::string& what) const;

 private:
  MappedFile(std::string path, const uint8_t* data, uint64_t size)
      : path_(std::move(path)), data_(data), size_(size) {}

  std::string path_;
  const uint8_t* data_ = nullptr;  // nullptr when size_ == 0 (mmap rejects length 0)
  uint64_t size_ = 0;
};

// True when [offset, offset + length) lies inside [0, size), without overflow.
inline bool range_inside(uint64_t offset, uint64_t length, uint64_t size) {
  return offset <= size && length <= size - offset;
}

}  // namespace ree
