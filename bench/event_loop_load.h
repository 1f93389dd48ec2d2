// EventLoopLoad: many connections to ipcd driven by one thread, the way
// redis-benchmark drives Redis, so that a comparison with it measures the
// servers and not two client designs.
//
// ipcd-bench's default forks one process per client, each a synchronous
// ipc::Manager: what 50 programs sharing a daemon look like, but 50
// processes for the kernel to wake, where redis-benchmark's one event loop
// is woken once for many replies. On a 2-vCPU machine those wake-ups cost
// more than the requests. This load speaks the protocol of
// docs/protocol.md directly: each connection says Hello, then keeps
// `pipeline` requests in flight, each answered before the next is sent on
// its turn, like redis-benchmark's `-c N -P P`.
//
// Thread safety: one call runs on the calling thread; nothing is shared.
#ifndef IPC_BENCH_EVENT_LOOP_LOAD_H_
#define IPC_BENCH_EVENT_LOOP_LOAD_H_

#include <string>

namespace bench {

struct EventLoopLoad {
  std::string socket_path;  // ipcd's unix socket.
  std::string op;           // counter-add, dict-set or dict-get.
  long connections = 50;
  long requests = 100000;   // In all, shared between the connections.
  long pipeline = 1;        // Requests in flight per connection.
  long keys = 0;            // dict-set: 0 = always "key", else key i mod keys.
};

// Runs the load; returns the requests per second, or a negative number
// after printing why to stderr (no daemon, a reply that is not OK, a
// connection closed, no reply within 30 s).
double RunEventLoopLoad(const EventLoopLoad& load);

}  // namespace bench

#endif  // IPC_BENCH_EVENT_LOOP_LOAD_H_
