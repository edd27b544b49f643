// libFuzzer target: the session reader (src/trace/reader.cpp) on arbitrary
// bytes. Properties beyond "no crash, no sanitizer report":
//  - the report is self-consistent: a valid file has a header, an End
//    record last, and a recomputed chain equal to the sealed receipt; a
//    truncated or invalid one has records == size() and a bad offset inside
//    the file;
//  - every record of the intact prefix can be rendered and serialised as
//    JSON (every accessor the viewer and inspect use, on every kind, with
//    strings that need not be UTF-8);
//  - verifying the same bytes twice gives the same answer.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "trace/json.h"
#include "trace/reader.h"

using namespace ree::trace;

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

void check_report(const SessionReader& session, size_t size) {
  const VerifyReport& report = session.report();
  require(report.file_bytes == size);
  switch (report.status) {
    case SessionStatus::Valid:
      require(session.has_header());
      require(session.size() >= 1);
      require(session.record(session.size() - 1).kind() == schema::RecordBody::End);
      require(report.receipt && *report.receipt == report.chain);
      require(report.good_bytes == size);
      break;
    case SessionStatus::Truncated:
    case SessionStatus::Invalid:
      require(report.records == session.size());
      require(report.bad_offset <= size);
      break;
    case SessionStatus::Unsupported:
      require(!session.has_header() && session.size() == 0);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Mapped files start page-aligned; give the reader the same.
  std::vector<uint64_t> aligned((size + 7) / 8);
  if (size) std::memcpy(aligned.data(), data, size);
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(aligned.data()), size);

  SessionReader session(bytes);
  check_report(session, size);
  if (session.has_header()) {
    nlohmann::json header = header_to_json(session);
    require(!dump_json(header).empty());
  }
  for (size_t i = 0; i < session.size(); ++i) {
    nlohmann::json record = record_to_json(session, session.record(i));
    require(record.contains("kind"));
    require(!dump_json(record).empty());  // strings from the file need not be UTF-8
  }
  for (const TurnSpan& turn : session.turns()) {
    require(turn.start_record < session.size());
    require(turn.first_step + turn.step_count <= session.steps().size());
  }
  require(!dump_json(report_to_json(session.report())).empty());

  SessionReader again(bytes);
  require(again.report().status == session.report().status);
  require(again.report().message == session.report().message);
  return 0;
}
