// The daemon's configurable limits, their defaults and what each bounds.
// Reported to clients in Stats.limits; see docs/ipcd.md.
//
// Thread safety: a plain value, set once at start-up.
#ifndef IPCD_DAEMON_LIMITS_H_
#define IPCD_DAEMON_LIMITS_H_

#include <cstdint>

namespace ipcd {

struct Limits {
  // The largest request or response frame, in bytes. Listeners pass it to
  // libipc as ?max_message=, so a larger request is refused by the channel
  // before anything is allocated for it.
  int64_t max_frame_bytes = int64_t{1} << 20;
  // Connections open at once; one more is refused with RESOURCE_EXHAUSTED.
  int64_t max_clients = 1024;
  // Requests read from one connection and not yet answered (a parked one
  // and those queued behind it). Requests beyond it are answered
  // RESOURCE_EXHAUSTED, in their turn.
  int64_t max_pending_per_client = 1024;
  // Named objects held at once.
  int64_t max_objects = 100000;
  // Bytes of stored values (dict keys and values, queue items, as
  // serialized), summed over all objects.
  int64_t max_bytes = int64_t{256} << 20;
};

}  // namespace ipcd

#endif  // IPCD_DAEMON_LIMITS_H_
