// The event loop and connection lifetime of Server (see server.h).
#include "loop/server.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "daemon/log.h"
#include "daemon/systemd.h"
#include "loop/preauth.h"

namespace ipcd {
namespace {

using ipc::ErrorCode;
using ipc::Status;

// Bounds on work per wake-up, so one busy client cannot starve the others.
// Each wake-up takes the requests that have fully arrived (up to this many)
// in one read; the epoll set is level-triggered, so the rest wakes the loop
// again.
constexpr size_t kMaxFramesPerWakeup = 64;
// Responses queued for a slow reader before the daemon stops reading its
// requests (backpressure instead of unbounded memory).
constexpr size_t kMaxOutbox = 256;
// How often output is retried on a channel without write readiness whose
// peer does not take it (an shm:// ring that is full): a timer, not a spin.
constexpr std::chrono::milliseconds kUnwritableRetry{1};
// How long a connection being closed after an error may take to read its
// last responses.
constexpr std::chrono::seconds kCloseLinger{5};

}  // namespace

int Server::Run() {
  const std::string status =
      "STATUS=serving on " + listeners_.back()->listener.url();
  SdNotify("READY=1\n" + status);
  if (watchdog_interval_.count() > 0) {
    SdNotify("WATCHDOG=1");
    next_watchdog_ = Clock::now() + watchdog_interval_;
  }
  int64_t shortest = 0;
  for (int64_t t : {options_.idle_timeout_ms, options_.frame_timeout_ms}) {
    if (t > 0 && (shortest == 0 || t < shortest)) shortest = t;
  }
  if (shortest > 0) {
    sweep_interval_ =
        std::chrono::milliseconds(std::clamp<int64_t>(shortest / 4, 10, 1000));
    next_sweep_ = Clock::now() + sweep_interval_;
  }
  epoll_event events[64];
  while (!stopping_) {
    int timeout_ms = EpollTimeoutMs();
    if (timeout_ms != 0 && options_.spin_us > 0) timeout_ms = SpinOrSleep(timeout_ms);
    const int n = ::epoll_wait(epoll_fd_, events, 64, timeout_ms);
    if (n < 0 && errno != EINTR) {
      LogError(std::string("epoll_wait: ") + std::strerror(errno));
      break;
    }
    if (n > 0 && options_.spin_us > 0) NoteActivity();
    for (int i = 0; i < n; ++i) {
      auto* p = static_cast<Pollable*>(events[i].data.ptr);
      switch (p->type) {
        case Pollable::Type::kSignal: {
          signalfd_siginfo info;
          while (::read(signal_fd_, &info, sizeof(info)) == sizeof(info)) {
            if (info.ssi_signo == SIGCHLD) {
              ReapSnapshot();
              continue;
            }
            LogInfo(std::string("received ") +
                    strsignal(static_cast<int>(info.ssi_signo)) +
                    ", shutting down");
            stopping_ = true;
          }
          break;
        }
        case Pollable::Type::kListener:
          OnListenerReadable(static_cast<ListenerEntry*>(p));
          break;
        case Pollable::Type::kSession:
          OnSessionEvent(static_cast<Session*>(p), events[i].events);
          break;
      }
      // A connection that closed may have freed a lock: its waiters get it
      // before any other event of this batch can take it (FIFO hand-over).
      Settle();
    }
    ExpireDeadlines();
    if (sweep_interval_.count() > 0 && Clock::now() >= next_sweep_) {
      SweepConnections();
      next_sweep_ = Clock::now() + sweep_interval_;
    }
    ResumeAccepting();
    BeforeSleep();
    if (watchdog_interval_.count() > 0 && Clock::now() >= next_watchdog_) {
      SdNotify("WATCHDOG=1");
      next_watchdog_ = Clock::now() + watchdog_interval_;
    }
    RetryUnwritable();
    for (Session* s : graveyard_) sessions_.erase(s->id);
    graveyard_.clear();
    arena_.Reset();  // What requests run from inboxes made on it.
  }
  Shutdown();
  return 0;
}

int Server::SpinOrSleep(int timeout_ms) {
  if (spin_skip_ == 0 &&
      Clock::now() - last_activity_ < std::chrono::microseconds(options_.spin_us)) {
    spinning_ = true;
    return 0;
  }
  if (spinning_) {
    // The spin ended with nothing to do: clients that think between
    // requests, or a core shared with them, where spinning only delays
    // their next request. Sleep at once after the next 1, 2, 4 ... 64
    // busy spells, as the Manager client backs off its reply spin.
    spinning_ = false;
    spin_backoff_ = spin_backoff_ == 0 ? 1 : std::min(spin_backoff_ * 2, 64);
    spin_skip_ = spin_backoff_;
  }
  return timeout_ms;
}

void Server::NoteActivity() {
  if (spinning_) {
    spin_backoff_ = 0;  // The spin caught the next request: it pays.
  } else if (spin_skip_ > 0) {
    --spin_skip_;
  }
  spinning_ = false;
  last_activity_ = Clock::now();
}

void Server::Settle() {
  DrainWakeups();
  RunResumes();
}

void Server::BeforeSleep() {
  // A write that fails drops its session, which may free a lock (a new
  // wake-up), whose answer is a new write: repeat until all is settled.
  do {
    DrainWakeups();
    RunResumes();
    FlushQueued();
  } while (!changed_.empty() || !resume_.empty() || !to_flush_.empty());
  SettleState();
}

int Server::EpollTimeoutMs() const {
  Clock::time_point next = Clock::time_point::max();
  if (!deadlines_.empty()) next = deadlines_.begin()->first;
  if (sweep_interval_.count() > 0) next = std::min(next, next_sweep_);
  if (accept_paused_) next = std::min(next, accept_resume_);
  if (!unwritable_.empty()) next = std::min(next, Clock::now() + kUnwritableRetry);
  if (watchdog_interval_.count() > 0 && next_watchdog_ < next)
    next = next_watchdog_;
  if (next == Clock::time_point::max()) return -1;
  const auto now = Clock::now();
  if (next <= now) return 0;
  // Round up, so a deadline is never reported early.
  const auto ms =
      std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
  return ms > 60000 ? 60000 : static_cast<int>(ms);
}

void Server::Shutdown() {
  SdNotify("STOPPING=1\nSTATUS=shutting down");
  // Parked requests learn that the daemon is going away, if their
  // connection can take it without waiting.
  for (auto& [id, s] : sessions_) {
    if (s->dead) continue;
    if (s->parked_on != nullptr) {
      RespondError(s.get(), s->inbox.front().request.id(), v1::CLOSED,
                   "ipcd is shutting down");
    }
    Drop(s.get(), "daemon shutting down");
  }
  to_flush_.clear();
  unwritable_.clear();
  sessions_.clear();
  graveyard_.clear();
  for (auto& entry : listeners_)
    entry->listener.Close();  // Removes socket files.
  listeners_.clear();
  CloseState();
  LogInfo("stopped");
}

void Server::OnSessionEvent(Session* s, uint32_t events) {
  if (s->dead) return;
  if (events & (EPOLLHUP | EPOLLERR)) {
    Drop(s, "peer closed the connection");
    return;
  }
  if (events & EPOLLOUT) OnWritable(s);
  if (!s->dead && (events & EPOLLIN)) OnReadable(s);
}

bool Server::ReadingAllowed(const Session* s) const {
  if (s->dead || s->stop_reading || s->state == Session::State::kClosing)
    return false;
  if (s->outbox.size() >= kMaxOutbox) return false;
  // Refusals are answered in order too; past twice the limit, stop reading
  // so that even they cannot pile up.
  return static_cast<int64_t>(s->inbox.size()) <
         2 * limits_.max_pending_per_client;
}

void Server::UpdateInterest(Session* s) {
  if (s->dead) return;
  uint32_t want = ReadingAllowed(s) ? uint32_t{EPOLLIN} : 0u;
  if (!s->outbox.empty() || s->tail_pending) {
    if (s->stream) {
      want |= uint32_t{EPOLLOUT};
    } else if (!s->in_unwritable) {
      s->in_unwritable = true;
      unwritable_.push_back(s);
    }
  }
  if (want == s->events) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.ptr = static_cast<Pollable*>(s);
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, s->channel.fd(), &ev) < 0) {
    Drop(s, std::string("epoll_ctl: ") + std::strerror(errno));
    return;
  }
  s->events = want;
}

bool Server::PeekFrameHeader(Session* s) {
  unsigned char header[4];
  ssize_t n;
  do {
    n = ::recv(s->channel.fd(), header, sizeof(header), MSG_PEEK | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno != EAGAIN;  // Other errors: the channel reports.
  if (n == 0) {
    Drop(s, "peer closed the connection");
    return false;
  }
  if (n < 4) return true;  // The channel takes the partial prefix.
  uint32_t length = 0;
  for (int i = 0; i < 4; ++i) length |= uint32_t{header[i]} << (8 * i);
  const bool ready = s->state == Session::State::kReady;
  const int64_t limit =
      ready ? limits_.max_frame_bytes
            : std::min<int64_t>(limits_.max_frame_bytes, kMaxPreAuthFrame);
  if (length <= limit) return true;
  std::string message =
      "a request frame of " + std::to_string(length) + " bytes is over the " +
      (ready ? "max_frame_bytes limit (" + std::to_string(limit) + ")"
             : "limit before the handshake (" + std::to_string(limit) +
                   " bytes; max_frame_bytes " +
                   std::to_string(limits_.max_frame_bytes) + ")") +
      "; refused unread";
  if (!ready) {
    RespondError(s, 0, v1::MESSAGE_TOO_LARGE, message + "; closing");
    BeginClosing(s);
    return false;
  }
  // Answered now; the channel discards the body as it arrives.
  OnOversizedFrame(s, std::move(message));
  s->oversize_answered = true;
  return !s->dead;
}

void Server::OnReadable(Session* s) {
  // Between frames, the length prefix is looked at before the channel
  // takes it, so an oversized frame is refused before its body arrives.
  // (Other channels refuse a message over max_message themselves.)
  if (s->stream && !s->mid_frame && !PeekFrameHeader(s)) {
    if (!s->dead) UpdateInterest(s);
    return;
  }
  read_batch_.clear();
  const Status status =
      s->channel.ReceiveAvailable(&read_batch_, kMaxFramesPerWakeup);
  if (!read_batch_.empty()) s->last_frame = Clock::now();
  for (const std::string& frame : read_batch_) {
    // Frames after one that closed the session are not looked at.
    if (s->dead || s->stop_reading || s->state == Session::State::kClosing) break;
    OnFrame(s, frame);
  }
  if (s->dead) return;
  if (status.code() == ErrorCode::kWouldBlock && s->stream) {
    // Something was there (the peek saw it) and the channel holds it now:
    // part of a frame.
    if (!s->mid_frame) s->frame_started = Clock::now();
    s->mid_frame = true;
  } else {
    s->mid_frame = false;
  }
  if (status.code() == ErrorCode::kMessageTooLarge) {
    if (s->oversize_answered) {
      s->oversize_answered = false;
    } else {
      OnOversizedFrame(s, "request frame refused: " + status.message());
    }
  } else if (!status.ok() && status.code() != ErrorCode::kWouldBlock) {
    Drop(s, status.code() == ErrorCode::kClosed ? "peer closed the connection"
                                                : status.ToString());
    return;
  }
  if (!s->dead) UpdateInterest(s);
}

void Server::SendBytes(Session* s, const std::string& bytes) {
  if (s->dead) return;
  if (!s->outbox.empty() || s->tail_pending) {
    s->outbox.push_back(bytes);
    s->outbox_bytes += bytes.size();
    return;
  }
  Status status = s->channel.SendBuffered(bytes);
  if (status.ok()) {
    if (!s->flush_queued) {
      s->flush_queued = true;
      to_flush_.push_back(s);
    }
    return;
  }
  if (status.code() != ErrorCode::kUnsupported) {
    Drop(s, status.ToString());
    return;
  }
  // A transport without an output buffer: write now.
  MakeDurableFor(s);
  status = s->channel.Send(bytes, ipc::Deadline::Now());
  if (status.ok()) {
    // Usually free: the channel only writes when a tail is left over.
    status = s->channel.Flush(ipc::Deadline::Now());
    if (status.ok()) return;
    if (status.code() == ErrorCode::kWouldBlock) {
      s->tail_pending = true;
      UpdateInterest(s);
      return;
    }
  } else if (status.code() == ErrorCode::kWouldBlock) {
    s->outbox.push_back(bytes);
    s->outbox_bytes += bytes.size();
    UpdateInterest(s);
    return;
  }
  Drop(s, status.code() == ErrorCode::kClosed ? "peer closed the connection"
                                              : status.ToString());
}

void Server::FlushSession(Session* s) {
  s->flush_queued = false;
  s->unflushed_events = 0;
  s->unflushed_event_bytes = 0;
  MakeDurableFor(s);
  const Status status = s->channel.Flush(ipc::Deadline::Now());
  if (s->dead) return;
  if (status.ok()) {
    ResyncIfDue(s);
    return;
  }
  if (status.code() == ErrorCode::kWouldBlock) {
    s->tail_pending = true;
    UpdateInterest(s);
    return;
  }
  Drop(s, status.code() == ErrorCode::kClosed ? "peer closed the connection"
                                              : status.ToString());
}

void Server::FlushQueued() {
  // Dropped sessions are still allocated until the end of the iteration
  // (graveyard_), so the pointers are safe; their output went in Drop.
  // A failed write may queue more (see BeforeSleep): swap first.
  flushing_.swap(to_flush_);
  // Sessions whose responses acknowledge nothing the log has not made
  // durable yet go first: reads never wait for the disk. The first of the
  // others then syncs for all of them (group commit).
  for (const bool first_pass : {true, false}) {
    for (Session* s : flushing_) {
      if (!s->flush_queued || s->dead) continue;
      if (first_pass && journal_ != nullptr &&
          !journal_->Durable(s->sync_seq)) {
        continue;
      }
      FlushSession(s);
    }
  }
  flushing_.clear();
}

void Server::OnWritable(Session* s) {
  MakeDurableFor(s);
  for (;;) {
    if (s->tail_pending) {
      Status status = s->channel.Flush(ipc::Deadline::Now());
      if (status.code() == ErrorCode::kWouldBlock) break;
      if (!status.ok()) {
        Drop(s, status.ToString());
        return;
      }
      s->tail_pending = false;
    }
    if (s->outbox.empty()) break;
    Status status = s->channel.Send(s->outbox.front(), ipc::Deadline::Now());
    if (status.code() == ErrorCode::kWouldBlock) break;
    if (!status.ok()) {
      Drop(s, status.ToString());
      return;
    }
    s->outbox_bytes -= s->outbox.front().size();
    s->outbox.pop_front();
    s->tail_pending = true;  // Checked (cheaply) by the Flush above.
  }
  if (s->state == Session::State::kClosing && s->outbox.empty() &&
      !s->tail_pending) {
    Drop(s, "closed after an error");
    return;
  }
  ResyncIfDue(s);
  UpdateInterest(s);
}

void Server::RetryUnwritable() {
  // Runs last in a turn of the loop, so that no session listed here can be
  // dropped and freed before the next turn looks at it.
  std::vector<Session*> retry;
  retry.swap(unwritable_);
  for (Session* s : retry) {
    s->in_unwritable = false;
    if (!s->dead && (!s->outbox.empty() || s->tail_pending)) OnWritable(s);
  }
}

void Server::HandshakeDone(Session* s) {
  s->state = Session::State::kReady;
  s->last_frame = Clock::now();
  if (s->has_deadline) {
    deadlines_.erase(s->deadline_pos);
    s->has_deadline = false;
  }
}

void Server::BeginClosing(Session* s) {
  if (s->dead || s->state == Session::State::kClosing) return;
  s->state = Session::State::kClosing;
  Unpark(s);
  if (s->has_deadline) {  // The handshake's.
    deadlines_.erase(s->deadline_pos);
    s->has_deadline = false;
  }
  for (const std::string& name : s->held_locks) {
    Object* object = store_.Find(name);
    if (object != nullptr && object->ReleaseHoldsOf(s->id)) {
      watches_.Changed(name, v1::RELEASE, nullptr);
      if (!object->waiters().empty()) ObjectChanged(object);
    }
  }
  s->held_locks.clear();
  if (s->flush_queued) FlushSession(s);  // Its last responses go first.
  if (s->dead) return;
  if (s->outbox.empty() && !s->tail_pending) {
    Drop(s, "closed after an error");
    return;
  }
  s->has_deadline = true;
  s->deadline_pos = deadlines_.emplace(Clock::now() + kCloseLinger, s);
  UpdateInterest(s);
}

void Server::Drop(Session* s, std::string_view why) {
  if (s->dead) return;
  s->dead = true;
  --live_sessions_;
  upgrades_.Forget(s->id);
  graveyard_.push_back(s);
  Unpark(s);
  watches_.Detach(s->watches);
  if (s->has_deadline) {
    deadlines_.erase(s->deadline_pos);
    s->has_deadline = false;
  }
  // A dead client's leases end with it: the next waiter gets the lock.
  for (const std::string& name : s->held_locks) {
    Object* object = store_.Find(name);
    if (object != nullptr && object->ReleaseHoldsOf(s->id)) {
      LogInfo("session " + std::to_string(s->id) + " closed holding " +
              KindName(object->kind()) + " '" + name + "'; released");
      watches_.Changed(name, v1::RELEASE, nullptr);
      if (!object->waiters().empty()) ObjectChanged(object);
    }
  }
  s->held_locks.clear();
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s->channel.fd(), nullptr);
  if (s->flush_queued) {
    // Responses buffered this iteration (an error before closing, say) go
    // out if the socket takes them now.
    s->flush_queued = false;
    MakeDurableFor(s);
    if (!s->channel.Flush(ipc::Deadline::Now()).ok()) s->tail_pending = true;
  }
  if (!s->outbox.empty() || s->tail_pending) {
    // Nobody will read the rest: make the channel's close not linger.
    (void)::shutdown(s->channel.fd(), SHUT_RDWR);
  }
  LogInfo("session " + std::to_string(s->id) + " closed: " + std::string(why));
}

void Server::ExpireDeadlines() {
  const auto now = Clock::now();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    Session* s = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    s->has_deadline = false;
    if (s->state == Session::State::kClosing) {
      Drop(s, "did not read its last responses in time");
      continue;
    }
    if (s->state != Session::State::kReady) {
      Drop(s, "no handshake within handshake_timeout_ms (" +
                  std::to_string(options_.handshake_timeout_ms) + " ms)");
      continue;
    }
    // Run it once more without waiting: it answers with its timeout code
    // (or succeeds, if it can at this very moment).
    (void)RetryParked(s, /*may_wait=*/false);
  }
}

void Server::SweepConnections() {
  const auto now = Clock::now();
  const auto idle = std::chrono::milliseconds(options_.idle_timeout_ms);
  const auto frame = std::chrono::milliseconds(options_.frame_timeout_ms);
  for (auto& [id, session] : sessions_) {
    Session* s = session.get();
    // Before the handshake handshake_timeout_ms applies; a closing session
    // has its linger.
    if (s->dead || s->state != Session::State::kReady) continue;
    if (frame.count() > 0 && s->mid_frame && now - s->frame_started > frame) {
      Drop(s, "sent part of a frame and not the rest within frame_timeout_ms (" +
                  std::to_string(options_.frame_timeout_ms) + " ms)");
    } else if (idle.count() > 0 && s->inbox.empty() && !s->mid_frame &&
               now - s->last_frame > idle) {
      Drop(s, "idle for longer than idle_timeout_ms (" +
                  std::to_string(options_.idle_timeout_ms) + " ms)");
    }
  }
}

void Server::FillStats(v1::Stats* stats) const {
  stats->set_server_version(server_version_);
  stats->set_uptime_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                           Clock::now() - started_)
                           .count());
  stats->set_clients(live_sessions_);
  stats->set_objects(store_.size());
  stats->set_bytes_held(store_.budget().used);
  stats->set_requests_total(requests_total_);
  stats->set_parked(parked_);
  stats->set_watches(watches_.size());
  int64_t pending = 0;
  for (const auto& [id, s] : sessions_) {
    if (!s->dead) pending += static_cast<int64_t>(s->inbox.size());
  }
  stats->set_pending(pending);
  v1::Limits* limits = stats->mutable_limits();
  limits->set_max_frame_bytes(limits_.max_frame_bytes);
  limits->set_max_clients(limits_.max_clients);
  limits->set_max_pending_per_client(limits_.max_pending_per_client);
  limits->set_max_objects(limits_.max_objects);
  limits->set_max_bytes(limits_.max_bytes);
  if (journal_ != nullptr) {
    journal_->FillStats(stats->mutable_persistence());
    stats->mutable_persistence()->set_snapshot_running(snapshot_pid_ > 0);
  }
}

}  // namespace ipcd
