#include "diff/open_pair.h"

#include <exception>
#include <optional>
#include <thread>

namespace ree::diff {

SessionPair open_pair(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::optional<trace::SessionReader> reader_b;
  std::exception_ptr error_b;
  std::thread open_b([&] {
    try {
      reader_b.emplace(b);
    } catch (...) {
      error_b = std::current_exception();
    }
  });
  std::optional<trace::SessionReader> reader_a;
  std::exception_ptr error_a;
  try {
    reader_a.emplace(a);
  } catch (...) {
    error_a = std::current_exception();
  }
  open_b.join();
  if (error_a) std::rethrow_exception(error_a);
  if (error_b) std::rethrow_exception(error_b);
  return SessionPair{std::move(*reader_a), std::move(*reader_b)};
}

}  // namespace ree::diff
