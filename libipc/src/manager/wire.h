// Conversions between libipc's client types and the ipcd wire protocol
// (proto/ipcd.proto): Value <-> ipcd::v1::Value, response Status -> Status,
// Deadline -> Call.timeout_ms, and the names of object kinds.
//
// Thread safety: pure functions.
#ifndef IPC_SRC_MANAGER_WIRE_H_
#define IPC_SRC_MANAGER_WIRE_H_

#include <string_view>

#include "ipc/deadline.h"
#include "ipc/status.h"
#include "ipc/value.h"
#include "proto/ipcd.pb.h"

namespace ipc::internal {

// Fills *out (cleared first) with value.
void ValueToProto(const Value& value, ipcd::v1::Value* out);
// A Value with no kind set reads as null, as the protocol says.
Value ValueFromProto(const ipcd::v1::Value& value);

// OK for code OK; otherwise the code (the numbers equal ErrorCode's) and the
// daemon's message. A code this client does not know becomes kInternal.
Status StatusFromProto(const ipcd::v1::Status& status);

// Call.timeout_ms for deadline: unset when infinite, 0 when non-blocking or
// expired, else the milliseconds left, rounded up.
void SetTimeout(Deadline deadline, ipcd::v1::Call* call);

// "dict", "counter", "lock", "rlock", "queue", "event", or "unknown".
std::string_view KindName(ipcd::v1::Kind kind);

}  // namespace ipc::internal

#endif  // IPC_SRC_MANAGER_WIRE_H_
