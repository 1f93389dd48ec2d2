#include "manager/default_socket.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace ipc::internal {
namespace {

std::string NonEmptyEnv(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::string(value) : std::string();
}

}  // namespace

std::string DaemonSocketPath() {
  if (std::string path = NonEmptyEnv("IPCD_SOCKET"); !path.empty()) return path;
  if (std::string dirs = NonEmptyEnv("RUNTIME_DIRECTORY"); !dirs.empty()) {
    return dirs.substr(0, dirs.find(':')) + "/ipcd.sock";
  }
  if (std::string xdg = NonEmptyEnv("XDG_RUNTIME_DIR"); !xdg.empty()) {
    return xdg + "/ipcd/ipcd.sock";
  }
  return "/tmp/ipcd-" + std::to_string(::getuid()) + "/ipcd.sock";
}

std::string ClientSocketPath() {
  std::string path = DaemonSocketPath();
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0 && ::stat(kSystemDaemonSocket, &st) == 0) {
    return kSystemDaemonSocket;
  }
  return path;
}

}  // namespace ipc::internal
