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

// Strings in a session are bytes: a token's piece may be one byte of a
// multi-byte character, and a damaged file may hold anything. nlohmann's
// dump() throws on invalid UTF-8, so always serialise with this (invalid
// bytes become U+FFFD; a step whose piece is not valid UTF-8 also carries
// "piece_hex" with its exact bytes).
std::string dump_json(const nlohmann::json& value, int indent = 2);
bool is_valid_utf8(std::string_view text);

}  // namespace ree::trace
