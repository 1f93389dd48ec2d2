#include "posix/peer_credentials.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace ipc::internal {
namespace {

std::string RuleText(uint32_t mode) {
  char octal[8];
  std::snprintf(octal, sizeof(octal), "%04o", static_cast<unsigned>(mode & 0777));
  return std::string("mode ") + octal + " admits only uid " +
         std::to_string(::geteuid()) + ", root" +
         ((mode & 0060) ? ", gid " + std::to_string(::getegid()) : std::string()) +
         ((mode & 0006) ? " and any user" : "");
}

}  // namespace

bool CredentialsAdmitted(uid_t uid, gid_t gid, uint32_t mode) {
  if (uid == ::geteuid() || uid == 0) return true;
  if ((mode & 0060) != 0 && gid == ::getegid()) return true;
  return (mode & 0006) != 0;
}

Status CheckPeerAdmitted(int socket_fd, uint32_t mode, const std::string& what) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
    return ErrnoStatus(what + ": SO_PEERCRED", errno);
  }
  if (CredentialsAdmitted(cred.uid, cred.gid, mode)) return Status::Ok();
  return Status(ErrorCode::kPermissionDenied,
                what + ": peer uid " + std::to_string(cred.uid) + " (pid " +
                    std::to_string(cred.pid) + ") is not trusted (" +
                    RuleText(mode) + ")");
}

Status CheckOwnerAdmitted(const struct stat& st, uint32_t mode,
                          const std::string& what) {
  if (CredentialsAdmitted(st.st_uid, st.st_gid, mode)) return Status::Ok();
  return Status(ErrorCode::kPermissionDenied,
                what + ": owned by uid " + std::to_string(st.st_uid) +
                    ", which is not trusted (" + RuleText(mode) + ")");
}

}  // namespace ipc::internal
