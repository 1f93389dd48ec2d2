// Protobuf over any Channel: one serialized message per channel message.
//
//   ipc::SendMessage(ch, request);
//   ipc::Result<Reply> reply = ipc::ReceiveMessage<Reply>(ch, 100ms);
//
// Bytes that do not parse as the expected type give kProtocolError naming
// the type; the channel stays usable.
//
// Thread safety: as for the Channel used.
#ifndef IPC_MESSAGE_H_
#define IPC_MESSAGE_H_

#include <google/protobuf/message_lite.h>

#include "ipc/channel.h"

namespace ipc {

Status SendMessage(Channel& channel, const google::protobuf::MessageLite& message,
                   Deadline deadline = Deadline::Infinite());

// Receives one message and parses it into *message (cleared first).
Status ReceiveMessage(Channel& channel, google::protobuf::MessageLite* message,
                      Deadline deadline = Deadline::Infinite());

template <typename T>
Result<T> ReceiveMessage(Channel& channel,
                         Deadline deadline = Deadline::Infinite()) {
  T message;
  IPC_RETURN_IF_ERROR(ReceiveMessage(channel, &message, deadline));
  return message;
}

}  // namespace ipc

#endif  // IPC_MESSAGE_H_
