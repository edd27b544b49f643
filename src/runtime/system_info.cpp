#include "runtime/system_info.h"

#include <fstream>
#include <thread>
#include <sys/utsname.h>
#include <unistd.h>

namespace ree {

SystemInfo read_system_info() {
  SystemInfo info;
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) info.cpu_model = line.substr(colon + 2);
      break;
    }
  }
  if (info.cpu_model.empty()) info.cpu_model = "unknown";
  struct utsname u {};
  if (uname(&u) == 0) info.os = std::string(u.sysname) + " " + u.release + " " + u.machine;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) info.hostname = host;
  info.cores = int(std::max(1u, std::thread::hardware_concurrency()));
  return info;
}

}  // namespace ree
