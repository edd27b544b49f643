#pragma once
// Facts about the machine recorded in session headers and printed by
// `ree info`: they describe the environment, never change results.
#include <string>

namespace ree {

struct SystemInfo {
  std::string cpu_model;   // /proc/cpuinfo "model name"
  std::string os;          // uname: sysname release machine
  std::string hostname;
  int cores = 1;
};

SystemInfo read_system_info();

}  // namespace ree
