// shm://name — the shared-memory channel, libipc's fast path.
//
// Each channel has its own segment with two rings (one per direction,
// ?capacity= bytes each, default 1 MiB, rounded up to a power of two) and
// four eventfd doorbells. The listener owns an abstract unix socket
// "@libipc.shm.NAME". A connector reaches it there, builds the channel itself
// (segment in /dev/shm, owner-only, sized with posix_fallocate, then its name
// removed at once, so a crash later leaves nothing behind) and hands segment
// and doorbells over by SCM_RIGHTS. Connect therefore completes without
// waiting for Accept; messages queue in the ring meanwhile, as they would in
// a socket's backlog. Accept checks the connector's credentials against the
// listener's ?mode= (default 0600: same user, or root); a refused connector
// learns it as kPermissionDenied on its first wait. The socket stays open as
// each side's heartbeat. See shm_channel.h for waiting and crash semantics.
//
// ?capacity= is read by the connecting side (which builds the rings), ?mode=
// by the listening side; each side ignores the other's, so one URL serves
// both.
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
