#include "ipc/message.h"

#include <string>

namespace ipc {

Status SendMessage(Channel& channel, const google::protobuf::MessageLite& message,
                   Deadline deadline) {
  std::string bytes;
  if (!message.SerializeToString(&bytes)) {
    return Status(ErrorCode::kInvalidArgument,
                  channel.url() + ": cannot serialize " + message.GetTypeName() +
                      " (required fields missing?)");
  }
  return channel.Send(bytes, deadline);
}

Status ReceiveMessage(Channel& channel, google::protobuf::MessageLite* message,
                      Deadline deadline) {
  // One buffer per thread keeps the steady state free of allocations.
  thread_local std::string bytes;
  IPC_RETURN_IF_ERROR(channel.Receive(&bytes, deadline));
  message->Clear();
  if (!message->ParseFromString(bytes)) {
    return Status(ErrorCode::kProtocolError,
                  channel.url() + ": received " + std::to_string(bytes.size()) +
                      " bytes that are not a valid " + message->GetTypeName());
  }
  return Status::Ok();
}

}  // namespace ipc
