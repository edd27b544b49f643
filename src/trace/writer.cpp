// The crash-safe streaming session writer (writer.h).
#include "trace/writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "ree/version.h"
#include "runtime/error.h"
#include "trace/background_sync.h"
#include "trace/format.h"
#include "trace/order.h"

namespace ree::trace {
namespace {

using Clock = std::chrono::steady_clock;

Error io_error(const std::filesystem::path& path, const std::string& what) {
  return file_error(path.string(), what + ": " + std::strerror(errno));
}

void write_all(int fd, std::span<const uint8_t> bytes, const std::filesystem::path& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw io_error(path, "write failed");
    done += static_cast<size_t>(n);
  }
}

void sync_directory_of(const std::filesystem::path& path) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // the rename is still atomic; only its durability waits
  ::fsync(fd);
  ::close(fd);
}

// A unique sibling name for the header's temporary file.
std::filesystem::path temporary_name(const std::filesystem::path& path) {
  static std::atomic<uint64_t> counter{0};
  std::filesystem::path tmp = path;
  tmp += ".partial-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
  return tmp;
}

// Moves `tmp` to `path`; without `overwrite` an existing `path` is never
// replaced (renameat2 RENAME_NOREPLACE, or link where that is unsupported).
void move_into_place(const std::filesystem::path& tmp, const std::filesystem::path& path, bool overwrite) {
  if (overwrite) {
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw io_error(path, "cannot create");
    return;
  }
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) return;
  if (errno == EINVAL || errno == ENOSYS) {
    if (::link(tmp.c_str(), path.c_str()) == 0) {
      ::unlink(tmp.c_str());
      return;
    }
  }
  if (errno == EEXIST) throw file_error(path.string(), "already exists (refusing to overwrite a session)");
  throw io_error(path, "cannot create");
}

int64_t unix_time_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SessionHeader completed(const SessionHeader& given) {
  if (!given.bound.model || !given.bound.config || !given.bound.config->sampling) {
    throw std::invalid_argument("session header needs bound.model, bound.config and bound.config->sampling");
  }
  SessionHeader header = given;
  if (header.bound.contract_version.empty()) header.bound.contract_version = REE_CONTRACT_VERSION;
  if (header.environment.ree_version.empty()) header.environment.ree_version = REE_VERSION;
  if (header.environment.git_revision.empty()) header.environment.git_revision = REE_GIT_REVISION;
  if (header.environment.start_time_unix_ms == 0) header.environment.start_time_unix_ms = unix_time_ms();
  return header;
}

}  // namespace

struct SessionWriter::State {
  std::filesystem::path path;
  WriterOptions options;
  int fd = -1;
  std::optional<BackgroundSync> syncer;  // the periodic fdatasync, off the caller's thread
  FrameEncoder encoder;
  std::optional<ReceiptChain> chain;
  EnvelopeHash envelope;
  OrderTracker order;
  std::vector<uint8_t> buffer;
  Clock::time_point start;
  Clock::time_point oldest_buffered;  // when buffer went from empty to non-empty
  Clock::time_point last_sync;
  uint64_t records = 0;
  uint64_t records_flushed = 0;
  uint64_t bytes = 0;
  bool failed = false;    // an I/O error happened: nothing more is written
  bool finished = false;
  // Reused per record so that steady-state recording allocates nothing.
  schema::StepT step;

  State(const std::filesystem::path& p, const WriterOptions& o, const OrderLimits& limits)
      : path(p), options(o), order(limits) {}

  ~State() {
    if (fd >= 0) {
      if (!failed) {
        try {
          flush();
        } catch (...) {
          // A destructor cannot report; the file simply ends earlier.
        }
      }
      syncer.reset();  // joins the helper before its fd goes away
      ::close(fd);
    }
  }

  void ensure_writable() const {
    if (finished) throw std::logic_error(path.string() + ": session already finished");
    if (failed) throw file_error(path.string(), "an earlier write failed; the session ends there");
  }

  void flush() {
    if (buffer.empty()) return;
    try {
      write_all(fd, buffer, path);
    } catch (...) {
      failed = true;
      throw;
    }
    buffer.clear();
    records_flushed = records;
  }

  void sync() {
    flush();
    if (::fdatasync(fd) != 0) {
      failed = true;
      throw io_error(path, "fdatasync failed");
    }
    last_sync = Clock::now();
  }

  // The periodic sync: hand everything to the OS now, let the helper thread
  // wait for the disk.
  void sync_in_background(Clock::time_point now) {
    flush();
    if (int err = syncer->error()) {
      failed = true;
      errno = err;
      throw io_error(path, "fdatasync failed");
    }
    syncer->request();
    last_sync = now;
  }

  // Appends one encoded record frame after checking its order.
  void append(std::span<const uint8_t> bound, uint64_t duration_us, bool flush_now, bool sync_now) {
    auto* record = flatbuffers::GetRoot<schema::BoundRecord>(bound.data());
    std::string problem = order.accept(*record);
    if (!problem.empty()) throw std::logic_error(path.string() + ": record out of order: " + problem);
    Clock::time_point now = Clock::now();
    auto t_us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - start).count());
    EncodedFrame frame = encoder.record(bound, t_us, duration_us);
    chain->append(bound);
    envelope.add_frame(frame.bytes, frame.bound_offset, frame.bound_size);
    if (buffer.empty()) oldest_buffered = now;
    buffer.insert(buffer.end(), frame.bytes.begin(), frame.bytes.end());
    bytes += frame.bytes.size();
    ++records;
    if (sync_now) {
      sync();
    } else if (now - last_sync >= options.flush.sync_interval) {
      sync_in_background(now);
    } else if (flush_now || buffer.size() >= options.flush.max_buffered_bytes ||
               now - oldest_buffered >= options.flush.max_buffer_age) {
      flush();
    }
  }

  void write_header(const SessionHeader& header) {
    bool overwrite = options.existing == ExistingFile::Overwrite;
    std::error_code ignored;  // unreadable directories are reported by open() below
    if (!overwrite && std::filesystem::exists(path, ignored)) {
      throw file_error(path.string(), "already exists (refusing to overwrite a session)");
    }
    EncodedFrame frame = encoder.header(options.format_minor, header.bound, header.run, header.environment);
    std::filesystem::path tmp = temporary_name(path);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) throw io_error(tmp, "cannot create");
    try {
      write_all(fd, frame.bytes, tmp);
      if (::fdatasync(fd) != 0) throw io_error(tmp, "fdatasync failed");
      move_into_place(tmp, path, overwrite);
    } catch (...) {
      ::close(fd);
      fd = -1;
      ::unlink(tmp.c_str());
      throw;
    }
    sync_directory_of(path);
    syncer.emplace(fd);
    chain.emplace(frame.bound());
    envelope.add_frame(frame.bytes, frame.bound_offset, frame.bound_size);
    bytes = frame.bytes.size();
    buffer.reserve(options.flush.max_buffered_bytes + 4096);
  }
};

SessionWriter::SessionWriter(const std::filesystem::path& path, const SessionHeader& header,
                             const WriterOptions& options) {
  if (options.format_minor > kFormatMinor) {
    throw std::invalid_argument("WriterOptions::format_minor is newer than this ree writes");
  }
  SessionHeader full = completed(header);
  OrderLimits limits{full.bound.config->topk_width, full.bound.config->probes, options.format_minor};
  state_ = std::make_unique<State>(path, options, limits);
  state_->start = Clock::now();
  state_->last_sync = state_->start;
  state_->write_header(full);
}

SessionWriter::~SessionWriter() = default;
SessionWriter::SessionWriter(SessionWriter&&) noexcept = default;
SessionWriter& SessionWriter::operator=(SessionWriter&&) noexcept = default;

uint32_t SessionWriter::begin_turn(const schema::TurnStartT& turn) {
  state_->ensure_writable();
  schema::TurnStartT record = turn;
  record.turn = state_->order.turns_started();
  state_->append(state_->encoder.bound_record(record), 0, false, false);
  return record.turn;
}

void SessionWriter::step(const schema::StepT& step) {
  state_->ensure_writable();
  schema::StepT& record = state_->step;
  record = step;  // copy-assign reuses the vectors' capacity
  record.turn = state_->order.turn_open() ? state_->order.turns_started() - 1 : 0;
  record.index = state_->order.steps_in_turn();
  if (state_->options.format_minor < kMinorWithPiece) record.piece.clear();
  state_->append(state_->encoder.bound_record(record), 0, false, false);
}

void SessionWriter::end_turn(const schema::TurnEndT& end) {
  state_->ensure_writable();
  schema::TurnEndT record = end;
  record.turn = state_->order.turn_open() ? state_->order.turns_started() - 1 : 0;
  record.steps = state_->order.steps_in_turn();
  state_->append(state_->encoder.bound_record(record), 0, true, true);
}

uint32_t SessionWriter::tool_call(const schema::ToolCallT& call) {
  state_->ensure_writable();
  schema::ToolCallT record = call;
  record.index = state_->order.tool_calls();
  state_->append(state_->encoder.bound_record(record), 0, true, false);
  return record.index;
}

void SessionWriter::tool_result(const schema::ToolResultT& result, std::chrono::microseconds duration) {
  state_->ensure_writable();
  auto duration_us = static_cast<uint64_t>(std::max<int64_t>(0, duration.count()));
  state_->append(state_->encoder.bound_record(result), duration_us, true, false);
}

void SessionWriter::checkpoint(const schema::CheckpointT& checkpoint) {
  state_->ensure_writable();
  state_->append(state_->encoder.bound_record(checkpoint), 0, true, false);
}

FinishedSession SessionWriter::finish() {
  State& s = *state_;
  s.ensure_writable();
  if (s.order.turn_open()) {
    schema::TurnEndT interrupted;
    interrupted.stop_reason = schema::StopReason::Interrupted;
    end_turn(interrupted);
  }
  schema::EndT end;
  end.counts.assign(s.order.counts().begin(), s.order.counts().begin() + kKnownRecordKinds + 1);
  std::span<const uint8_t> bound = s.encoder.bound_record(end);
  std::string problem = s.order.accept(*flatbuffers::GetRoot<schema::BoundRecord>(bound.data()));
  if (!problem.empty()) throw std::logic_error(s.path.string() + ": cannot end session: " + problem);
  s.chain->append(bound);

  FinishedSession done;
  done.receipt = s.chain->digest();
  done.envelope_hash = s.envelope.digest();
  schema::SealT seal;
  seal.receipt.assign(done.receipt.begin(), done.receipt.end());
  seal.envelope_hash.assign(done.envelope_hash.begin(), done.envelope_hash.end());
  if (s.options.signing_key) {
    PublicKey key = s.options.signing_key->public_key();
    Signature signature = sign(*s.options.signing_key, seal_message(done.receipt, done.envelope_hash));
    seal.public_key.assign(key.begin(), key.end());
    seal.signature.assign(signature.begin(), signature.end());
    done.signed_seal = true;
  }
  // The End frame carries no volatile field: every byte of it is checked
  // by re-encoding (format.h), so t_us is 0 here.
  EncodedFrame frame = s.encoder.record(bound, 0, 0, &seal);
  s.buffer.insert(s.buffer.end(), frame.bytes.begin(), frame.bytes.end());
  s.bytes += frame.bytes.size();
  ++s.records;
  s.sync();
  s.finished = true;
  s.syncer.reset();
  ::close(s.fd);
  s.fd = -1;
  done.records = s.records;
  done.bytes = s.bytes;
  return done;
}

void SessionWriter::flush() {
  state_->ensure_writable();
  state_->flush();
}

void SessionWriter::sync() {
  state_->ensure_writable();
  state_->sync();
}

bool SessionWriter::turn_open() const { return state_->order.turn_open(); }
uint32_t SessionWriter::turns() const { return state_->order.turns_started(); }
uint64_t SessionWriter::records() const { return state_->records; }
uint64_t SessionWriter::records_flushed() const { return state_->records_flushed; }
const Digest& SessionWriter::receipt_so_far() const { return state_->chain->digest(); }
const std::filesystem::path& SessionWriter::path() const { return state_->path; }

}  // namespace ree::trace
