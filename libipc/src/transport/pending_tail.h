// The "pending tail" rule of channels whose timed Send can stop part-way
// through a message (shm rings and mq pieces; stream_channel.cc applies the
// same rule to its framed bytes): a message that has started must finish,
// so its unsent rest is kept and written before the next message, and the
// Send that started it reports OK. See docs/channels.md, "Blocking".
#ifndef IPC_SRC_TRANSPORT_PENDING_TAIL_H_
#define IPC_SRC_TRANSPORT_PENDING_TAIL_H_

#include <string>
#include <string_view>

#include "ipc/deadline.h"
#include "ipc/status.h"

namespace ipc::internal {

inline bool IsExpiry(const Status& s) {
  return s.code() == ErrorCode::kWouldBlock || s.code() == ErrorCode::kDeadlineExceeded;
}

// write(data, first, deadline, &sent) writes data as the whole (first) or
// the rest (!first) of a message and reports how many bytes went out.
template <typename Write>
Status FlushTail(std::string* tail, Deadline deadline, const Write& write) {
  size_t sent = 0;
  Status status = write(std::string_view(*tail), /*first=*/false, deadline, &sent);
  tail->erase(0, sent);
  return status;
}

template <typename Write>
Status SendKeepingTail(std::string* tail, std::string_view message, Deadline deadline,
                       const std::string& url, const Write& write) {
  if (!tail->empty()) {
    Status flushed = FlushTail(tail, deadline, write);
    if (!flushed.ok()) {
      return IsExpiry(flushed)
                 ? deadline.ExpiredStatus(url + ": send (the previous message is still being written)")
                 : flushed;
    }
  }
  size_t sent = 0;
  Status status = write(message, /*first=*/true, deadline, &sent);
  if (status.ok() || sent == 0 || !IsExpiry(status)) return status;
  tail->assign(message.substr(sent));
  return Status::Ok();
}

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_PENDING_TAIL_H_
