// unix:///path and unix://@abstract — unix domain stream sockets.
//
// The listener creates the socket file with mode 0600 (?mode= to change) and
// removes it on close. A leftover file from a dead listener is replaced; a
// path owned by a live listener, or that is not a socket, is kAddressInUse.
#ifndef IPC_SRC_TRANSPORT_UNIX_SOCKET_H_
#define IPC_SRC_TRANSPORT_UNIX_SOCKET_H_

#include "transport/transport.h"

namespace ipc::internal {

extern const Transport kUnixTransport;

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_UNIX_SOCKET_H_
