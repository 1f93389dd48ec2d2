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
//
// Trust: anyone who can write the directory may make the FIFO first and
// read what is sent. A sender therefore checks the owner of the FIFO it
// opened (fstat) by the rule of posix/peer_credentials.h and its own
// ?mode= (default 0600: us or root; 0060 adds our group, 0006 anyone), and
// gets kPermissionDenied naming the owner before it writes anything. The
// listener cannot learn who a writer is; the FIFO's mode decides that.
#ifndef IPC_SRC_TRANSPORT_FIFO_H_
#define IPC_SRC_TRANSPORT_FIFO_H_

#include "transport/transport.h"

namespace ipc::internal {

extern const Transport kFifoTransport;

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_FIFO_H_
