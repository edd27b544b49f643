#include "runtime/loader/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/error.h"

namespace ree {

namespace {
// Closes the descriptor on every path out of open(); the mapping does not
// need it once mmap has returned.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw file_error(path, std::string("cannot open: ") + std::strerror(errno));
  FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw file_error(path, std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw file_error(path, "not a regular file");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size == 0) return std::shared_ptr<MappedFile>(new MappedFile(path, nullptr, 0));
  void* data = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
  if (data == MAP_FAILED) throw file_error(path, std::string("cannot map: ") + std::strerror(errno));
  return std::shared_ptr<MappedFile>(new MappedFile(path, static_cast<const uint8_t*>(data), size));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), static_cast<size_t>(size_));
}

std::span<const uint8_t> MappedFile::range(uint64_t offset, uint64_t length,
                                           const std::string& what) const {
  if (!range_inside(offset, length, size_)) {
    throw file_error(path_, what + " [" + std::to_string(offset) + ", +" + std::to_string(length) +
                                ") lies outside the file (" + std::to_string(size_) + " bytes)");
  }
  if (length == 0) return {};
  return {data_ + offset, static_cast<size_t>(length)};
}

}  // namespace ree
