// Sending descriptors over a unix socket (SCM_RIGHTS) with a small payload.
#ifndef IPC_SRC_POSIX_FD_PASSING_H_
#define IPC_SRC_POSIX_FD_PASSING_H_

#include <string>
#include <string_view>
#include <vector>

#include "ipc/deadline.h"
#include "ipc/result.h"
#include "posix/unique_fd.h"

namespace ipc::internal {

// Sends payload (one datagram on a SOCK_SEQPACKET socket) carrying fds.
Status SendWithFds(int socket, std::string_view payload,
                   const std::vector<int>& fds, Deadline deadline,
                   std::string_view what);

struct ReceivedWithFds {
  std::string payload;
  std::vector<UniqueFd> fds;
};
// Receives one datagram of at most max_payload bytes and up to max_fds
// descriptors (received descriptors are close-on-exec). kClosed on EOF.
Result<ReceivedWithFds> ReceiveWithFds(int socket, size_t max_payload,
                                       size_t max_fds, Deadline deadline,
                                       std::string_view what);

}  // namespace ipc::internal

#endif  // IPC_SRC_POSIX_FD_PASSING_H_
