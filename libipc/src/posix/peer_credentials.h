// Who libipc trusts at the other end of a rendezvous, and as the owner of a
// named object it opens. One rule for both directions, so a listener judging
// a connector, a connector judging a listener, and an Open() judging a
// /dev/shm object or FIFO all agree:
//
//   the peer/owner is our effective uid, or root      -> admitted
//   mode has group bits (0060) and its gid is our egid -> admitted
//   mode has other bits (0006)                         -> admitted
//   anything else                                      -> kPermissionDenied
//
// `mode` is the caller's own mode (the URL's `mode` option, or the mode
// given to OpenOrCreate). Open() without a mode passes 0600: the owner must
// be us or root. /dev/shm and abstract sockets let any user take a name
// first; this check is what stops a squatter from receiving our traffic or
// handing us a forged object.
#ifndef IPC_SRC_POSIX_PEER_CREDENTIALS_H_
#define IPC_SRC_POSIX_PEER_CREDENTIALS_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "ipc/result.h"

namespace ipc::internal {

// Whether (uid, gid) passes the rule above for `mode`.
bool CredentialsAdmitted(uid_t uid, gid_t gid, uint32_t mode);

// Checks the process at the other end of the connected AF_UNIX socket
// (SO_PEERCRED). kPermissionDenied names the peer's uid and pid, `what` and
// the rule; an errno status if the credentials cannot be read.
Status CheckPeerAdmitted(int socket_fd, uint32_t mode, const std::string& what);

// Checks the owner of a file or shared-memory object (from fstat on the
// descriptor we are about to use, never a path, so it cannot be swapped
// between the check and the use). kPermissionDenied names the owner's uid,
// `what` and the rule.
Status CheckOwnerAdmitted(const struct stat& st, uint32_t mode,
                          const std::string& what);

}  // namespace ipc::internal

#endif  // IPC_SRC_POSIX_PEER_CREDENTIALS_H_
