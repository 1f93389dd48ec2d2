// The seam between the public Channel/Listener API and the mechanisms behind
// it. Each mechanism implements ChannelImpl (and ListenerImpl where it has a
// listening side) in its own .h/.cc pair and adds one entry to registry.cc.
//
// Thread safety: as documented on ipc::Channel; implementations may assume
// one sender and one receiver thread at most.
#ifndef IPC_SRC_TRANSPORT_TRANSPORT_H_
#define IPC_SRC_TRANSPORT_TRANSPORT_H_

#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/capabilities.h"
#include "ipc/deadline.h"
#include "ipc/result.h"
#include "ipc/url.h"

namespace ipc::internal {

class ChannelImpl {
 public:
  ChannelImpl(std::string url, size_t max_message, const Capabilities& caps)
      : url_(std::move(url)), max_message_(max_message), caps_(caps) {}
  virtual ~ChannelImpl() = default;

  virtual Status Send(std::string_view message, Deadline deadline) = 0;
  virtual Status Receive(std::string* message, Deadline deadline) = 0;
  virtual int fd() const = 0;
  // See Channel::PeerGone. This default does not know.
  virtual bool PeerGone() { return false; }
  // See Channel::PeerHasUnread. This default does not know.
  virtual bool PeerHasUnread() { return false; }
  // Writes what a timed-out Send left unsent; see Channel::Flush.
  virtual Status Flush(Deadline /*deadline*/) { return Status::Ok(); }
  // See Channel::SendBuffered.
  virtual Status SendBuffered(std::string_view /*message*/) {
    return Status(ErrorCode::kUnsupported,
                  url_ + ": this transport has no output buffer; use Send");
  }
  // See Channel::ReceiveAvailable. This default receives messages one by
  // one without waiting, until none is left or max_messages.
  virtual Status ReceiveAvailable(std::vector<std::string>* messages,
                                  size_t max_messages);
  // See Channel::ReceiveView and friends. These defaults copy: the view is
  // of a buffer the message was received into, and the loan is a buffer
  // that Commit sends. shm:// works in place.
  virtual Result<std::string_view> ReceiveView(Deadline deadline);
  virtual void ReleaseView() {}
  virtual Result<std::span<char>> Loan(size_t size, Deadline deadline);
  virtual Status Commit(size_t size, Deadline deadline);
  // "pipe:?rfd=..&wfd=.." for channels that can cross exec.
  virtual Result<std::string> InheritUrl() {
    return Status(ErrorCode::kUnsupported,
                  url_ + ": only channels made by ipc::Pipe() can be inherited");
  }

  // Channel::Send and SendBuffered abandon an open loan (on shm:// they
  // write where it was).
  void AbandonLoan() { loaned_ = false; }

  const std::string& url() const { return url_; }
  size_t max_message() const { return max_message_; }
  const Capabilities& caps() const { return caps_; }

 protected:
  // The checks every Send starts with; OK when message may be sent.
  Status CheckSendSize(std::string_view message) const { return CheckSendSize(message.size()); }
  Status CheckSendSize(size_t size) const;
  // The checks of Commit: a loan is open and size fits it.
  Status CheckCommit(size_t size, size_t loaned) const;

  // The copying defaults' buffers: one for the receiving thread's view,
  // one for the sending thread's loan (open while loaned_).
  std::string view_buffer_;
  std::string loan_buffer_;
  bool loaned_ = false;

 private:
  std::string url_;
  size_t max_message_;
  const Capabilities& caps_;
};

class ListenerImpl {
 public:
  explicit ListenerImpl(std::string url) : url_(std::move(url)) {}
  virtual ~ListenerImpl() = default;
  virtual Result<std::unique_ptr<ChannelImpl>> Accept(Deadline deadline) = 0;
  virtual int fd() const = 0;
  const std::string& url() const { return url_; }

 protected:
  void set_url(std::string url) { url_ = std::move(url); }

 private:
  std::string url_;
};

// Options every transport understands, already validated against its limits.
struct CommonOptions {
  size_t max_message = 0;
};

struct Transport {
  Capabilities caps;
  // Query options this transport accepts besides max_message.
  std::initializer_list<std::string_view> options;
  Result<std::unique_ptr<ListenerImpl>> (*listen)(const Url& url,
                                                  const CommonOptions& common);
  Result<std::unique_ptr<ChannelImpl>> (*connect)(const Url& url,
                                                  const CommonOptions& common,
                                                  Deadline deadline);
};

// The registered transport for scheme, or nullptr.
const Transport* FindTransport(std::string_view scheme);

// Parses url, finds its transport and validates its options; kInvalidArgument
// naming an unknown scheme or option.
struct ResolvedUrl {
  Url url;
  const Transport* transport;
  CommonOptions common;
};
Result<ResolvedUrl> ResolveUrl(std::string_view text);

// Reads an optional file-mode option ("mode") or returns fallback.
Result<uint32_t> ModeOption(const Url& url, uint32_t fallback);
// Reads an optional non-negative integer option or returns fallback.
Result<int> IntOption(const Url& url, std::string_view key, int fallback);

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_TRANSPORT_H_
