// ChannelImpl's view and loan calls for transports that cannot lend their
// own memory: the message is copied once more (into view_buffer_ on
// receive, out of loan_buffer_ by Commit), so code written for the view
// API runs on every URL.
#include <string>

#include "transport/transport.h"

namespace ipc::internal {

Result<std::string_view> ChannelImpl::ReceiveView(Deadline deadline) {
  IPC_RETURN_IF_ERROR(Receive(&view_buffer_, deadline));
  return std::string_view(view_buffer_);
}

Result<std::span<char>> ChannelImpl::Loan(size_t size, Deadline /*deadline*/) {
  IPC_RETURN_IF_ERROR(CheckSendSize(size));
  loan_buffer_.resize(size);
  loaned_ = true;
  return std::span<char>(loan_buffer_.data(), size);
}

Status ChannelImpl::Commit(size_t size, Deadline deadline) {
  IPC_RETURN_IF_ERROR(CheckCommit(size, loan_buffer_.size()));
  Status sent = Send(std::string_view(loan_buffer_.data(), size), deadline);
  // Nothing went out on an expired deadline: the loan stays open for
  // another Commit.
  if (sent.code() != ErrorCode::kWouldBlock &&
      sent.code() != ErrorCode::kDeadlineExceeded) {
    loaned_ = false;
  }
  return sent;
}

Status ChannelImpl::CheckCommit(size_t size, size_t loaned) const {
  if (!loaned_) {
    return Status(ErrorCode::kInvalidArgument,
                  url_ + ": Commit without a Loan (or after its Commit)");
  }
  if (size > loaned) {
    return Status(ErrorCode::kInvalidArgument,
                  url_ + ": Commit of " + std::to_string(size) +
                      " bytes exceeds the loan of " + std::to_string(loaned));
  }
  return Status::Ok();
}

}  // namespace ipc::internal
