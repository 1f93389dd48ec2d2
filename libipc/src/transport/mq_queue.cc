#include "transport/mq_queue.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace ipc::internal {

MqDescriptor::~MqDescriptor() {
  if (q_ != static_cast<mqd_t>(-1)) ::mq_close(q_);
}

Result<std::string> QueueName(const Url& url) {
  const std::string& p = url.path;
  if (p.size() < 2 || p[0] != '/' || p.find('/', 1) != std::string::npos ||
      p.size() > 256 || p == "/." || p == "/.." || p.find('\0') != std::string::npos) {
    return Status(ErrorCode::kInvalidArgument,
                  url.text + ": expected mq:///NAME (one name, no further '/', "
                             "not '.' or '..', at most 255 bytes after the '/')");
  }
  return p;
}

std::pair<sockaddr_un, socklen_t> RendezvousAddress(const std::string& queue) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string name = "libipc.mq" + queue;  // queue starts with '/'.
  if (name.size() + 1 > sizeof(addr.sun_path)) {
    // A queue name may be longer than a socket address: use its hash
    // (64-bit FNV-1a), with the start of the name for people reading ss -x.
    uint64_t hash = 1469598103934665603ull;
    for (unsigned char c : queue) hash = (hash ^ c) * 1099511628211ull;
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
    name = name.substr(0, 60) + "#" + hex;
  }
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  return {addr, static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size())};
}

long ReadLimit(const char* file) {
  std::ifstream in(std::string("/proc/sys/fs/mqueue/") + file);
  long value = 0;
  in >> value;
  return value;
}

long QueueMsgSize(mqd_t q) {
  mq_attr attr{};
  return ::mq_getattr(q, &attr) == 0 ? attr.mq_msgsize : 0;
}

long QueuedPieces(mqd_t q) {
  mq_attr attr{};
  return ::mq_getattr(q, &attr) == 0 ? attr.mq_curmsgs : 0;
}

Status OpenError(const Url& url, const MqAttributes& a, int err) {
  if (err == EINVAL && (a.maxmsg > 0 || a.msgsize > 0)) {
    const long msg_max = ReadLimit("msg_max"), msgsize_max = ReadLimit("msgsize_max");
    return Status(ErrorCode::kResourceExhausted,
                  url.text + ": the system refuses a queue of " + std::to_string(a.maxmsg) +
                      " messages of " + std::to_string(a.msgsize) +
                      " bytes: without CAP_SYS_RESOURCE the limits are " +
                      std::to_string(msg_max) + " messages (/proc/sys/fs/mqueue/msg_max) of " +
                      std::to_string(msgsize_max) +
                      " bytes (/proc/sys/fs/mqueue/msgsize_max), with it 65536 of 16 MiB; "
                      "raise them or ask for less",
                  err);
  }
  if (err == EMFILE) {
    return Status(ErrorCode::kResourceExhausted,
                  url.text + ": mq_open: " + std::strerror(err) +
                      " (the user's RLIMIT_MSGQUEUE, `ulimit -q`, caps the bytes all its "
                      "queues may hold; or this process is out of descriptors)",
                  err);
  }
  if (err == ENOSPC || err == ENOMEM) {
    return Status(ErrorCode::kResourceExhausted,
                  url.text + ": mq_open: " + std::strerror(err) +
                      " (the system's queue count, /proc/sys/fs/mqueue/queues_max, or "
                      "memory is exhausted)",
                  err);
  }
  if (err == EEXIST) {
    return Status(ErrorCode::kAddressInUse,
                  url.text + ": a queue of this name exists and could not be replaced "
                             "(it belongs to another user, or was made outside libipc)",
                  err);
  }
  if (err == EACCES) {
    return Status(ErrorCode::kPermissionDenied,
                  url.text + ": mq_open: the queue's owner and mode refuse this user", err);
  }
  return ErrnoStatus(url.text + ": mq_open", err);
}

// Waits for events on the given descriptors until the deadline.
Status PollUntil(std::vector<pollfd>& fds, Deadline deadline, const std::string& what) {
  for (;;) {
    const int n = ::poll(fds.data(), fds.size(), deadline.PollTimeoutMs());
    if (n > 0) return Status::Ok();
    if (n < 0 && errno != EINTR) return ErrnoStatus(what + ": poll", errno);
    if (n == 0 && (deadline.is_non_blocking() || deadline.Expired())) {
      return deadline.ExpiredStatus(what);
    }
  }
}

}  // namespace ipc::internal
