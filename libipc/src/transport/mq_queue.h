// The parts of mq:// shared by its receiving end, its sending ends and its
// listener: the piece header, the queue descriptor's owner, names, limits.
#ifndef IPC_SRC_TRANSPORT_MQ_QUEUE_H_
#define IPC_SRC_TRANSPORT_MQ_QUEUE_H_

#include <mqueue.h>
#include <poll.h>
#include <sys/un.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ipc/deadline.h"
#include "ipc/result.h"
#include "ipc/url.h"

namespace ipc::internal {

// Every queue message is one piece: this header, then payload.
struct PieceHeader {
  uint64_t sender;
  uint32_t flags;
  uint32_t reserved;
};
inline constexpr uint32_t kFirstPiece = 1;
inline constexpr uint32_t kLastPiece = 2;
// No payload: the sender closed and will send nothing more.
inline constexpr uint32_t kGoodbyePiece = 4;
inline constexpr long kMinMsgSize = 64;
inline constexpr std::chrono::seconds kMqHandshakeTimeout{5};

// Sole owner of a queue descriptor; mq_close on destruction.
class MqDescriptor {
 public:
  MqDescriptor() = default;
  explicit MqDescriptor(mqd_t q) : q_(q) {}
  ~MqDescriptor();
  MqDescriptor(MqDescriptor&& o) noexcept : q_(std::exchange(o.q_, static_cast<mqd_t>(-1))) {}
  MqDescriptor& operator=(MqDescriptor&& o) noexcept {
    std::swap(q_, o.q_);
    return *this;
  }
  mqd_t get() const { return q_; }

 private:
  mqd_t q_ = static_cast<mqd_t>(-1);
};

struct MqAttributes {
  long maxmsg = 0;  // 0: the system default.
  long msgsize = 0;
};

// "/name" from mq:///name, or kInvalidArgument.
Result<std::string> QueueName(const Url& url);
// The abstract socket "@libipc.mq/name" of a queue's listener (a name too
// long for a socket address is cut and followed by a hash of the whole).
std::pair<sockaddr_un, socklen_t> RendezvousAddress(const std::string& queue);
// A value from /proc/sys/fs/mqueue/<file>, or 0.
long ReadLimit(const char* file);
// The queue's message size.
long QueueMsgSize(mqd_t q);
// How many pieces the queue holds now (0 if it cannot tell).
long QueuedPieces(mqd_t q);
// mq_open's failure, explained (limits and the files that set them).
Status OpenError(const Url& url, const MqAttributes& a, int err);
// poll() until an event or the deadline.
Status PollUntil(std::vector<pollfd>& fds, Deadline deadline, const std::string& what);

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_MQ_QUEUE_H_
