// tcp://host:port — TCP with TCP_NODELAY. Port 0 on the listening side lets
// the system choose; Listener::url() then carries the chosen port.
#ifndef IPC_SRC_TRANSPORT_TCP_H_
#define IPC_SRC_TRANSPORT_TCP_H_

#include "transport/transport.h"

namespace ipc::internal {

extern const Transport kTcpTransport;

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_TCP_H_
