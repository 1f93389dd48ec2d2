// StreamChannel: message framing over byte-stream descriptors (socketpairs,
// pipes, FIFOs, unix and TCP stream sockets). Written once, shared by every
// stream transport.
//
// Wire format: each message is a 4-byte little-endian length followed by that
// many bytes. The receiver checks the length against its max_message before
// allocating; an oversized message is read and discarded, not buffered, and
// reported as kMessageTooLarge, after which the channel is still usable.
//
// Deadlines: a Send whose deadline passes before its first byte is written
// sends nothing. Once a message has started, its unsent tail is kept by the
// channel (the stream must stay framed) and written before the next message;
// Send reports OK, as a kernel socket buffer would. The destructor waits up to
// kCloseLinger for such a tail to drain. A Receive interrupted by its
// deadline keeps what it read and resumes with the next call.
//
// Reads are exact (header, then payload), never ahead of the current
// message, so fd() readiness always reflects an unreceived message.
//
// Sockets are kept in blocking mode and each call says whether it may wait
// (MSG_DONTWAIT otherwise): a Receive without a deadline is then a single
// blocking recv, as cheap as the raw system call. Pipes and FIFOs have no
// per-call flag, so their descriptors are non-blocking and waits use poll.
//
// Thread safety: one sending and one receiving thread at a time.
#ifndef IPC_SRC_TRANSPORT_STREAM_CHANNEL_H_
#define IPC_SRC_TRANSPORT_STREAM_CHANNEL_H_

#include <sys/uio.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "posix/unique_fd.h"
#include "transport/transport.h"

namespace ipc::internal {

class StreamChannel final : public ChannelImpl {
 public:
  static constexpr std::chrono::seconds kCloseLinger{1};
  static constexpr size_t kHeaderSize = 4;

  // A duplex channel over one socket.
  StreamChannel(std::string url, size_t max_message, const Capabilities& caps,
                UniqueFd socket);
  // Separate descriptors per direction; either may be invalid for a one-way
  // end (then the matching operation gives kUnsupported).
  StreamChannel(std::string url, size_t max_message, const Capabilities& caps,
                UniqueFd read_fd, UniqueFd write_fd);
  ~StreamChannel() override;

  Status Send(std::string_view message, Deadline deadline) override;
  Status Receive(std::string* message, Deadline deadline) override;
  Status SendBuffered(std::string_view message) override;
  Status ReceiveAvailable(std::vector<std::string>* messages,
                          size_t max_messages) override;
  int fd() const override;
  bool PeerGone() override;
  Status Flush(Deadline deadline) override;
  Result<std::string> InheritUrl() override;

 private:
  enum class ReadState { kHeader, kPayload, kDiscard };

  // Writes iov fully or until the deadline; returns bytes written in *done.
  Status WriteSome(const struct iovec* iov, int iov_count, size_t total,
                   size_t* done, Deadline deadline);
  Status FlushPending(Deadline deadline);
  // One read of up to len bytes; kWouldBlock when nothing is there yet.
  // may_wait: a socket read may block until data comes.
  Status ReadOnce(char* buf, size_t len, bool may_wait, size_t* got);
  Status PeerClosed() const;

  UniqueFd socket_;  // Set for socket channels (read_fd_ == write_fd_).
  UniqueFd read_owned_;
  UniqueFd write_owned_;
  int read_fd_ = -1;
  int write_fd_ = -1;
  bool write_is_socket_ = false;
  bool read_is_socket_ = false;

  std::string pending_;  // Unsent tail of a message whose Send timed out.

  ReadState read_state_ = ReadState::kHeader;
  unsigned char header_[kHeaderSize] = {};
  size_t header_have_ = 0;
  std::string partial_;   // Payload being assembled.
  // ReceiveAvailable's read buffer: the most it takes in one system call.
  static constexpr size_t kReceiveBatchBytes = 64 * 1024;
  // A message's buffer starts this large and doubles as its bytes come.
  static constexpr size_t kFirstPayloadBytes = 64 * 1024;
  std::string batch_;
  size_t payload_have_ = 0;
  size_t payload_size_ = 0;  // What the header announced.
  uint64_t discard_left_ = 0;
  uint64_t discard_size_ = 0;
};

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_STREAM_CHANNEL_H_
