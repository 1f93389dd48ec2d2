// New connections of Server (see server.h): accepting them, refusing them
// past max_clients, and shedding them when the process is out of file
// descriptors.
//
// Out of descriptors (EMFILE/ENFILE), a pending connection stays in the
// listen backlog and the level-triggered listener stays readable, so a
// plain retry spins. Instead, as libev and nginx do, the daemon keeps one
// descriptor in reserve: it closes it, accepts the pending connection with
// it, answers RESOURCE_EXHAUSTED, closes it and takes the reserve again.
// If even that fails, the listeners are left unwatched for a moment. Either
// way the condition is logged once per kFdLogInterval with a count.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/log.h"
#include "loop/server.h"
#include "transport/inet_address.h"

namespace ipcd {
namespace {

using ipc::ErrorCode;

constexpr int kMaxAcceptsPerWakeup = 64;
constexpr std::chrono::milliseconds kAcceptPause{100};
constexpr std::chrono::seconds kFdLogInterval{10};
// Descriptors the daemon uses besides its connections: stdio, epoll,
// signalfd, the reserve, and slack for the service manager's.
constexpr int64_t kFdOverhead = 16;

// Who is on the other end, for the log: credentials of a unix peer, the
// address of a TCP one. (An shm:// peer was admitted by its credentials,
// which the channel does not keep.)
std::string DescribePeer(const ipc::Channel& channel) {
  if (channel.capabilities().scheme == "shm") return "shm:// peer";
  const int fd = channel.fd();
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
      addr.ss_family == AF_UNIX) {
    ucred cred{};
    socklen_t cred_len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0) {
      return "pid " + std::to_string(cred.pid) + " uid " +
             std::to_string(cred.uid) + " gid " + std::to_string(cred.gid);
    }
    return "unknown unix peer";
  }
  len = sizeof(addr);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    return ipc::internal::FormatHostPort(reinterpret_cast<sockaddr*>(&addr));
  }
  return "unknown peer";
}

int64_t FileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return -1;
  return static_cast<int64_t>(limit.rlim_cur);
}

}  // namespace

void Server::CheckFileLimit() {
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int64_t limit = FileLimit();
  const int64_t needed = limits_.max_clients + kFdOverhead +
                         static_cast<int64_t>(options_.listen.size());
  if (limit >= 0 && limit < needed) {
    LogWarning("the open-file limit (" + std::to_string(limit) +
               ") is below what max_clients (" +
               std::to_string(limits_.max_clients) + ") needs (about " +
               std::to_string(needed) + "): connections past about " +
               std::to_string(limit - kFdOverhead) +
               " will be refused; raise it (ulimit -n, LimitNOFILE=) or "
               "lower max_clients");
  }
}

void Server::OnListenerReadable(ListenerEntry* entry) {
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    auto channel = entry->listener.TryAccept();
    if (!channel.ok()) {
      const ErrorCode code = channel.status().code();
      if (code == ErrorCode::kWouldBlock) return;
      if (code == ErrorCode::kResourceExhausted) {
        if (ShedConnection(entry)) continue;
        PauseAccepting();
        return;
      }
      LogWarning("accept on " + entry->listener.url() + ": " +
                 channel.status().ToString());
      return;
    }
    Accept(entry, std::move(*channel));
  }
}

bool Server::ShedConnection(ListenerEntry* entry) {
  if (reserve_fd_ < 0) return false;
  ::close(reserve_fd_);
  reserve_fd_ = -1;
  auto channel = entry->listener.TryAccept();
  bool shed = false;
  if (channel.ok()) {
    v1::Response refusal;
    refusal.mutable_status()->set_code(v1::RESOURCE_EXHAUSTED);
    refusal.mutable_status()->set_message(
        "ipcd is out of file descriptors; connection refused");
    refusal.SerializeToString(&write_buffer_);
    (void)channel->Send(write_buffer_, ipc::Deadline::Now());
    channel->Close();
    ++fds_refused_;
    shed = true;
  } else {
    shed = channel.status().code() == ErrorCode::kWouldBlock;
  }
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const auto now = Clock::now();
  if (fds_refused_ > 0 && now >= next_fd_log_) {
    LogWarning("out of file descriptors (open-file limit " +
               std::to_string(FileLimit()) + ", " +
               std::to_string(live_sessions_) + " connections): refused " +
               std::to_string(fds_refused_) + " connection(s) since the last "
               "report; raise the limit or lower max_clients");
    fds_refused_ = 0;
    next_fd_log_ = now + kFdLogInterval;
  }
  return shed && reserve_fd_ >= 0;
}

void Server::PauseAccepting() {
  if (accept_paused_) return;
  accept_paused_ = true;
  accept_resume_ = Clock::now() + kAcceptPause;
  for (auto& entry : listeners_) {
    epoll_event ev{};
    ev.data.ptr = static_cast<Pollable*>(entry.get());
    (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, entry->listener.fd(), &ev);
  }
  if (Clock::now() >= next_fd_log_) {
    LogWarning("out of file descriptors and no reserve left: not accepting "
               "connections for " + std::to_string(kAcceptPause.count()) +
               " ms");
    next_fd_log_ = Clock::now() + kFdLogInterval;
  }
}

void Server::ResumeAccepting() {
  if (!accept_paused_ || Clock::now() < accept_resume_) return;
  accept_paused_ = false;
  if (reserve_fd_ < 0) reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  for (auto& entry : listeners_) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = static_cast<Pollable*>(entry.get());
    (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, entry->listener.fd(), &ev);
  }
}

void Server::Accept(ListenerEntry* entry, ipc::Channel channel) {
  if (live_sessions_ >= limits_.max_clients) PruneHungUp();
  if (live_sessions_ >= limits_.max_clients) {
    v1::Response refusal;
    refusal.mutable_status()->set_code(v1::RESOURCE_EXHAUSTED);
    refusal.mutable_status()->set_message(
        "max_clients limit (" + std::to_string(limits_.max_clients) +
        " connections) reached; connection refused");
    refusal.SerializeToString(&write_buffer_);
    (void)channel.Send(write_buffer_, ipc::Deadline::Now());
    LogWarning("refused a connection on " + entry->listener.url() + " from " +
               DescribePeer(channel) + ": max_clients (" +
               std::to_string(limits_.max_clients) + ") reached");
    return;  // Closing the channel ends the connection.
  }
  const uint64_t id = ++next_session_id_;
  std::string peer = DescribePeer(channel);
  auto session = std::make_unique<Session>(id, std::move(channel), entry->needs_auth,
                                           entry->upgrade_only, std::move(peer));
  Session* s = session.get();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = static_cast<Pollable*>(s);
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s->channel.fd(), &ev) < 0) {
    LogWarning(std::string("epoll_ctl: ") + std::strerror(errno));
    return;
  }
  s->events = EPOLLIN;
  s->last_frame = Clock::now();
  s->has_deadline = true;
  s->deadline_pos = deadlines_.emplace(
      Clock::now() + std::chrono::milliseconds(options_.handshake_timeout_ms), s);
  sessions_.emplace(id, std::move(session));
  ++live_sessions_;
  LogInfo("session " + std::to_string(id) + " connected on " +
          entry->listener.url() + " (" + s->peer + ")");
}

void Server::PruneHungUp() {
  for (auto& [id, s] : sessions_) {
    if (!s->dead && s->channel.PeerGone()) Drop(s.get(), "peer hung up");
  }
}

}  // namespace ipcd
