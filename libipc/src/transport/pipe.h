// pipe: — an anonymous duplex pipe (a socketpair) made in-process by
// ipc::Pipe(), and its inherited form "pipe:?rfd=R&wfd=W" / "pipe:?fd=N",
// which adopts descriptors a parent passed across exec (a shell pipeline's
// stdin/stdout work too: `sender 'pipe:?wfd=1' | receiver 'pipe:?rfd=0'`).
#ifndef IPC_SRC_TRANSPORT_PIPE_H_
#define IPC_SRC_TRANSPORT_PIPE_H_

#include <utility>

#include "transport/transport.h"

namespace ipc::internal {

extern const Transport kPipeTransport;

Result<std::pair<std::unique_ptr<ChannelImpl>, std::unique_ptr<ChannelImpl>>>
MakePipePair(size_t max_message);

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_PIPE_H_
