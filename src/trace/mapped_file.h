#pragma once
// A read-only memory map of a whole file (session files are read this way so
// that 1,000,000 steps are walked without copying). Move-only; unmaps on
// destruction. An empty file maps to an empty span.
#include <cstdint>
#include <filesystem>
#include <span>

namespace ree::trace {

class MappedFile {
 public:
  // Throws ree::Error("PATH: cannot open/map ...") when the file is unreadable.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ree::trace
