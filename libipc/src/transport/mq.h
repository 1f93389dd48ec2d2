// mq:///name — a POSIX message queue (/dev/mqueue/name).
//
// One-way, like a FIFO: connecting ends send, the listening end receives.
// Any number of senders may share the queue.
//
// The listener owns an abstract unix socket "@libipc.mq/NAME" (cut and
// followed by a hash for names too long for a socket address) and creates
// the queue (mode 0600 unless ?mode=, attributes from ?maxmsg= and
// ?msgsize=, else the system defaults). The socket makes one live listener
// per name (a second gets kAddressInUse); a queue of that name with no live
// listener is a dead listener's and is replaced. Each sender connects to the
// socket, says its sender id and keeps the connection as a heartbeat, so
//  - Connect waits until its deadline for the listener to appear;
//  - a sender whose listener has gone gets kClosed, also while it waits on
//    a full queue;
//  - the receiver gets kClosed once a sender has come, every sender has gone
//    and the queue is drained, as a FIFO reader sees end-of-file. A sender
//    seen gone may have queued pieces after the receiver last found the
//    queue empty, so the queue is counted again after the heartbeats.
//
// Trust: an abstract socket has no permissions and anyone may bind it
// first, so each side checks the other with SO_PEERCRED by the rule of
// posix/peer_credentials.h and its own ?mode= (default 0600: us or root;
// 0060 adds our group, 0006 anyone): the listener hangs up on a sender it
// does not admit, and a sender checks the listener, and the queue's owner,
// before it sends anything (kPermissionDenied naming the uid).
//
// Messages of any size up to max_message travel in pieces of at most the
// queue's msgsize, each with a 16-byte header {sender id, flags FIRST/LAST};
// the receiver reassembles per sender, so pieces of two senders never mix
// and no sender waits for another (a lock held across a multi-piece message
// could be left held by a killed sender, and would serialize senders on the
// slowest one). A message whose sender died before its last piece is
// dropped, never delivered in part: once the pieces queued when its death
// was seen have been taken, nothing more of it can come. The receiver looks
// for dead senders whenever the queue is empty and every 256 pieces.
// A sending end cannot be used in a child after fork() (kUnsupported):
// two processes writing under one sender id would mix their pieces.
//
// A timed Send that stops part-way through a message keeps the rest and
// writes it first at the next Send (pending_tail.h), like the stream
// transports. On Close a sender queues a goodbye piece (no payload), which
// wakes a receiver waiting on fd().
//
// Limits: unprivileged processes get at most /proc/sys/fs/mqueue/msg_max
// messages of /proc/sys/fs/mqueue/msgsize_max bytes (10 and 8 KiB by
// default). Asking for more fails with kResourceExhausted naming the limit
// and the file to raise; it does not silently shrink, since the sizes were
// asked for. The user's RLIMIT_MSGQUEUE and queues_max give
// kResourceExhausted too, named.
//
// The receiver's fd() is an epoll descriptor over the queue and every
// sender's heartbeat: readable while a piece is queued (a goodbye included)
// and when a sender's process is gone, even killed with SIGKILL, after
// which TryReceive gives what is queued and then kClosed.
#ifndef IPC_SRC_TRANSPORT_MQ_H_
#define IPC_SRC_TRANSPORT_MQ_H_

#include "transport/transport.h"

namespace ipc::internal {

extern const Transport kMqTransport;

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_MQ_H_
