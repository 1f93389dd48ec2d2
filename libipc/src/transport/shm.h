// shm://name — the shared-memory channel, libipc's fast path.
//
// Each channel has its own segment with two rings (one per direction,
// ?capacity= bytes each, default 1 MiB, rounded up to a power of two) and
// four eventfd doorbells. The listener owns an abstract unix socket
// "@libipc.shm.NAME". A connector reaches it there, checks the listener's
// credentials (SO_PEERCRED) against its own ?mode= before anything else — an
// abstract name has no permissions, so another user may have bound it first
// — builds the channel itself (a memfd, sized with posix_fallocate and
// sealed against resizing, so it never has a name in /dev/shm and cannot be
// truncated under either end) and hands segment and doorbells over by
// SCM_RIGHTS. Connect therefore completes without waiting for Accept;
// messages queue in the ring meanwhile, as they would in a socket's backlog.
// Accept checks the connector's credentials against the listener's ?mode=
// (default 0600: same user, or root), and validates everything the connector
// sent (version, capacity, the seals and size of the segment, that the
// doorbells are eventfds) before using it; a refused connector learns it as
// kPermissionDenied on its first wait. The socket stays open as each side's
// heartbeat. See shm_channel.h for waiting, crash and trust semantics.
//
// ?capacity= is read by the connecting side (which builds the rings); ?mode=
// by both (whom each side admits as its peer), so one URL serves both.
//
// ?spin_us= sets how long a waiting end spins before it sleeps (default 20;
// 0 sleeps at once).
#ifndef IPC_SRC_TRANSPORT_SHM_H_
#define IPC_SRC_TRANSPORT_SHM_H_

#include "transport/transport.h"

namespace ipc::internal {

extern const Transport kShmTransport;

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_SHM_H_
