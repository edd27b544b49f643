#pragma once
// A ReplayReport as text for people and as JSON for tools (`ree replay
// --json`). Only renders; every judgement is made in replay.cpp.
#include <nlohmann/json.hpp>
#include <string>

#include "replay/replay.h"

namespace ree::replay {

std::string format_report(const ReplayReport& report);
nlohmann::json report_json(const ReplayReport& report);

std::string hex64(uint64_t v);

}  // namespace ree::replay
