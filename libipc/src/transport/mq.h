// mq:///name — a POSIX message queue (/dev/mqueue/name).
//
// One-way, like a FIFO: connecting ends send, the listening end receives.
// Any number of senders may share the queue.
//
// The listener owns an abstract unix socket "@libipc.mq/NAME" and creates
// the queue (mode 0600 unless ?mode=, attributes from ?maxmsg= and
// ?msgsize=, else the system defaults). The socket makes one live listener
// per name (a second gets kAddressInUse); a queue of that name with no live
// listener is a dead listener's and is replaced. Each sender connects to the
// socket, says its sender id and keeps the connection as a heartbeat, so
//  - Connect waits until its deadline for the listener to appear;
//  - a sender whose listener has gone gets kClosed (at its next Send);
//  - the receiver gets kClosed once a sender has come, every sender has gone
//    and the queue is drained, as a FIFO reader sees end-of-file.
//
// Messages of any size up to max_message travel in pieces of at most the
// queue's msgsize, each with a 16-byte header {sender id, flags}; the
// receiver reassembles per sender, so pieces of two senders never mix. A
// message whose sender died before its last piece is dropped, never
// delivered in part.
//
// Limits: unprivileged processes get at most /proc/sys/fs/mqueue/msg_max
// messages of /proc/sys/fs/mqueue/msgsize_max bytes (10 and 8 KiB by
// default). Asking for more fails with kResourceExhausted naming the limit
// and the file to raise; it does not silently shrink.
//
// fd() is the queue descriptor, readable while a piece is queued.
#ifndef IPC_SRC_TRANSPORT_MQ_H_
#define IPC_SRC_TRANSPORT_MQ_H_

#include "transport/transport.h"

namespace ipc::internal {

extern const Transport kMqTransport;

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_MQ_H_
