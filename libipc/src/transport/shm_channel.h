// ShmChannel: one end of an shm:// channel — two rings in a shared segment,
// two eventfd doorbells per ring, and the rendezvous socket kept open as the
// peer's heartbeat.
//
// Waiting: an end that finds its ring empty (or full) spins for spin_ns,
// then announces that it will sleep (a flag in the ring's control block),
// checks once more, and sleeps in poll() on its doorbell and on the socket.
// The other end rings the doorbell only when it sees the flag, so streaming
// and spinning ends make no system calls at all.
//
// Readiness: fd() is the receive ring's data doorbell. It is drained only
// right after the receiver re-armed the flag and found the ring empty, so
// whenever a message is waiting the doorbell is readable (or about to be
// rung); a poller may see one spurious wake-up, after which TryReceive gives
// kWouldBlock and re-arms.
//
// Peer death: a peer that exits or is killed closes its socket; an end that
// sleeps wakes on it, delivers what the ring still holds, then reports
// kClosed, dropping an unfinished multi-fragment message. An end that closes
// on purpose also sets a flag so its peer's Send fails without waiting.
//
// After fork() the child must not use an inherited end (the parent still
// does): every call there returns kUnsupported.
//
// Thread safety: one sending and one receiving thread at a time.
#ifndef IPC_SRC_TRANSPORT_SHM_CHANNEL_H_
#define IPC_SRC_TRANSPORT_SHM_CHANNEL_H_

#include <chrono>
#include <string>

#include "posix/shm_segment.h"
#include "posix/unique_fd.h"
#include "shm/ring.h"
#include "transport/shm_layout.h"
#include "transport/transport.h"

namespace ipc::internal {

// The descriptors of one ring's doorbells.
struct ShmDoorbells {
  UniqueFd data;   // Rung by the producer when the consumer sleeps.
  UniqueFd space;  // Rung by the consumer when the producer sleeps.
};

class ShmChannel final : public ChannelImpl {
 public:
  // side 0 = listener end (sends on ring 0), 1 = connector end.
  ShmChannel(std::string url, size_t max_message, const Capabilities& caps,
             int side, ShmSegment segment, ShmDoorbells send_bells,
             ShmDoorbells receive_bells, UniqueFd heartbeat,
             std::chrono::nanoseconds spin);
  ~ShmChannel() override;

  Status Send(std::string_view message, Deadline deadline) override;
  Status Receive(std::string* message, Deadline deadline) override;
  int fd() const override { return receive_bells_.data.get(); }

 private:
  enum class Wait { kReady, kExpired, kPeerGone };

  Status CheckUsable() const;
  // Writes fragments of data (pending_ or a new message) until done or the
  // deadline passes; *sent counts payload bytes published.
  Status WriteFragments(std::string_view data, bool first, Deadline deadline,
                        size_t* sent);
  // WriteFragments as the writer that SendKeepingTail/FlushTail take.
  auto WriteFn() {
    return [this](std::string_view data, bool first, Deadline deadline, size_t* sent) {
      return WriteFragments(data, first, deadline, sent);
    };
  }
  // Receive's loop; assembles into *message (see Receive).
  Status ReceiveInto(std::string* message, Deadline deadline);
  void AfterPublish();
  void AfterConsume();
  // Spins, then sleeps until ready() holds, the deadline passes or the peer
  // is gone. sleeping is the flag announcing the sleep; bell the doorbell.
  template <typename Ready>
  Wait WaitFor(Ready ready, std::atomic<uint32_t>& sleeping, int bell,
               Deadline deadline, bool keep_armed);
  bool PeerGone();
  Status PeerClosedStatus() const;

  int side_;
  ShmSegment segment_;
  ShmChannelHeader* header_;
  RingWriter writer_;
  RingReader reader_;
  ShmDoorbells send_bells_;
  ShmDoorbells receive_bells_;
  UniqueFd heartbeat_;
  std::chrono::nanoseconds spin_;
  uint64_t fork_generation_;
  bool peer_gone_ = false;
  bool refused_ = false;  // The listener turned us away (see shm.h).

  std::string pending_;  // Unsent rest of a message whose Send timed out.

  // Receive-side assembly of a multi-fragment message; partial_ holds it
  // only between calls (a Receive that timed out part-way).
  bool assembling_ = false;
  bool discarding_ = false;
  uint64_t discarded_size_ = 0;
  std::string partial_;
};

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_SHM_CHANNEL_H_
