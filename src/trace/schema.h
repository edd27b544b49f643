#pragma once
// The record types of session files, as flatc generates them from
// schemas/session.fbs. This is the only place the generated header is
// included: other components reach the types (ree::schema::StepT, ...)
// through this header or through writer.h / reader.h.
#include <cstdint>
#include <optional>
#include <string_view>

#include "schemas/session_generated.h"

namespace ree::trace {

namespace schema = ::ree::schema;

// Format version written by this ree (docs/session-format.md, "Versioning").
// 1.0: the layout without Step.piece. 1.1: Step.piece added (absent = "").
constexpr uint16_t kFormatMajor = 1;
constexpr uint16_t kFormatMinor = 1;
// The first minor whose steps carry their text; older steps show their id.
constexpr uint16_t kMinorWithPiece = 1;

// Per-record versions (BoundRecord.version) this ree understands, by kind.
constexpr uint16_t kRecordVersion = 1;

// The highest RecordBody value this ree knows.
constexpr uint8_t kKnownRecordKinds = static_cast<uint8_t>(schema::RecordBody::MAX);

// Whether a value read from a file is one of the enum's members (the
// verifier does not check enum values; readers must).
template <typename Enum>
bool enum_in_range(Enum value) {
  return static_cast<uint32_t>(value) <= static_cast<uint32_t>(Enum::MAX);
}

// Names for messages and JSON ("turn_start", "step", ...; "unknown(9)").
std::string_view kind_name(schema::RecordBody kind);
std::string_view role_name(schema::Role role);
std::string_view stop_reason_name(schema::StopReason reason);
std::string_view tool_status_name(schema::ToolStatus status);
std::string_view mode_name(schema::Mode mode);
std::string_view dtype_name(schema::DType dtype);

// Parsing the names back (nullopt for anything else).
std::optional<schema::Role> parse_role(std::string_view name);
std::optional<schema::StopReason> parse_stop_reason(std::string_view name);
std::optional<schema::ToolStatus> parse_tool_status(std::string_view name);
std::optional<schema::Mode> parse_mode(std::string_view name);
std::optional<schema::DType> parse_dtype(std::string_view name);

}  // namespace ree::trace
