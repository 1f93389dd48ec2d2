// udp://host:port — datagrams, best effort.
//
// One message is one datagram: boundaries are native, a datagram arrives
// whole or not at all, but it may be lost (or, across a network, reordered
// or duplicated), and a closed or dead peer is not detected: use deadlines.
// The largest message is 65507 bytes (the IPv4 datagram limit).
//
// The listening side has one channel for all peers: Listener::Accept returns
// it at once, and its Send answers the peer whose datagram was received
// last, which is what a request/response server needs. The connecting side
// talks to the listener's address only.
#ifndef IPC_SRC_TRANSPORT_UDP_H_
#define IPC_SRC_TRANSPORT_UDP_H_

#include "transport/transport.h"

namespace ipc::internal {

extern const Transport kUdpTransport;

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_UDP_H_
