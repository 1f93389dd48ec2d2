// fifo:///path — a named pipe, one-way: the connecting end sends, the
// listening end receives.
//
// The listener creates the FIFO (mode 0600, ?mode= to change), holds its read
// end open so senders can connect, and removes it on close. A sender opens
// the write end, takes an exclusive lock on it (so two senders can never
// interleave their messages: the second gets kAddressInUse) and writes a
// 4-byte greeting, which is how Accept learns that a sender has arrived and
// that it speaks libipc's framing. Messages then use the stream framing.
// One sender per listener; Accept returns one channel.
#ifndef IPC_SRC_TRANSPORT_FIFO_H_
#define IPC_SRC_TRANSPORT_FIFO_H_

#include "transport/transport.h"

namespace ipc::internal {

extern const Transport kFifoTransport;

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_FIFO_H_
