// Session: the daemon's state for one client connection: where it is in the
// handshake, the requests read but not yet answered (the first of which may
// be parked on an object), the responses the socket could not take yet,
// and the locks it holds.
//
// The server drives sessions; a Session only holds state and does the
// bookkeeping that has no policy in it.
//
// Thread safety: single-threaded.
#ifndef IPCD_LOOP_SESSION_H_
#define IPCD_LOOP_SESSION_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <set>
#include <string>

#include "ipc/channel.h"
#include "loop/watches.h"
#include "objects/object.h"
#include "proto/ipcd.pb.h"

namespace ipcd {

// What an epoll event's data.ptr points at.
struct Pollable {
  enum class Type { kListener, kSession, kSignal };
  explicit Pollable(Type t) : type(t) {}
  Type type;
};

// A request read and not yet answered.
struct PendingRequest {
  v1::Request request;
  // When set, the request is answered with this error in its turn instead
  // of being run (e.g. max_pending_per_client), and the connection closes
  // afterwards if close_after.
  v1::Code refusal = v1::OK;
  std::string refusal_message;
  bool close_after = false;
};

using DeadlineMap =
    std::multimap<std::chrono::steady_clock::time_point, class Session*>;

class Session final : public Pollable {
 public:
  enum class State {
    kHello,    // Waiting for Hello.
    kAuth,     // Hello done; waiting for Authenticate.
    kReady,    // Serving requests.
    kClosing,  // Answered its last request; closes once the outbox drains.
  };

  Session(uint64_t session_id, ipc::Channel connection, bool auth_required,
          bool on_upgrade_listener, std::string peer_text)
      : Pollable(Type::kSession),
        id(session_id),
        channel(std::move(connection)),
        needs_auth(auth_required),
        upgrade_only(on_upgrade_listener),
        stream(channel.capabilities().scheme == "unix" ||
               channel.capabilities().scheme == "tcp"),
        peer(std::move(peer_text)) {}

  const uint64_t id;
  ipc::Channel channel;
  const bool needs_auth;
  // Came in on the shm upgrade listener: its Hello must carry a token
  // (loop/shm_upgrades.h).
  const bool upgrade_only;
  // A unix or tcp socket: its fd() is the socket, whose frames' length
  // prefixes can be peeked at and which reports EPOLLOUT. Other channels
  // (shm://) give whole messages and no write readiness: their pending
  // output is retried each turn of the loop (Server::RetryUnwritable).
  const bool stream;
  bool in_unwritable = false;  // Listed in Server::unwritable_.
  const std::string peer;  // "pid 123 uid 1000 gid 1000" or "127.0.0.1:5555".
  State state = State::kHello;
  std::string client_name;
  std::string client_nonce;
  std::string server_nonce;

  // Requests read and not answered yet, oldest first. Empty on the fast
  // path: a request that can be answered at once never enters it.
  std::deque<PendingRequest> inbox;
  // Entries of inbox that will run (not refusals); max_pending_per_client
  // bounds it.
  int64_t queued = 0;

  // Set while inbox.front() is parked on parked_on.
  Object* parked_on = nullptr;
  std::list<Session*>::iterator wait_pos;
  bool has_deadline = false;
  DeadlineMap::iterator deadline_pos;

  // Serialized responses the socket has not taken yet, oldest first, and
  // their bytes.
  std::deque<std::string> outbox;
  size_t outbox_bytes = 0;
  // The channel holds the unsent tail of a response (see Channel::Flush).
  bool tail_pending = false;

  std::set<std::string, std::less<>> held_locks;

  // The watches this connection holds (loop/watches.h).
  SessionWatches watches;
  // Some of them missed changes: resync once the backlog has gone out.
  bool watch_resync_due = false;
  // Events buffered in the channel since its last flush, and their bytes.
  size_t unflushed_events = 0;
  size_t unflushed_event_bytes = 0;

  // Responses are buffered in the channel, to be written by FlushQueued.
  bool flush_queued = false;
  // The last state-log record a response to this connection acknowledges:
  // it is made durable before any of its bytes are written (0: none).
  uint64_t sync_seq = 0;

  // An unparsable frame was queued: read nothing after it.
  bool stop_reading = false;
  // The channel holds the start of a frame whose rest has not arrived
  // (since frame_started, for frame_timeout_ms); the daemon peeks at a
  // frame's length prefix only between frames.
  bool mid_frame = false;
  std::chrono::steady_clock::time_point frame_started{};
  // The frame being discarded was already answered MESSAGE_TOO_LARGE when
  // its length prefix arrived.
  bool oversize_answered = false;
  // When the last frame arrived (for idle_timeout_ms).
  std::chrono::steady_clock::time_point last_frame{};
  // The epoll interest currently registered.
  uint32_t events = 0;
  // Dropped: waiting to be destroyed at the end of the loop iteration.
  bool dead = false;
};

}  // namespace ipcd

#endif  // IPCD_LOOP_SESSION_H_
