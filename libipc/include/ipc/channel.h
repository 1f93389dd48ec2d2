// ipc::Channel: a two-ended message pipe between processes, over any
// transport named by a URL; and ipc::Listener, which accepts channels.
//
//   // process A                              // process B
//   auto l = ipc::Listen("unix:///tmp/a");     auto ch = ipc::Connect("unix:///tmp/a");
//   auto ch = l->Accept();                     ch->Send("ping");
//   std::string msg = ch->Receive().value();
//
// Semantics, identical on every transport (see docs/channels.md, installed
// as share/doc/libipc/docs/channels.md):
//  - A message is a byte string of 0 to max_message bytes (default 64 MiB,
//    set with ?max_message=). Boundaries and order are preserved.
//  - Send and Receive block; each takes a Deadline (a timeout, an absolute
//    time, or Deadline::Now() for the non-blocking form). An expired deadline
//    gives kDeadlineExceeded, a non-blocking call that cannot proceed gives
//    kWouldBlock, and nothing is sent or consumed in either case.
//  - A peer that closes or dies gives kClosed; a message cut short by the
//    peer's death is never delivered. No SIGPIPE is raised.
//  - A message larger than max_message gives kMessageTooLarge on the sending
//    side before anything is written; a receiver whose max_message is smaller
//    than an incoming message discards it, returns kMessageTooLarge and stays
//    usable for the next message.
//  - fd() is readable (level-triggered) whenever Receive may return without
//    waiting, so a channel can join poll/epoll/asio/libuv loops.
//
// Thread safety: a Channel may be used by one sending thread and one
// receiving thread at the same time; two threads must not Send (or Receive)
// on the same Channel concurrently. Close() must not race with other calls.
//
// Public: everything here in namespace ipc; ipc::internal names are not.
#ifndef IPC_CHANNEL_H_
#define IPC_CHANNEL_H_

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipc/capabilities.h"
#include "ipc/deadline.h"
#include "ipc/result.h"

namespace ipc {

namespace internal {
class ChannelImpl;
class ListenerImpl;
struct ChannelAccess;  // Builds Channels and Listeners (channel.cc only).
}  // namespace internal

class Channel {
 public:
  // A closed channel; every operation on it returns kClosed. Open ones come
  // from Connect, Listener::Accept and Pipe.
  Channel();
  ~Channel();
  Channel(Channel&&) noexcept;
  Channel& operator=(Channel&&) noexcept;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Sends one message. OK means the whole message was handed to the
  // transport; with a deadline or Deadline::Now(), either the whole message
  // is sent or none of it is.
  Status Send(std::string_view message,
              Deadline deadline = Deadline::Infinite());
  Status TrySend(std::string_view message) {
    return Send(message, Deadline::Now());
  }

  // Receives one message into *message (its capacity is reused, which is
  // what a hot loop wants).
  Status Receive(std::string* message,
                 Deadline deadline = Deadline::Infinite());
  Result<std::string> Receive(Deadline deadline = Deadline::Infinite());
  Result<std::string> TryReceive() { return Receive(Deadline::Now()); }

  // Finishes writing a message that a Send with a deadline started but
  // could not complete (stream transports keep such a tail and otherwise
  // write it before the next message). OK when nothing is left; with
  // Deadline::Now(), kWouldBlock while some of it is still unsent. An event
  // loop calls it when fd() is writable (for unix and tcp channels fd() is
  // the socket). Transports that never keep a tail return OK at once.
  Status Flush(Deadline deadline = Deadline::Infinite());

  // Batching, for servers and pipelining clients that handle many small
  // messages at once: one system call for many messages instead of one or
  // two each.
  //
  // SendBuffered appends a message to the channel's output without writing
  // it; the next Flush (or Send) writes everything buffered, in order, with
  // the rules of Flush. On shm:// it is written into the ring unpublished,
  // and Flush publishes the lot with at most one wake-up of the reader.
  // kMessageTooLarge as for Send; kUnsupported on transports without an
  // output buffer (mq, udp, zmq), where callers use Send.
  Status SendBuffered(std::string_view message);
  // Receives messages that have fully arrived, up to max_messages,
  // appending them to *messages, without waiting: kWouldBlock when not even
  // one has; other errors as Receive's. It never takes more than whole
  // messages from the transport, so fd() stays readable exactly while more
  // may be received. The stream transports take every whole message their
  // read finds (up to 64 KiB of them) in two system calls; the others take
  // them one by one until none is left. An error after some messages were
  // taken (kClosed, or kMessageTooLarge for one that was discarded) is
  // returned with them appended: handle the messages, then the error.
  Status ReceiveAvailable(std::vector<std::string>* messages,
                          size_t max_messages);

  // Zero-copy I/O, for large messages. On shm:// the bytes stay in the
  // shared ring: a view reads the message where the sender wrote it, and a
  // loan lets the sender write it there; other transports implement the
  // same calls with one copy more, so code written this way runs on every
  // URL.
  //
  // ReceiveView receives the next message like Receive (same deadlines and
  // errors) and returns a read-only view of it, valid until the next
  // ReceiveView, Receive, ReceiveAvailable, ReleaseView or Close on this
  // channel. On shm:// the message's room in the ring stays taken until
  // then, so release a view before waiting on something else. The bytes
  // lie in memory the peer can write: treat them as untrusted input, and
  // copy what must not change while it is checked.
  Result<std::string_view> ReceiveView(Deadline deadline = Deadline::Infinite());
  Result<std::string_view> TryReceiveView() { return ReceiveView(Deadline::Now()); }
  void ReleaseView();
  // Loan waits (until the deadline) for room for a message of size bytes
  // and returns it for the caller to fill; Commit(n) then sends its first
  // n bytes (n <= size) as one message. Nothing is sent without Commit; a
  // new Loan, Send or SendBuffered abandons an uncommitted loan.
  // kMessageTooLarge as for Send; Commit without an open loan, or past its
  // size, is kInvalidArgument. On shm:// a message of up to half the ring
  // (?capacity=) is written in place and Commit never waits; larger ones,
  // and other transports, are sent by Commit as Send would (with its
  // deadline; when that expires nothing was sent and the loan stays open).
  Result<std::span<char>> Loan(size_t size, Deadline deadline = Deadline::Infinite());
  Status Commit(size_t size, Deadline deadline = Deadline::Infinite());

  // Readable when Receive may proceed without waiting; -1 when closed.
  // Owned by the channel: do not close it or read from it.
  int fd() const;

  // True when this end already knows, without waiting, that the peer is
  // done with the channel: it closed its end or its process is gone (shm,
  // unix), or it closed or shut down its sending side and nothing it sent
  // is left to receive (unix, tcp). Consumes no message. False when
  // that is not known: a live peer, a transport that cannot tell (pipe,
  // fifo, mq, udp, zmq), or a closed channel. A server calls it before
  // handing a peer something it must not lose. Call it from the receiving
  // thread.
  bool PeerGone();
  // True when this end knows that the peer has not taken everything sent
  // to it: on shm://, messages still in the ring (a view the peer holds
  // counts as not taken) or a timed-out Send's unsent rest. False when
  // that is not known (other transports). After kClosed it tells a client
  // that its last request never reached a dead server, so it may send it
  // again elsewhere.
  bool PeerHasUnread();

  // Releases the transport. Safe to call more than once.
  void Close();
  bool is_open() const { return impl_ != nullptr; }

  // The URL this channel was made from, e.g. "tcp://127.0.0.1:40000".
  const std::string& url() const;
  // The largest message this end sends or accepts.
  size_t max_message() const;
  const Capabilities& capabilities() const;

  // For a channel made by ipc::Pipe(): clears close-on-exec on its
  // descriptor and returns "pipe:?fd=N", which ipc::Connect in a child that
  // this process then execs turns back into the channel. kUnsupported for
  // other transports.
  Result<std::string> InheritUrl();

 private:
  friend struct internal::ChannelAccess;
  explicit Channel(std::unique_ptr<internal::ChannelImpl> impl);
  std::unique_ptr<internal::ChannelImpl> impl_;
};

class Listener {
 public:
  // A closed listener. Open ones come from Listen.
  Listener();
  ~Listener();
  Listener(Listener&&) noexcept;
  Listener& operator=(Listener&&) noexcept;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Waits for the next peer and returns a channel to it.
  Result<Channel> Accept(Deadline deadline = Deadline::Infinite());
  Result<Channel> TryAccept() { return Accept(Deadline::Now()); }

  // Readable when Accept may proceed without waiting; -1 when closed.
  int fd() const;
  // The address peers connect to. For tcp://host:0 it carries the port the
  // system chose, e.g. "tcp://127.0.0.1:41234".
  const std::string& url() const;
  // Stops listening and removes any name it created (socket file, FIFO).
  void Close();
  bool is_open() const { return impl_ != nullptr; }

 private:
  friend struct internal::ChannelAccess;
  explicit Listener(std::unique_ptr<internal::ListenerImpl> impl);
  std::unique_ptr<internal::ListenerImpl> impl_;
};

// Creates the endpoint named by url and listens on it. kAddressInUse when a
// live process already owns the name; kInvalidArgument for a bad URL or
// option, naming it.
Result<Listener> Listen(std::string_view url);

// Connects to the endpoint named by url, waiting until the deadline for its
// listener to appear, so that start order does not matter. kDeadlineExceeded
// when no listener appeared in time (the message says what was last seen).
Result<Channel> Connect(std::string_view url,
                        Deadline deadline = std::chrono::seconds(10));

// Two connected ends of an anonymous duplex pipe (a socketpair, as Python's
// multiprocessing.Pipe() uses), for a parent and the child it forks. Both
// ends survive fork(); across exec, see Channel::InheritUrl(). max_message 0
// means the default (64 MiB).
Result<std::pair<Channel, Channel>> Pipe(size_t max_message = 0);

}  // namespace ipc

#endif  // IPC_CHANNEL_H_
