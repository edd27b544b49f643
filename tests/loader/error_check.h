#pragma once
// CHECK_FILE_ERROR(expr, path, fragment): `expr` throws ree::Error with exit
// code 2 whose message is one line, starts with "path: " and contains
// `fragment`.
#include <doctest/doctest.h>

#include <string>

#include "runtime/error.h"

namespace ree::test {

inline void check_error_message(const ree::Error& e, const std::string& path, const std::string& fragment) {
  const std::string message = e.what();
  INFO("message: " << message);
  CHECK(e.code() == ExitCode::InputError);
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.rfind(path + ": ", 0) == 0);
  CHECK(message.find(fragment) != std::string::npos);
}

}  // namespace ree::test

#define CHECK_FILE_ERROR(expr, path, fragment)                                   \
  do {                                                                           \
    bool threw_ree_error = false;                                                \
    try {                                                                        \
      (void)(expr);                                                              \
    } catch (const ree::Error& e) {                                              \
      threw_ree_error = true;                                                    \
      ree::test::check_error_message(e, (path), (fragment));                     \
    }                                                                            \
    CHECK_MESSAGE(threw_ree_error, "expected a ree::Error containing " << (fragment)); \
  } while (false)
