// ShmChannel: one end of an shm:// channel — two rings in a shared segment,
// two eventfd doorbells per ring, and the rendezvous socket kept open as the
// peer's heartbeat.
//
// Waiting: an end that finds its ring empty (or full) spins for spin_ns
// (unless its recent spins found nothing: see SpinBackoff), then announces that it will sleep (a flag in the ring's control block),
// checks once more, and sleeps in poll() on its doorbell and on the socket.
// The other end rings the doorbell only when it sees the flag (and clears
// it), so streaming and spinning ends make no system calls at all.
//
// The doorbell invariant, which every wait relies on: while an end sleeps,
// either its flag is set (so the next publish rings) or its doorbell is
// readable. WaitFor keeps it by draining the doorbell *before* announcing,
// never after: a ring that was meant for an earlier announcement (a peer
// that published long ago and only now sees the flag) can then only wake
// the sleeper spuriously, after which it drains and announces again. (The
// reverse order lost wake-ups: the drain ate the one ring while the flag
// was already cleared, and every later publish saw no flag.)
//
// Readiness: fd() is an epoll descriptor over the receive ring's data
// doorbell and the heartbeat socket, so it becomes readable both when a
// message arrives and when the peer dies (even by SIGKILL). A poller may see
// a spurious wake-up, after which TryReceive gives kWouldBlock and re-arms.
//
// Peer death: a peer that exits or is killed closes its socket (a forked
// child's copy is replaced at fork, see posix/close_on_fork.h, so it cannot
// keep the peer looking alive); an end that waits, or calls TryReceive /
// TrySend, notices, delivers what the ring still holds, then reports
// kClosed, dropping an unfinished multi-fragment message. An end that
// closes on purpose also sets a flag so its peer's Send fails at once.
//
// Trust: the segment is shared with a process that may be hostile. The
// geometry (capacity, offsets) comes from the caller's validated copy and is
// never re-read from the segment; the rings check every shared index and
// header (see shm/ring.h); the closed flags are the only other shared
// fields read, and any value there only means "closed".
//
// After fork() the child must not use an inherited end (the parent still
// does): every call there returns kUnsupported.
//
// Thread safety: one sending and one receiving thread at a time.
#ifndef IPC_SRC_TRANSPORT_SHM_CHANNEL_H_
#define IPC_SRC_TRANSPORT_SHM_CHANNEL_H_

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
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

// What an end needs to become a channel. capacity is a validated local
// copy; the segment's size was checked against ComputeShmLayout(capacity).
struct ShmChannelParts {
  std::string url;
  size_t max_message;
  int side;  // 0 = listener end (sends on ring 0), 1 = connector end.
  uint64_t capacity;
  ShmSegment segment;
  ShmDoorbells send_bells;
  ShmDoorbells receive_bells;
  UniqueFd heartbeat;
  std::chrono::nanoseconds spin;
};

// Builds a channel end from its parts (creates its readiness descriptor).
Result<std::unique_ptr<ChannelImpl>> MakeShmChannel(ShmChannelParts parts,
                                                    const Capabilities& caps);

class ShmChannel final : public ChannelImpl {
 public:
  // Use MakeShmChannel. ready_fd is the epoll descriptor fd() returns.
  ShmChannel(ShmChannelParts parts, const Capabilities& caps, UniqueFd ready_fd);
  ~ShmChannel() override;

  Status Send(std::string_view message, Deadline deadline) override;
  // Stages the message in the ring, unpublished (or, when it does not fit
  // now, keeps it): Flush publishes a turn's messages with one doorbell.
  Status SendBuffered(std::string_view message) override;
  // Publishes what is staged, then writes the rest of a message a timed
  // Send left part-way and the kept messages, in order.
  Status Flush(Deadline deadline) override;
  Status Receive(std::string* message, Deadline deadline) override;
  // In place for a message of up to MaxWhole(capacity) bytes (a whole
  // record in the ring, see shm/ring.h); by copying otherwise.
  Result<std::string_view> ReceiveView(Deadline deadline) override;
  void ReleaseView() override;
  Result<std::span<char>> Loan(size_t size, Deadline deadline) override;
  Status Commit(size_t size, Deadline deadline) override;
  int fd() const override { return ready_fd_.get(); }
  bool PeerGone() override {
    CheckHeartbeat();
    return PeerGoneSeen();
  }
  bool PeerHasUnread() override {
    return !pending_.empty() || !kept_.empty() || !writer_.Empty();
  }

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
  // Finishes a message that a timed-out Send left part-way (pending_).
  Status FlushPending(Deadline deadline);
  // Flush, when anything is staged or kept (what precedes a new message).
  Status FlushBuffered(Deadline deadline);
  // Waits until the receive ring has a record, the deadline passes or the
  // peer is gone (with nothing left to deliver): OK, or the status to
  // return.
  Status WaitForData(Deadline deadline);
  // kMessageTooLarge for a message of size bytes that was discarded.
  Status DiscardedStatus(uint64_t size) const;
  // Receive's loop; assembles into *message (see Receive).
  Status ReceiveInto(std::string* message, Deadline deadline);
  void AfterPublish();
  void AfterConsume();
  // How one direction's spins have fared. After a spin that found
  // nothing, the next 1, 2, 4 ... 64 waits sleep at once: with both ends on
  // one CPU, or a peer slow to answer, a spin only delays the peer.
  struct SpinBackoff {
    int skip = 0;
    int backoff = 0;
  };
  // Spins (unless backing off), then sleeps until ready() holds, the
  // deadline passes or the peer is gone. sleeping is the flag announcing
  // the sleep; bell the doorbell.
  template <typename Ready>
  Wait WaitFor(Ready ready, std::atomic<uint32_t>& sleeping, int bell,
               Deadline deadline, bool keep_armed, SpinBackoff& spins);
  // The peer closed on purpose (its flag in the segment), or its
  // hang-up was seen before.
  bool PeerGoneSeen();
  // Reads the heartbeat without waiting: notes a hang-up or a refusal.
  void CheckHeartbeat();
  Status PeerClosedStatus() const;

  int side_;
  ShmSegment segment_;
  ShmChannelHeader* header_;
  RingWriter writer_;
  RingReader reader_;
  ShmDoorbells send_bells_;
  ShmDoorbells receive_bells_;
  UniqueFd heartbeat_;
  UniqueFd ready_fd_;  // epoll over receive_bells_.data and heartbeat_.
  std::chrono::nanoseconds spin_;
  SpinBackoff send_spins_;     // The sending thread's.
  SpinBackoff receive_spins_;  // The receiving thread's.
  uint64_t fork_generation_;
  // Set by whichever of the sending and the receiving thread notices first,
  // read by both: atomic. refused_ is stored before peer_gone_ (release),
  // so a thread that sees peer_gone_ (acquire) also sees why.
  std::atomic<bool> peer_gone_{false};
  std::atomic<bool> refused_{false};  // The listener turned us away (see shm.h).

  std::string pending_;  // Unsent rest of a message whose Send timed out.
  // SendBuffered: records staged in the ring but not published yet, and
  // whole messages that did not fit it then (written by Flush, in order).
  bool staged_ = false;
  std::deque<std::string> kept_;
  // The open loan is a record in the ring (not loan_buffer_) of this size.
  bool loan_in_ring_ = false;
  size_t loan_size_ = 0;
  // ReceiveView returned a whole record still in the ring (peeked, not
  // consumed).
  bool view_held_ = false;

  // Receive-side assembly of a multi-fragment message; partial_ holds it
  // only between calls (a Receive that timed out part-way).
  bool assembling_ = false;
  bool discarding_ = false;
  uint64_t discarded_size_ = 0;
  std::string partial_;
};

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_SHM_CHANNEL_H_
