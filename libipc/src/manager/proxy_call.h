// RunCall: one Call of a proxy on its named object, through the Manager's
// connection; and readers for the Result fields the proxies return.
//
// Thread safety: as ManagerConnection's.
#ifndef IPC_SRC_MANAGER_PROXY_CALL_H_
#define IPC_SRC_MANAGER_PROXY_CALL_H_

#include <cstdint>
#include <string>

#include "ipc/deadline.h"
#include "ipc/status.h"
#include "manager/connection.h"
#include "manager/wire.h"
#include "proto/ipcd.pb.h"

namespace ipc::internal {

// Sends a Call of op on the object name of kind; fill(ipcd::v1::Call&) adds
// the arguments and read(const ipcd::v1::Result&) takes the answer. A
// blocking op passes its deadline: it goes out as timeout_ms, and the reply
// is awaited until the deadline plus ManagerConnection::kReplyGrace.
template <typename Fill, typename Read>
Status RunCall(ManagerConnection& connection, const std::string& name,
               ipcd::v1::Kind kind, ipcd::v1::Op op, Fill&& fill, Read&& read,
               const Deadline* deadline = nullptr) {
  ManagerConnection::ExchangeOptions options;
  if (deadline != nullptr) {
    options.reply_deadline = ManagerConnection::ReplyDeadline(*deadline);
  }
  return connection.Exchange(
      [&](ipcd::v1::Request& request) {
        ipcd::v1::Call* call = request.mutable_call();
        call->set_object(name);
        call->set_kind(kind);
        call->set_op(op);
        if (deadline != nullptr) SetTimeout(*deadline, call);
        fill(*call);
      },
      [&](const ipcd::v1::Response& response) -> Status {
        return read(response.result());
      },
      options);
}

// For calls without arguments, or whose answer is only their Status.
inline void NoArguments(ipcd::v1::Call&) {}
inline Status IgnoreResult(const ipcd::v1::Result&) { return Status::Ok(); }

// Readers of result.value and result.count into *out, for RunCall.
inline auto ReadValue(Value* out) {
  return [out](const ipcd::v1::Result& r) {
    *out = ValueFromProto(r.value());
    return Status::Ok();
  };
}
inline auto ReadCount(int64_t* out) {
  return [out](const ipcd::v1::Result& r) {
    *out = r.count();
    return Status::Ok();
  };
}

// result.value as an int64 (unset reads as 0, as proto3 would write it);
// kProtocolError for another kind.
Status ReadInt(const ipcd::v1::Result& result, std::string_view what,
               int64_t* out);

}  // namespace ipc::internal

#endif  // IPC_SRC_MANAGER_PROXY_CALL_H_
