// Server: ipcd's single-threaded event loop and everything that needs a
// connection: listeners, sessions, the handshake, running requests in each
// connection's order, parking blocking requests on objects and waking them.
//
// One epoll set (level-triggered) watches the listeners, every session's
// channel fd() and a signalfd for SIGTERM/SIGINT; the epoll timeout is the
// earliest parked request's deadline, the next idle/frame sweep, the end
// of an accept pause or the next watchdog ping. Every operation runs to
// completion between two epoll_waits, so each is atomic and linearizable
// without locks, as in Redis.
//
// Changes made by a request (an object that changed, a session whose
// parked request completed, responses buffered) are settled right after
// each event, and once more by BeforeSleep(), Redis's "before sleep" step:
// wake-ups, resumes and writes in that order, repeated until none is left,
// so nothing a failed write frees can wait for an unrelated event.
//
// Split over five files: server_setup.cc (start-up), server_accept.cc (new
// connections, file-descriptor exhaustion), server.cc (loop, sockets,
// connection lifetime, timers), server_requests.cc (frames, handshake,
// requests, parking) and server_state.cc (the state log, snapshots).
//
// Thread safety: everything runs on the thread that calls Run().
#ifndef IPCD_LOOP_SERVER_H_
#define IPCD_LOOP_SERVER_H_

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <google/protobuf/arena.h>

#include "daemon/options.h"
#include "dispatch/dispatcher.h"
#include "ipc/channel.h"
#include "loop/session.h"
#include "loop/shm_upgrades.h"
#include "loop/watches.h"
#include "state/journal.h"
#include "objects/object_store.h"

namespace ipcd {

class Server final : public WaiterHost, private WatchHub::Writer {
 public:
  // Sets up the listeners (the unix socket, --listen URLs, or the sockets
  // systemd passed), the epoll set and the signalfd. kInvalidArgument for
  // configuration errors (e.g. tcp:// without a key), which main() turns
  // into exit status 2.
  static ipc::Result<std::unique_ptr<Server>> Create(const Options& options);
  ~Server() override;

  // Serves until SIGTERM or SIGINT; returns the process exit status.
  int Run();

  // WaiterHost.
  void ObjectChanged(Object* object) override;
  void ObjectDestroying(Object* object) override;
  void ObjectWritten(std::string_view name, v1::Op op,
                     const v1::Call* call) override;

 private:
  struct ListenerEntry : Pollable {
    ListenerEntry() : Pollable(Type::kListener) {}
    ipc::Listener listener;
    bool needs_auth = false;
    bool upgrade_only = false;  // The shm upgrade listener.
  };
  using Clock = std::chrono::steady_clock;

  explicit Server(const Options& options);
  ipc::Status AddListener(const std::string& url, bool needs_auth,
                          bool inherited, bool upgrade_only = false);
  // Listens on a fresh shm:// name for clients of the unix socket that
  // move to shared memory (loop/shm_upgrades.h).
  ipc::Status AddUpgradeListener(const std::string& max_message);

  // server_accept.cc: new connections.
  void OnListenerReadable(ListenerEntry* entry);
  void Accept(ListenerEntry* entry, ipc::Channel channel);
  // Out of descriptors: accepts one pending connection with the reserve
  // descriptor and refuses it; false when that was not possible.
  bool ShedConnection(ListenerEntry* entry);
  // Stops watching the listeners for kAcceptPause; ResumeAccepting (from
  // the loop) watches them again once it has passed.
  void PauseAccepting();
  void ResumeAccepting();
  // Takes the reserve descriptor and warns when RLIMIT_NOFILE is below what
  // max_clients needs.
  void CheckFileLimit();
  // Drops sessions whose peers have hung up (used at max_clients).
  void PruneHungUp();

  // server.cc: the loop and connection lifetime.
  // Wake-ups, resumes and writes until nothing is left (see above).
  void BeforeSleep();
  // Drains wake-ups and resumes after one event.
  void Settle();
  void OnSessionEvent(Session* s, uint32_t events);
  void OnReadable(Session* s);
  // Between frames: looks at the next frame's length prefix and refuses an
  // oversized frame at once. False when s is not to be read now (nothing
  // to read, closed, or refused before the handshake).
  bool PeekFrameHeader(Session* s);
  void OnWritable(Session* s);
  // OnWritable for the sessions of unwritable_ (each turn of the loop).
  void RetryUnwritable();
  bool ReadingAllowed(const Session* s) const;
  void UpdateInterest(Session* s);
  // Queues one serialized response: buffered in the channel and written by
  // FlushQueued at the end of the loop iteration, so the responses to a
  // pipelined batch leave in one system call.
  void SendBytes(Session* s, const std::string& bytes);
  // Writes what SendBytes buffered in s's channel, without waiting; a rest
  // the socket cannot take now waits for EPOLLOUT (tail_pending).
  void FlushSession(Session* s);
  void FlushQueued();
  // Marks s closed: releases its locks and parked request, stops watching
  // it; it is destroyed at the end of the loop iteration.
  void Drop(Session* s, std::string_view why);
  // Moves s to kReady and ends its handshake timeout.
  void HandshakeDone(Session* s);
  // Stops reading s and drops it once its responses are written.
  void BeginClosing(Session* s);
  void ExpireDeadlines();
  // Closes connections past idle_timeout_ms or frame_timeout_ms.
  void SweepConnections();
  int EpollTimeoutMs() const;
  // The epoll timeout after activity: 0 while spin_us has not passed since
  // the last event (unless backing off), else timeout_ms.
  int SpinOrSleep(int timeout_ms);
  // An event arrived: spinning paid, or one busy spell of a back-off ended.
  void NoteActivity();
  void Shutdown();
  void FillStats(v1::Stats* stats) const;

  // server_state.cc: the state log and snapshots (ipcd/state/).
  // Locks the state dir, restores its snapshot and log, and attaches the
  // journal; says "in memory only" when there is no state dir.
  ipc::Status OpenState();
  // Ends the record of the changes s's request made; s's next response
  // acknowledges it.
  void NoteChanges(Session* s);
  // Before bytes of s are written: what they acknowledge is durable.
  void MakeDurableFor(Session* s);
  // End of an iteration: writes the log and starts a snapshot when due.
  void SettleState();
  // A forked snapshot writer exited (SIGCHLD).
  void ReapSnapshot();
  // Shutdown: stops a snapshot writer, writes and syncs the log.
  void CloseState();

  // server_requests.cc: what arrives on a connection.
  void OnFrame(Session* s, const std::string& bytes);
  void OnOversizedFrame(Session* s, std::string message);
  // Answers a request of id 0 (reserved) without running it.
  bool RefuseIdZero(Session* s, const v1::Request& request);
  void OnHandshakeFrame(Session* s, const std::string& bytes);
  // Queues a frame behind a parked request (or refuses it).
  void Enqueue(Session* s, const std::string& bytes);
  // Runs request; true when it was parked (it is then inbox.front()).
  // frame: the bytes request was parsed from, when at hand (for the state
  // log: dispatch/call_bytes.h).
  bool HandleReady(Session* s, v1::Request& request, bool in_inbox,
                   std::string_view frame = {});
  // Runs s's queued requests until one parks.
  void ProcessInbox(Session* s);
  OpContext ContextFor(Session* s, bool may_wait);
  // Parks s's first request at the back of object's waiters, until the
  // call's timeout_ms if with_deadline.
  void Park(Session* s, Object* object, bool with_deadline = true);
  void Unpark(Session* s);
  // Re-runs s's parked request; true when it left the object it was parked
  // on: it completed (and was answered), or now waits on another object.
  bool RetryParked(Session* s, bool may_wait);
  // A woken queue GET: writes the item at once, and puts it back at the
  // head of the queue if the connection cannot take it.
  void DeliverItem(Session* s, Object* queue);
  void WakeWaiters(Object* object);
  // Retries the waiters of changed objects, then runs the requests queued
  // behind the ones that completed.
  void DrainWakeups();
  void RunResumes();
  // Answers a request: counts it and writes response.
  void Respond(Session* s, v1::Response& response);
  // Writes response (MESSAGE_TOO_LARGE instead when it is over the frame
  // limit).
  void Write(Session* s, v1::Response& response);
  // WatchHub::Writer.
  bool Backlogged(Session* s) const override;
  bool SendEvent(Session* s, v1::Response& response) override;
  int64_t max_frame_bytes() const override { return limits_.max_frame_bytes; }
  // s's output has drained: resync the watches that missed changes.
  void ResyncIfDue(Session* s);
  void RespondError(Session* s, uint64_t id, v1::Code code,
                    std::string message);

  const Options options_;
  const Limits limits_;
  const Clock::time_point started_ = Clock::now();
  std::string auth_key_;
  std::string server_version_;
  ShmUpgrades upgrades_;

  int epoll_fd_ = -1;
  int signal_fd_ = -1;
  Pollable signal_pollable_{Pollable::Type::kSignal};
  std::vector<std::unique_ptr<ListenerEntry>> listeners_;
  std::unordered_map<uint64_t, std::unique_ptr<Session>> sessions_;
  uint64_t next_session_id_ = 0;
  int64_t live_sessions_ = 0;
  std::vector<Session*> graveyard_;
  // Sessions without write readiness (!Session::stream) with output
  // pending; see RetryUnwritable.
  std::vector<Session*> unwritable_;
  bool stopping_ = false;

  ObjectStore store_;
  Dispatcher dispatcher_;
  WatchHub watches_{&store_, this};
  std::unique_ptr<state::Journal> journal_;  // Null: in memory only.
  int state_lock_fd_ = -1;
  pid_t snapshot_pid_ = -1;
  uint64_t snapshot_seq_ = 0;
  DeadlineMap deadlines_;
  int64_t parked_ = 0;
  int64_t requests_total_ = 0;
  // Names of objects whose waiters should be retried (names, not pointers:
  // an object may be destroyed before its turn).
  std::vector<std::string> changed_;
  std::deque<Session*> resume_;
  bool draining_ = false;

  // File-descriptor exhaustion (server_accept.cc).
  int reserve_fd_ = -1;
  bool accept_paused_ = false;
  Clock::time_point accept_resume_{};
  Clock::time_point next_fd_log_{};
  int64_t fds_refused_ = 0;
  // idle_timeout_ms and frame_timeout_ms are checked by a sweep.
  std::chrono::milliseconds sweep_interval_{0};
  Clock::time_point next_sweep_{};

  std::chrono::microseconds watchdog_interval_{0};
  Clock::time_point next_watchdog_{};
  // When the loop last had something to do (see Options::spin_us).
  Clock::time_point last_activity_{};
  // Whether the loop is spinning, and its back-off after spins that
  // caught nothing (see SpinOrSleep).
  bool spinning_ = false;
  int spin_backoff_ = 0;
  int spin_skip_ = 0;

  // Requests read and answered at once, and every response to a request,
  // are made on this arena, which is reset at the end of each loop
  // iteration (its first block is kept): a reused message would free and
  // remake its oneof body for every request (malloc and free were about a
  // tenth of the daemon's time under pipelined load, the arena's
  // bookkeeping about half that). Nothing made on it outlives the
  // iteration: a request that parks is copied into its session's inbox,
  // and responses are serialized as soon as they are built.
  static constexpr size_t kArenaBlock = 64 * 1024;
  std::unique_ptr<char[]> arena_block_{new char[kArenaBlock]};
  google::protobuf::Arena arena_{MakeArenaOptions(arena_block_.get())};
  static google::protobuf::ArenaOptions MakeArenaOptions(char* block) {
    google::protobuf::ArenaOptions options;
    options.initial_block = block;
    options.initial_block_size = kArenaBlock;
    return options;
  }

  // Reused on the hot path so a request costs no allocation beyond what
  // protobuf keeps.
  std::vector<std::string> read_batch_;
  // Sessions with responses buffered in their channel (flush_queued).
  std::vector<Session*> to_flush_;
  std::vector<Session*> flushing_;
  std::string write_buffer_;
  v1::Response wake_response_;
  // A batch's calls' bytes (HandleReady), kept for its capacity.
  std::vector<std::string_view> batch_call_bytes_;
};

}  // namespace ipcd

#endif  // IPCD_LOOP_SERVER_H_
