// ipc::Watcher and Manager::Watch: a Watch request on a connection of the
// watcher's own, and its events read as they come.
#include "ipc/watcher.h"

#include "ipc/manager.h"
#include "manager/connection.h"
#include "manager/wire.h"

namespace ipc {
namespace internal {
namespace {

WatchEvent EventFromProto(const ipcd::v1::WatchEvent& in) {
  WatchEvent out;
  out.version = in.version();
  out.resync = in.resync();
  out.missed = in.missed();
  out.exists = in.exists();
  if (in.exists()) out.kind = std::string(KindName(in.kind()));
  if (in.op() != ipcd::v1::OP_UNSPECIFIED) out.op = ipcd::v1::Op_Name(in.op());
  if (in.has_value()) out.value = ValueFromProto(in.value());
  out.items.reserve(static_cast<size_t>(in.items_size()));
  for (const ipcd::v1::Entry& entry : in.items()) {
    out.items.emplace_back(entry.key(), ValueFromProto(entry.value()));
  }
  out.removed.assign(in.removed().begin(), in.removed().end());
  return out;
}

}  // namespace

// One watch and its connection. Started (the Watch sent and its first
// event read) when made, and again after the connection was lost.
class WatchStream {
 public:
  WatchStream(std::shared_ptr<ManagerConnection> connection, std::string name,
              std::optional<std::string> key)
      : connection_(std::move(connection)),
        name_(std::move(name)),
        key_(std::move(key)) {}

  // Sends the Watch and reads its first event (kept for the first Read).
  Status Start() {
    Result<uint64_t> id = connection_->Send([&](ipcd::v1::Request* request) {
      ipcd::v1::Watch* watch = request->mutable_watch();
      watch->set_object(name_);
      if (key_) watch->set_key(*key_);
    });
    if (!id.ok()) return id.status();
    id_ = *id;
    const Deadline deadline =
        Deadline::After(connection_->options().connect_timeout);
    Status got = connection_->ReceiveAny(deadline, &response_);
    if (got.ok() && response_.id() != id_) got = Unexpected();
    if (!got.ok()) {
      connection_->Close();
      if (got.code() == ErrorCode::kDeadlineExceeded) {
        return Status(ErrorCode::kDeadlineExceeded,
                      Describe() + ": no answer to the Watch in time");
      }
      return got;
    }
    // Refused (a bad name, a key of a counter): the connection is fine,
    // but there is no watch.
    IPC_RETURN_IF_ERROR(StatusFromProto(response_.status()));
    first_ = EventFromProto(response_.event());
    started_ = true;
    return Status::Ok();
  }

  Result<std::optional<WatchEvent>> Read(Deadline deadline) {
    if (closed_) return Status(ErrorCode::kClosed, Describe() + ": closed");
    if (!started_) IPC_RETURN_IF_ERROR(Start());
    if (first_) {
      std::optional<WatchEvent> first = std::move(first_);
      first_.reset();
      return first;
    }
    Status got = connection_->ReceiveAny(deadline, &response_);
    if (got.code() == ErrorCode::kWouldBlock) return std::optional<WatchEvent>();
    if (got.ok() && response_.id() != id_) {
      got = Unexpected();
      connection_->Close();
    }
    if (got.code() == ErrorCode::kDeadlineExceeded) {
      return Status(ErrorCode::kDeadlineExceeded,
                    Describe() + ": no change before the deadline");
    }
    if (!got.ok()) {
      started_ = false;
      return Status(got.code(), Describe() + ": " + got.message() +
                                    "; the next call reconnects and starts "
                                    "with the current state",
                    got.sys_errno());
    }
    // The daemon ended the watch (an event over its frame limit): say
    // why; the next call starts it again.
    if (Status ended = StatusFromProto(response_.status()); !ended.ok()) {
      connection_->Close();
      started_ = false;
      return ended;
    }
    return std::optional<WatchEvent>(EventFromProto(response_.event()));
  }

  int fd() const { return closed_ ? -1 : connection_->fd(); }

  void Close() {
    closed_ = true;
    connection_->Close();
  }

 private:
  std::string Describe() const {
    return "watch of '" + name_ + (key_ ? "' key '" + *key_ : "") + "' at " +
           connection_->url();
  }
  // A response that is not this watch's: the daemon's own error (id 0)
  // or a protocol error.
  Status Unexpected() const {
    Status why = StatusFromProto(response_.status());
    if (response_.id() == 0 && !why.ok()) return why;
    return Status(ErrorCode::kProtocolError,
                  "answer " + std::to_string(response_.id()) +
                      " came for watch " + std::to_string(id_));
  }

  std::shared_ptr<ManagerConnection> connection_;
  const std::string name_;
  const std::optional<std::string> key_;
  uint64_t id_ = 0;
  bool started_ = false;
  bool closed_ = false;
  std::optional<WatchEvent> first_;
  ipcd::v1::Response response_;
};

}  // namespace internal

Watcher::Watcher(std::unique_ptr<internal::WatchStream> stream)
    : stream_(std::move(stream)) {}
Watcher::Watcher(Watcher&&) noexcept = default;
Watcher& Watcher::operator=(Watcher&&) noexcept = default;
Watcher::~Watcher() = default;

namespace {

Status MovedFrom() {
  return Status(ErrorCode::kClosed, "this Watcher was moved from");
}

}  // namespace

Result<WatchEvent> Watcher::Next(Deadline deadline) {
  if (stream_ == nullptr) return MovedFrom();
  IPC_ASSIGN_OR_RETURN(std::optional<WatchEvent> event, stream_->Read(deadline));
  if (!event) {
    // Only a non-blocking deadline (Now) gives no event.
    return Status(ErrorCode::kDeadlineExceeded, "no change yet");
  }
  return std::move(*event);
}

Result<std::optional<WatchEvent>> Watcher::Poll() {
  if (stream_ == nullptr) return MovedFrom();
  return stream_->Read(Deadline::Now());
}

int Watcher::fd() const { return stream_ == nullptr ? -1 : stream_->fd(); }

void Watcher::Close() {
  if (stream_ != nullptr) stream_->Close();
}

Result<Watcher> Manager::Watch(std::string name,
                               std::optional<std::string> key) const {
  IPC_ASSIGN_OR_RETURN(
      std::shared_ptr<internal::ManagerConnection> connection,
      internal::ManagerConnection::Open(connection_->url(),
                                        connection_->options()));
  auto stream = std::make_unique<internal::WatchStream>(
      std::move(connection), std::move(name), std::move(key));
  IPC_RETURN_IF_ERROR(stream->Start());
  return Watcher(std::move(stream));
}

}  // namespace ipc
