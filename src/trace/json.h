#pragma once
// Sessions as JSON (nlohmann::json) for `ree inspect --json`, `ree verify
// --json` and anyone who wants a machine-readable view. 64-bit hashes are
// 16-digit hex strings (JSON numbers lose bits past 2^53); non-finite floats
// are the strings "inf", "-inf", "nan".
#include <nlohmann/json.hpp>

#include "trace/reader.h"

namespace ree::trace {

nlohmann::json report_to_json(const VerifyReport& report);
nlohmann::json header_to_json(const SessionReader& session);  // has_header() required
nlohmann::json record_to_json(const SessionReader& session, const RecordView& record);

std::string hex64(uint64_t value);  // 16 lower-case hex digits

}  // namespace ree::trace
