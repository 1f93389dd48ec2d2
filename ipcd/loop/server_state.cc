// The state log and snapshots of Server (see server.h, ipcd/state/).
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "daemon/log.h"
#include "loop/server.h"
#include "state/snapshot.h"
#include "state/state_dir.h"

namespace ipcd {

using ipc::ErrorCode;
using ipc::Status;

namespace {

std::string StateDirOf(const Options& options) {
  if (!options.state_dir.empty()) return options.state_dir;
  const char* systemd = std::getenv("STATE_DIRECTORY");  // StateDirectory=
  if (systemd == nullptr || *systemd == '\0') return "";
  // Several directories are separated by ':'; ours is the first.
  const std::string dirs = systemd;
  return dirs.substr(0, dirs.find(':'));
}

}  // namespace

Status Server::OpenState() {
  const std::string dir = StateDirOf(options_);
  if (dir.empty()) {
    LogInfo("state: in memory only (no --state-dir): a restart starts empty");
    return Status::Ok();
  }
  state::FsyncPolicy policy;
  if (!state::ParseFsyncPolicy(options_.fsync, &policy)) {
    return Status(ErrorCode::kInvalidArgument, "--fsync " + options_.fsync);
  }
  IPC_RETURN_IF_ERROR(state::MakeStateDir(dir));
  IPC_ASSIGN_OR_RETURN(state_lock_fd_, state::LockStateDir(dir));
  state::RemoveLeftovers(dir);
  const auto started = std::chrono::steady_clock::now();
  store_.LiftLimits(true);
  state::WalkResult walk;
  state::Replayer replayer(dispatcher_, store_);
  Status replayed = state::WalkState(
      dir,
      [&](const state::Record& record, const std::string& file) {
        return replayer.Apply(record, file);
      },
      &walk);
  store_.LiftLimits(false);
  const std::string way_out =
      "; `ipcctl check-state " + dir + "` shows the damage and `ipcctl "
      "check-state --repair " + dir + "` keeps everything before it";
  if (!replayed.ok()) {
    // It passed its checksum, so no repair can tell it from a good record:
    // written by another program, or by a version of ipcd that differs.
    return Status(replayed.code(),
                  "state dir " + dir + ": " + replayed.message() +
                      "; refusing to start. Move the state dir aside to "
                      "start empty, or start the ipcd that wrote it");
  }
  if (!walk.damage.file.empty()) {
    return Status(ErrorCode::kProtocolError,
                  "state dir " + dir + ": " + walk.damage.file +
                      " is damaged at offset " +
                      std::to_string(walk.damage.offset) + " (" +
                      walk.damage.what + "); refusing to start" + way_out);
  }
  if (!walk.torn_tail.file.empty()) {
    LogWarning("state: dropping the torn last record of " +
               walk.torn_tail.file + " at offset " +
               std::to_string(walk.torn_tail.offset) + " (" +
               walk.torn_tail.what +
               "): a change that was being written when ipcd stopped, never "
               "acknowledged");
  }
  state::Journal::Config config;
  config.dir = dir;
  config.fsync = policy;
  config.snapshot_after_bytes = options_.snapshot_after_bytes;
  // Appends go on in the newest log, unless the snapshot is ahead of it
  // (its records are all in the snapshot): a new log then starts at the
  // snapshot, so that every log's records follow on from its name.
  if (walk.newest_log_last_seq == walk.last_seq) {
    config.log_path = walk.newest_log;
    config.log_end = walk.newest_log_end;
  }
  config.last_seq = walk.last_seq;
  config.snapshot_bytes = walk.snapshot_bytes;
  config.records_since_snapshot = walk.log_records;
  IPC_ASSIGN_OR_RETURN(journal_, state::Journal::Open(config));
  dispatcher_.set_journal(journal_.get());
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  LogInfo("state: loaded " + std::to_string(store_.size()) + " objects (" +
          std::to_string(walk.snapshot_records) + " snapshot records, " +
          std::to_string(walk.log_records) + " log records, " +
          std::to_string(walk.bytes) + " bytes) in " + std::to_string(ms) +
          " ms from " + dir + "; fsync " + options_.fsync);
  if (store_.size() > limits_.max_objects ||
      store_.budget().used > limits_.max_bytes) {
    LogWarning("state: the restored objects exceed max_objects or max_bytes; "
               "changes that need more are refused until some are removed");
  }
  return Status::Ok();
}

void Server::NoteChanges(Session* s) {
  if (journal_ == nullptr) return;
  if (const uint64_t seq = journal_->EndRequest(); seq != 0) s->sync_seq = seq;
}

void Server::MakeDurableFor(Session* s) {
  if (journal_ != nullptr && s->sync_seq != 0) {
    journal_->MakeDurable(s->sync_seq);
  }
}

void Server::SettleState() {
  if (journal_ == nullptr) return;
  journal_->WriteAll();
  if (snapshot_pid_ > 0 || !journal_->SnapshotDue()) return;
  auto ended = journal_->StartNewLog();
  if (!ended.ok()) {
    LogError("state: cannot start a new log for a snapshot: " +
             ended.status().ToString());
    journal_->SnapshotFinished(false, 0, 0);
    return;
  }
  // The child syncs the ended log and writes the snapshot from its copy of
  // the objects while this process goes on serving (copy-on-write, as
  // Redis does).
  const auto before = std::chrono::steady_clock::now();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Dies with the daemon (it shares the state dir's lock), also when the
    // daemon died before the request took effect.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    // Background work: the daemon's loop and its clients come first when
    // they compete for the CPUs; at nice 10 it still gets about a tenth.
    errno = 0;
    if (::nice(10) == -1 && errno != 0) {
      LogWarning(std::string("state: nice for the snapshot: ") + std::strerror(errno));
    }
    int64_t bytes = 0;
    Status written = state::Journal::FinishEndedLog(*ended);
    if (written.ok()) {
      written = state::WriteSnapshot(journal_->dir(), store_,
                                     journal_->last_seq(), &bytes);
    }
    if (!written.ok()) LogError("state: snapshot failed: " + written.ToString());
    ::_exit(written.ok() ? 0 : 1);
  }
  ::close(ended->fd);
  if (pid < 0) {
    LogError(std::string("state: fork for a snapshot: ") + std::strerror(errno));
    journal_->SnapshotFinished(false, 0, 0);
    return;
  }
  snapshot_pid_ = pid;
  snapshot_seq_ = journal_->last_seq();
  LogInfo("state: writing a snapshot up to record " +
          std::to_string(snapshot_seq_) + " (fork took " +
          std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - before)
                             .count()) +
          " us)");
}

void Server::ReapSnapshot() {
  if (snapshot_pid_ <= 0) return;
  int status = 0;
  const pid_t pid = ::waitpid(snapshot_pid_, &status, WNOHANG);
  if (pid != snapshot_pid_) return;
  snapshot_pid_ = -1;
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  int64_t bytes = 0;
  if (ok) {
    struct stat st {};
    if (::stat(state::SnapshotPath(journal_->dir()).c_str(), &st) == 0) {
      bytes = st.st_size;
    }
    LogInfo("state: snapshot up to record " + std::to_string(snapshot_seq_) +
            " written (" + std::to_string(bytes) + " bytes)");
  } else {
    LogError("state: the snapshot writer failed; the log is kept and the "
             "snapshot retried later");
  }
  journal_->SnapshotFinished(ok, snapshot_seq_, bytes);
}

void Server::CloseState() {
  if (journal_ == nullptr) return;
  if (snapshot_pid_ > 0) {
    // The log holds everything. The writer's half-written snapshot.tmp
    // would be ignored at the next start, but a clean stop leaves nothing.
    ::kill(snapshot_pid_, SIGKILL);
    (void)::waitpid(snapshot_pid_, nullptr, 0);
    snapshot_pid_ = -1;
    state::RemoveLeftovers(journal_->dir());
  }
  journal_->Close();
}

}  // namespace ipcd
