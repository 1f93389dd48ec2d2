#include "state/state_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace ipcd::state {
namespace {

constexpr std::string_view kLogPrefix = "log.";
constexpr size_t kSeqDigits = 20;

// The base_seq of a file named "log.<20 digits>", or false.
bool ParseLogName(std::string_view name, uint64_t* base_seq) {
  if (name.size() != kLogPrefix.size() + kSeqDigits ||
      name.substr(0, kLogPrefix.size()) != kLogPrefix) {
    return false;
  }
  uint64_t value = 0;
  for (char c : name.substr(kLogPrefix.size())) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  *base_seq = value;
  return true;
}

}  // namespace

std::string LogPath(const std::string& dir, uint64_t base_seq) {
  char digits[kSeqDigits + 1];
  std::snprintf(digits, sizeof digits, "%020llu",
                static_cast<unsigned long long>(base_seq));
  return dir + "/" + std::string(kLogPrefix) + digits;
}

std::string SnapshotPath(const std::string& dir) { return dir + "/snapshot"; }

ipc::Result<std::vector<LogFile>> ListLogs(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ipc::ErrnoStatus("state dir " + dir, errno);
  std::vector<LogFile> logs;
  while (const dirent* entry = ::readdir(d)) {
    uint64_t base = 0;
    if (ParseLogName(entry->d_name, &base)) {
      logs.push_back({dir + "/" + entry->d_name, base});
    }
  }
  ::closedir(d);
  std::sort(logs.begin(), logs.end(), [](const LogFile& a, const LogFile& b) {
    return a.base_seq < b.base_seq;
  });
  return logs;
}

ipc::Result<int> LockStateDir(const std::string& dir) {
  const std::string path = dir + "/LOCK";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return ipc::ErrnoStatus("state dir " + dir + ": cannot create " + path,
                            errno);
  }
  // A daemon's snapshot writer shares its lock and dies with it (a parent
  // death signal), a moment later: while the pid in the file is dead, the
  // lock is waited for, up to kDyingHolderWait.
  constexpr auto kDyingHolderWait = std::chrono::seconds(5);
  const auto give_up = std::chrono::steady_clock::now() + kDyingHolderWait;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char text[32] = {};
    (void)!::pread(fd, text, sizeof text - 1, 0);
    const std::string pid(text, std::strcspn(text, "\n"));
    const bool holder_dead =
        !pid.empty() && ::kill(std::atoi(pid.c_str()), 0) != 0 && errno == ESRCH;
    if (err == EWOULDBLOCK && holder_dead &&
        std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return ipc::Status(ipc::ErrorCode::kAddressInUse,
                         "state dir " + dir + " is in use by another ipcd (pid " +
                             pid + ", holding " + path + ")");
    }
    return ipc::ErrnoStatus("state dir " + dir + ": flock " + path, err);
  }
  const std::string text = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, text.data(), text.size(), 0) !=
          static_cast<ssize_t>(text.size())) {
    const int err = errno;
    ::close(fd);
    return ipc::ErrnoStatus("state dir " + dir + ": cannot write " + path,
                            err);
  }
  return fd;
}

ipc::Status MakeStateDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
    return ipc::Status::Ok();
  }
  return ipc::ErrnoStatus("state dir " + dir + ": cannot create it", errno);
}

void RemoveLeftovers(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* entry = ::readdir(d)) {
    const std::string_view name = entry->d_name;
    if (name == "snapshot.tmp" ||
        (name.starts_with(kLogPrefix) && name.ends_with(".tmp"))) {
      (void)::unlinkat(::dirfd(d), entry->d_name, 0);
    }
  }
  ::closedir(d);
}

ipc::Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ipc::ErrnoStatus("open state dir " + dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ipc::ErrnoStatus("fsync state dir " + dir, err);
  return ipc::Status::Ok();
}

namespace {

// The snapshot: records 1..n, the last one empty.
ipc::Status WalkSnapshot(const std::string& dir, const RecordVisitor& visit,
                         WalkResult* result) {
  auto reader = RecordReader::Open(SnapshotPath(dir), FileKind::kSnapshot);
  if (!reader.ok() && reader.status().code() == ipc::ErrorCode::kNotFound) {
    return ipc::Status::Ok();
  }
  if (!reader.ok()) {
    if (reader.status().code() != ipc::ErrorCode::kProtocolError) {
      return reader.status();
    }
    result->damage = {SnapshotPath(dir), 0, reader.status().message()};
    return ipc::Status::Ok();
  }
  result->has_snapshot = true;
  result->snapshot_seq = reader->base_seq();
  result->snapshot_bytes = static_cast<int64_t>(reader->size());
  result->bytes += static_cast<int64_t>(reader->size());
  Record record;
  uint64_t expected = 1;
  bool ended = false;
  for (;;) {
    const RecordReader::Next next = reader->Read(&record);
    if (next == RecordReader::Next::kEnd) break;
    if (next == RecordReader::Next::kDamaged || ended ||
        record.seq != expected) {
      result->damage = {reader->path(), next == RecordReader::Next::kDamaged
                                            ? reader->offset()
                                            : record.offset,
                        next == RecordReader::Next::kDamaged
                            ? reader->damage()
                            : "a record out of sequence"};
      return ipc::Status::Ok();
    }
    ++expected;
    ++result->snapshot_records;
    ended = record.payload.empty();
    IPC_RETURN_IF_ERROR(visit(record, reader->path()));
  }
  if (!ended) {
    result->damage = {reader->path(), reader->size(),
                      "the snapshot ends without its end record"};
  }
  result->last_seq = result->snapshot_seq;
  return ipc::Status::Ok();
}

}  // namespace

ipc::Status WalkState(const std::string& dir, const RecordVisitor& visit,
                      WalkResult* result) {
  *result = WalkResult();
  IPC_RETURN_IF_ERROR(WalkSnapshot(dir, visit, result));
  if (!result->damage.file.empty()) return ipc::Status::Ok();
  IPC_ASSIGN_OR_RETURN(result->logs, ListLogs(dir));
  for (size_t i = 0; i < result->logs.size(); ++i) {
    const LogFile& log = result->logs[i];
    const bool newest = i + 1 == result->logs.size();
    auto reader = RecordReader::Open(log.path, FileKind::kLog);
    if (!reader.ok()) {
      if (reader.status().code() != ipc::ErrorCode::kProtocolError) {
        return reader.status();
      }
      result->damage = {log.path, 0, reader.status().message()};
      return ipc::Status::Ok();
    }
    result->bytes += static_cast<int64_t>(reader->size());
    if (reader->base_seq() != log.base_seq) {
      result->damage = {log.path, 16,
                        "its header says it follows record " +
                            std::to_string(reader->base_seq()) +
                            ", its name says " + std::to_string(log.base_seq)};
      return ipc::Status::Ok();
    }
    if (log.base_seq > result->last_seq) {
      result->damage = {log.path, 0,
                        "records " + std::to_string(result->last_seq + 1) +
                            " to " + std::to_string(log.base_seq) +
                            " are missing (no snapshot or log holds them)"};
      return ipc::Status::Ok();
    }
    uint64_t expected = log.base_seq + 1;
    Record record;
    for (;;) {
      const RecordReader::Next next = reader->Read(&record);
      if (next == RecordReader::Next::kEnd) break;
      if (next == RecordReader::Next::kRecord && record.seq != expected) {
        result->damage = {log.path, record.offset,
                          "record " + std::to_string(record.seq) +
                              " where record " + std::to_string(expected) +
                              " should be"};
        return ipc::Status::Ok();
      }
      if (next == RecordReader::Next::kDamaged) {
        Place place{log.path, reader->offset(), reader->damage()};
        if (newest && !reader->ValidRecordFollows(expected + 1)) {
          result->torn_tail = place;
        } else {
          result->damage = place;
          return ipc::Status::Ok();
        }
        break;
      }
      ++expected;
      if (record.seq <= result->last_seq) continue;  // In the snapshot.
      result->last_seq = record.seq;
      ++result->log_records;
      IPC_RETURN_IF_ERROR(visit(record, log.path));
    }
    if (newest) {
      result->newest_log = log.path;
      result->newest_log_end = reader->offset();
      result->newest_log_last_seq = expected - 1;
    }
  }
  return ipc::Status::Ok();
}

}  // namespace ipcd::state
