// zmq+ipc:///path and zmq+tcp://host:port — ZeroMQ, through cppzmq: the
// transport for crossing hosts.
//
// Pattern: PAIR. A listener binds one PAIR socket and Accept returns the one
// channel to the first peer that completes the ZeroMQ handshake
// (Capabilities::multiple_peers is false; run one listener per peer, or use
// tcp:// for a many-client server). Connect completes only when the
// handshake with a live listener has succeeded, waiting (ZeroMQ retries in
// the background) until its deadline, so start order does not matter and a
// missing listener is kDeadlineExceeded.
//
// Peer death: a socket monitor reports the disconnect (the kernel closes the
// connection of a killed process at once); the channel then delivers what
// already arrived and reports kClosed. A Send issued before the monitor has
// reported it may still be accepted and then lost with the peer — ZeroMQ
// gives no per-message acknowledgement.
//
// Readiness: ZMQ_FD is edge-triggered; fd() is an epoll descriptor over it,
// the monitor's and an eventfd that the channel keeps readable while a
// message is waiting, which makes it level-triggered like every channel.
//
// Sizes: the sender checks max_message; the receiver discards (and reports)
// a larger message after ZeroMQ has received it, so a peer can make it
// allocate one oversized message before it is refused.
//
// Close: messages already sent are flushed for up to a second (ZMQ_LINGER);
// Close() waits for that, so a process may exit right after its last Send.
// Each channel has its own ZeroMQ context (two threads) for this reason.
// No cppzmq exception leaves this file: every one becomes a Status.
#ifndef IPC_SRC_TRANSPORT_ZMQ_H_
#define IPC_SRC_TRANSPORT_ZMQ_H_

#include "transport/transport.h"

namespace ipc::internal {

extern const Transport kZmqIpcTransport;
extern const Transport kZmqTcpTransport;

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_ZMQ_H_
