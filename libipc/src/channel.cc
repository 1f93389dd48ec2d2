#include "ipc/channel.h"

#include "transport/pipe.h"
#include "transport/transport.h"

namespace ipc {
namespace {

Status ClosedStatus(std::string_view what) {
  return Status(ErrorCode::kClosed, std::string(what) + " is closed");
}

const std::string& EmptyString() {
  static const std::string kEmpty;
  return kEmpty;
}

}  // namespace

Channel::Channel() = default;
Channel::Channel(std::unique_ptr<internal::ChannelImpl> impl)
    : impl_(std::move(impl)) {}
Channel::~Channel() = default;
Channel::Channel(Channel&&) noexcept = default;
Channel& Channel::operator=(Channel&&) noexcept = default;

Status Channel::Send(std::string_view message, Deadline deadline) {
  if (!impl_) return ClosedStatus("channel");
  impl_->AbandonLoan();
  return impl_->Send(message, deadline);
}

Result<std::string_view> Channel::ReceiveView(Deadline deadline) {
  if (!impl_) return ClosedStatus("channel");
  return impl_->ReceiveView(deadline);
}

void Channel::ReleaseView() {
  if (impl_) impl_->ReleaseView();
}

Result<std::span<char>> Channel::Loan(size_t size, Deadline deadline) {
  if (!impl_) return ClosedStatus("channel");
  return impl_->Loan(size, deadline);
}

Status Channel::Commit(size_t size, Deadline deadline) {
  if (!impl_) return ClosedStatus("channel");
  return impl_->Commit(size, deadline);
}

Status Channel::Receive(std::string* message, Deadline deadline) {
  if (!impl_) return ClosedStatus("channel");
  return impl_->Receive(message, deadline);
}

Result<std::string> Channel::Receive(Deadline deadline) {
  std::string message;
  IPC_RETURN_IF_ERROR(Receive(&message, deadline));
  return message;
}

Status Channel::Flush(Deadline deadline) {
  if (!impl_) return ClosedStatus("channel");
  return impl_->Flush(deadline);
}

Status Channel::SendBuffered(std::string_view message) {
  if (!impl_) return ClosedStatus("channel");
  impl_->AbandonLoan();
  return impl_->SendBuffered(message);
}

Status Channel::ReceiveAvailable(std::vector<std::string>* messages,
                                 size_t max_messages) {
  if (!impl_) return ClosedStatus("channel");
  return impl_->ReceiveAvailable(messages, max_messages);
}

int Channel::fd() const { return impl_ ? impl_->fd() : -1; }
bool Channel::PeerGone() { return impl_ != nullptr && impl_->PeerGone(); }
bool Channel::PeerHasUnread() { return impl_ != nullptr && impl_->PeerHasUnread(); }
void Channel::Close() { impl_.reset(); }
const std::string& Channel::url() const {
  return impl_ ? impl_->url() : EmptyString();
}
size_t Channel::max_message() const { return impl_ ? impl_->max_message() : 0; }
const Capabilities& Channel::capabilities() const {
  static const Capabilities kNone{};
  return impl_ ? impl_->caps() : kNone;
}

Listener::Listener() = default;
Listener::Listener(std::unique_ptr<internal::ListenerImpl> impl)
    : impl_(std::move(impl)) {}
Listener::~Listener() = default;
Listener::Listener(Listener&&) noexcept = default;
Listener& Listener::operator=(Listener&&) noexcept = default;

namespace internal {
struct ChannelAccess {
  static Channel Make(std::unique_ptr<ChannelImpl> impl) { return Channel(std::move(impl)); }
  static Listener Make(std::unique_ptr<ListenerImpl> impl) { return Listener(std::move(impl)); }
};
}  // namespace internal

Result<Channel> Listener::Accept(Deadline deadline) {
  if (!impl_) return ClosedStatus("listener");
  IPC_ASSIGN_OR_RETURN(auto channel, impl_->Accept(deadline));
  return internal::ChannelAccess::Make(std::move(channel));
}

int Listener::fd() const { return impl_ ? impl_->fd() : -1; }
const std::string& Listener::url() const {
  return impl_ ? impl_->url() : EmptyString();
}
void Listener::Close() { impl_.reset(); }

Result<Listener> Listen(std::string_view url) {
  IPC_ASSIGN_OR_RETURN(internal::ResolvedUrl resolved, internal::ResolveUrl(url));
  IPC_ASSIGN_OR_RETURN(auto listener,
                       resolved.transport->listen(resolved.url, resolved.common));
  return internal::ChannelAccess::Make(std::move(listener));
}

Result<Channel> Connect(std::string_view url, Deadline deadline) {
  IPC_ASSIGN_OR_RETURN(internal::ResolvedUrl resolved, internal::ResolveUrl(url));
  IPC_ASSIGN_OR_RETURN(auto channel, resolved.transport->connect(
                                         resolved.url, resolved.common, deadline));
  return internal::ChannelAccess::Make(std::move(channel));
}

Result<std::pair<Channel, Channel>> Pipe(size_t max_message) {
  const Capabilities& caps = internal::kPipeTransport.caps;
  if (max_message == 0) max_message = caps.default_max_message;
  if (max_message > caps.max_message_limit) {
    return Status(ErrorCode::kInvalidArgument,
                  "pipe: max_message " + std::to_string(max_message) +
                      " exceeds " + std::to_string(caps.max_message_limit));
  }
  IPC_ASSIGN_OR_RETURN(auto ends, internal::MakePipePair(max_message));
  return std::make_pair(internal::ChannelAccess::Make(std::move(ends.first)),
                        internal::ChannelAccess::Make(std::move(ends.second)));
}

Result<std::string> Channel::InheritUrl() {
  if (!impl_) return ClosedStatus("channel");
  return impl_->InheritUrl();
}

}  // namespace ipc
