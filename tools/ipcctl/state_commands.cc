// ipcctl check-state: ipcd's state directory read and judged by the same
// walk as the daemon's start (ipcd/state/state_dir.h), and repaired on
// request by cutting the log at its first damaged record.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "commands.h"
#include "json_output.h"
#include "state/state_dir.h"

namespace ipcctl {
namespace {

using ipcd::state::Place;
using ipcd::state::WalkResult;

std::string Describe(const Place& place) {
  return place.file + " at offset " + std::to_string(place.offset) + ": " +
         place.what;
}

void Print(const std::string& dir, const WalkResult& walk, bool json) {
  if (json) {
    JsonObject out;
    out.Add("state_dir", dir)
        .Add("snapshot_records", walk.snapshot_records)
        .Add("snapshot_seq", static_cast<int64_t>(walk.snapshot_seq))
        .Add("logs", static_cast<int64_t>(walk.logs.size()))
        .Add("log_records", walk.log_records)
        .Add("bytes", walk.bytes)
        .Add("last_seq", static_cast<int64_t>(walk.last_seq))
        .Add("torn_tail", walk.torn_tail.file.empty() ? "" : Describe(walk.torn_tail))
        .Add("damage", walk.damage.file.empty() ? "" : Describe(walk.damage));
    std::cout << out.Text() << "\n";
    return;
  }
  std::cout << "state dir: " << dir << "\n";
  if (walk.has_snapshot) {
    std::cout << "snapshot: " << walk.snapshot_records
              << " records, up to log record " << walk.snapshot_seq << ", "
              << walk.snapshot_bytes << " bytes\n";
  } else {
    std::cout << "snapshot: none\n";
  }
  for (const auto& log : walk.logs) std::cout << "log: " << log.path << "\n";
  std::cout << "log records past the snapshot: " << walk.log_records << "\n"
            << "last record: " << walk.last_seq << "\n";
  if (!walk.torn_tail.file.empty()) {
    std::cout << "torn last record (dropped at the next start): "
              << Describe(walk.torn_tail) << "\n";
  }
  if (!walk.damage.file.empty()) {
    std::cout << "DAMAGE: " << Describe(walk.damage)
              << "\n  ipcd refuses to start; `ipcctl check-state --repair "
              << dir << "` keeps every record before it\n";
  } else {
    std::cout << "ok: ipcd can start from this directory\n";
  }
}

// Copies path's bytes from offset to its end into aside.
ipc::Status SaveTail(const std::string& path, uint64_t offset,
                     const std::string& aside) {
  FILE* in = std::fopen(path.c_str(), "rb");
  if (in == nullptr) return ipc::ErrnoStatus("open " + path, errno);
  FILE* out = std::fopen(aside.c_str(), "wbx");
  if (out == nullptr) {
    const int err = errno;
    std::fclose(in);
    return ipc::ErrnoStatus("create " + aside, err);
  }
  std::fseek(in, static_cast<long>(offset), SEEK_SET);
  char buffer[1 << 16];
  size_t n;
  bool ok = true;
  while ((n = std::fread(buffer, 1, sizeof buffer, in)) > 0) {
    ok = ok && std::fwrite(buffer, 1, n, out) == n;
  }
  ok = ok && std::fflush(out) == 0 && ::fsync(fileno(out)) == 0;
  std::fclose(in);
  std::fclose(out);
  if (!ok) return ipc::ErrnoStatus("write " + aside, errno);
  return ipc::Status::Ok();
}

// Cuts the damaged log at the damage (its dropped bytes saved beside it)
// and moves every later log aside.
ipc::Status Repair(const std::string& dir, const WalkResult& walk) {
  const Place& damage = walk.damage;
  if (damage.file == ipcd::state::SnapshotPath(dir)) {
    return ipc::Status(
        ipc::ErrorCode::kUnsupported,
        "the snapshot is damaged, and the logs it replaced are gone: "
        "nothing can be kept from it. Move " + damage.file +
            " aside to start from the logs alone (if they go back to the "
            "first record), or remove the state to start empty");
  }
  bool later = false;
  for (const auto& log : walk.logs) {
    const std::string aside =
        log.path + ".damaged-" +
        std::to_string(later || log.path != damage.file ? 0 : damage.offset);
    if (later || (log.path == damage.file &&
                  damage.offset < ipcd::state::kFileHeaderBytes)) {
      // Nothing of it can be kept: the whole file goes aside.
      if (::rename(log.path.c_str(), aside.c_str()) != 0) {
        return ipc::ErrnoStatus("rename " + log.path, errno);
      }
      std::cout << "moved " << log.path << " to " << aside << "\n";
      later = true;
      continue;
    }
    if (log.path != damage.file) continue;
    IPC_RETURN_IF_ERROR(SaveTail(log.path, damage.offset, aside));
    if (::truncate(log.path.c_str(), static_cast<off_t>(damage.offset)) != 0) {
      return ipc::ErrnoStatus("truncate " + log.path, errno);
    }
    std::cout << "cut " << log.path << " at offset " << damage.offset
              << "; the dropped bytes are in " << aside << "\n";
    later = true;
  }
  return ipcd::state::SyncDir(dir);
}

}  // namespace

int RunCheckState(const CommandLine& cl) {
  if (cl.args.size() != 1) return UsageError("check-state needs one DIR");
  const std::string& dir = cl.args[0];
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Fail(ipc::ErrnoStatus("state dir " + dir, errno ? errno : ENOTDIR));
  }
  int lock = -1;
  if (cl.repair) {
    // Never cut a log under a running daemon.
    auto locked = ipcd::state::LockStateDir(dir);
    if (!locked.ok()) return Fail(locked.status());
    lock = *locked;
  }
  WalkResult walk;
  ipc::Status walked = ipcd::state::WalkState(
      dir, [](const ipcd::state::Record&, const std::string&) {
        return ipc::Status::Ok();
      },
      &walk);
  if (!walked.ok()) return Fail(walked);
  Print(dir, walk, cl.json && !cl.repair);
  int code = walk.damage.file.empty() ? kExitOk : kExitFailed;
  if (cl.repair && code != kExitOk) {
    if (ipc::Status repaired = Repair(dir, walk); !repaired.ok()) {
      if (lock >= 0) ::close(lock);
      return Fail(repaired);
    }
    walked = ipcd::state::WalkState(
        dir, [](const ipcd::state::Record&, const std::string&) {
          return ipc::Status::Ok();
        },
        &walk);
    std::cout << "after the repair:\n";
    if (walked.ok()) Print(dir, walk, false);
    code = walked.ok() && walk.damage.file.empty() ? kExitOk : kExitFailed;
  }
  if (lock >= 0) ::close(lock);
  return code;
}

}  // namespace ipcctl
