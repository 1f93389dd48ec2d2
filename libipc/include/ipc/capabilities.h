// ipc::Capabilities: what a transport promises, so code (and the conformance
// suite) can adapt to it instead of hard-coding scheme names.
//
// Thread safety: plain values; the registry behind TransportCapabilities() and
// Transports() is immutable.
#ifndef IPC_CAPABILITIES_H_
#define IPC_CAPABILITIES_H_

#include <cstddef>
#include <string_view>
#include <vector>

#include "ipc/result.h"

namespace ipc {

struct Capabilities {
  std::string_view scheme;
  // Every message sent is received once, in order, or the channel reports
  // kClosed. False for udp: datagrams may be lost (never torn or reordered
  // into each other: a datagram arrives whole or not at all).
  bool reliable = true;
  // Both ends may send. When false, the connecting end sends and the
  // accepting end receives; the other direction gives kUnsupported.
  bool duplex = true;
  // A peer that closes or dies shows up as kClosed. False for udp, which
  // has no connection: use a deadline.
  bool detects_peer_close = true;
  // Listener::Accept may return more than one channel over its life.
  bool multiple_peers = true;
  // The largest max_message this transport can be configured with.
  size_t max_message_limit = 0;
  // The max_message a URL without ?max_message= gets.
  size_t default_max_message = 0;
};

// The capabilities of the scheme of url ("tcp://x:1" or just "tcp").
// kInvalidArgument for an unknown scheme.
Result<Capabilities> TransportCapabilities(std::string_view url_or_scheme);

// Every transport compiled into this libipc, in registry order.
std::vector<Capabilities> Transports();

}  // namespace ipc

#endif  // IPC_CAPABILITIES_H_
