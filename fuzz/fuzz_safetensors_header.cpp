// libFuzzer target: the safetensors header parser on arbitrary file bytes.
// Properties beyond "no crash, no sanitizer report":
//  - every error is a ree::Error with a one-line message naming the file;
//  - every accepted tensor lies inside the input and has the byte count of
//    its dtype and shape (its first and last bytes are read, so ASan would
//    see an escape).
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "runtime/error.h"
#include "runtime/loader/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<ree::SafetensorsEntry> entries;
  try {
    entries = ree::parse_safetensors_header(std::span<const uint8_t>(data, size), "fuzz.safetensors");
  } catch (const ree::Error& e) {
    const char* message = e.what();
    if (std::strchr(message, '\n') != nullptr || std::strncmp(message, "fuzz.safetensors: ", 18) != 0) {
      __builtin_trap();
    }
    return 0;
  }
  volatile uint8_t sink = 0;
  for (const ree::SafetensorsEntry& e : entries) {
    if (e.offset > size || e.nbytes > size - e.offset) __builtin_trap();
    uint64_t elements = 1;
    for (const int64_t d : e.shape) elements *= static_cast<uint64_t>(d);
    if (elements * ree::safetensors_element_bytes(e.dtype) != e.nbytes) __builtin_trap();
    if (e.nbytes > 0) sink = sink + data[e.offset] + data[e.offset + e.nbytes - 1];
  }
  return 0;
}
