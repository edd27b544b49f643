#pragma once
// Small helpers for the trace tests: a scratch directory removed at exit,
// whole-file reads and writes.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ree::trace::testing {

// A fresh directory under the system temp dir, removed when destroyed.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::vector<uint8_t> read_bytes(const std::filesystem::path& path);
void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);

// Runs a shell command line, returns its exit status and captures stdout.
int run_command(const std::string& command, std::string* out = nullptr);

}  // namespace ree::trace::testing

#include <span>

#include "trace/format.h"
#include "trace/writer.h"

namespace ree::trace::testing {

// Builds session files frame by frame with correct receipt chain, envelope
// hash and seal, but without the writer's order checks: for files the
// writer would refuse to produce (bad order, unknown kinds, newer minors),
// so that the reader's own checks are what a test exercises.
class RawSession {
 public:
  RawSession(const SessionHeader& header, uint16_t format_minor = kFormatMinor);
  // Appends a record whose bound bytes are given (any kind, any content).
  void add_bound(std::span<const uint8_t> bound, uint64_t t_us = 0);
  template <typename NativeT>
  void add(const NativeT& body, uint16_t version = kRecordVersion) {
    add_bound(encoder_.bound_record(body, version));
  }
  // End record with `counts` (index = kind) and the seal; returns the file.
  std::vector<uint8_t> finish(const std::vector<uint64_t>& counts);
  std::vector<uint8_t> unfinished() const { return bytes_; }

 private:
  FrameEncoder encoder_;
  std::vector<uint8_t> bytes_;
  std::optional<ReceiptChain> chain_;
  EnvelopeHash envelope_;
};

}  // namespace ree::trace::testing
