// ipc::Deadline: when a blocking call must give up.
//
// Every blocking call in libipc takes one. Three kinds:
//   Deadline::Infinite()   block until done (or the peer goes away);
//   Deadline::Now()        do not block at all: the call's non-blocking form,
//                          which fails with kWouldBlock instead of waiting;
//   a point in time        Deadline::After(100ms), Deadline::At(t), or simply a
//                          duration where a Deadline is expected:
//                          ch.Receive(std::chrono::milliseconds(100)). It
//                          fails with kDeadlineExceeded when the time passes.
//
// Deadlines are absolute (steady clock), so a call that retries internally
// (EINTR, partial writes) never waits longer than asked in total.
//
// Thread safety: a plain value.
#ifndef IPC_DEADLINE_H_
#define IPC_DEADLINE_H_

#include <chrono>

#include "ipc/status.h"

namespace ipc {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  static constexpr Deadline Infinite() { return Deadline(Clock::time_point::max()); }
  static constexpr Deadline Now() { return Deadline(Clock::time_point::min()); }
  static Deadline At(Clock::time_point when) { return Deadline(when); }
  template <typename Rep, typename Period>
  static Deadline After(std::chrono::duration<Rep, Period> timeout) {
    return Deadline(timeout);
  }

  // A timeout relative to now. Implicit so that a duration reads naturally
  // wherever a Deadline is expected. A negative timeout behaves as Now().
  template <typename Rep, typename Period>
  Deadline(std::chrono::duration<Rep, Period> timeout)  // NOLINT: implicit
      : when_(FromTimeout(std::chrono::duration_cast<Clock::duration>(timeout))) {}

  bool is_infinite() const { return when_ == Clock::time_point::max(); }
  // True for Deadline::Now(): the caller asked not to block.
  bool is_non_blocking() const { return when_ == Clock::time_point::min(); }
  Clock::time_point when() const { return when_; }
  bool Expired() const { return !is_infinite() && Clock::now() >= when_; }

  // Milliseconds left, rounded up, for poll(2): -1 when infinite, 0 when
  // expired or non-blocking.
  int PollTimeoutMs() const;

  // The Status a call returns when this deadline stops it: kWouldBlock for
  // Now(), kDeadlineExceeded otherwise.
  Status ExpiredStatus(std::string_view what) const;

 private:
  constexpr explicit Deadline(Clock::time_point when) : when_(when) {}
  static Clock::time_point FromTimeout(Clock::duration timeout);

  Clock::time_point when_;
};

}  // namespace ipc

#endif  // IPC_DEADLINE_H_
