// Helpers for the trace tests (testing.h).
#include "testing.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace ree::trace::testing {

ScratchDir::ScratchDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "ree-trace-test-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

int run_command(const std::string& command, std::string* out) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return -1;
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) text.append(buf, n);
  int status = ::pclose(pipe);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace ree::trace::testing

namespace ree::trace::testing {

RawSession::RawSession(const SessionHeader& header, uint16_t format_minor) {
  EncodedFrame frame = encoder_.header(format_minor, header.bound, header.run, header.environment);
  bytes_.assign(frame.bytes.begin(), frame.bytes.end());
  chain_.emplace(frame.bound());
  envelope_.add_frame(frame.bytes, frame.bound_offset, frame.bound_size);
}

void RawSession::add_bound(std::span<const uint8_t> bound, uint64_t t_us) {
  std::vector<uint8_t> copy(bound.begin(), bound.end());  // the encoder reuses its buffers
  EncodedFrame frame = encoder_.record(copy, t_us, 0);
  chain_->append(copy);
  envelope_.add_frame(frame.bytes, frame.bound_offset, frame.bound_size);
  bytes_.insert(bytes_.end(), frame.bytes.begin(), frame.bytes.end());
}

std::vector<uint8_t> RawSession::finish(const std::vector<uint64_t>& counts) {
  schema::EndT end;
  end.counts = counts;
  std::vector<uint8_t> bound;
  {
    auto span = encoder_.bound_record(end);
    bound.assign(span.begin(), span.end());
  }
  chain_->append(bound);
  schema::SealT seal;
  Digest receipt = chain_->digest();
  Digest envelope = envelope_.digest();
  seal.receipt.assign(receipt.begin(), receipt.end());
  seal.envelope_hash.assign(envelope.begin(), envelope.end());
  EncodedFrame frame = encoder_.record(bound, 0, 0, &seal);
  std::vector<uint8_t> out = bytes_;
  out.insert(out.end(), frame.bytes.begin(), frame.bytes.end());
  return out;
}

}  // namespace ree::trace::testing
