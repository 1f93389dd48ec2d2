#include "state/journal.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include <google/protobuf/io/coded_stream.h>

#include "daemon/log.h"
#include "state/record_file.h"
#include "state/state_dir.h"

namespace ipcd::state {
namespace {

// Space is reserved in steps of this much, or of what one change needs
// when the disk has less.
constexpr uint64_t kReserveStep = 8u << 20;
// Records from this size up are written with pwrite, smaller ones copied
// into the mapped log (WriteRecord).
constexpr size_t kMappedRecordMax = 4096;
// The written part of the mapped log is handed back to the kernel in
// steps of this much (see ReleaseWrittenPages).
constexpr uint64_t kReleaseStep = 256u << 10;
// Wire tags (field number << 3 | length-delimited) of proto/ipcd_state.proto:
// StateRecord.changes = 1, Change.call = 1, Change.requeue = 2.
constexpr uint8_t kChangesField = (1 << 3) | 2;
constexpr uint8_t kCallField = (1 << 3) | 2;
constexpr uint8_t kRequeueField = (2 << 3) | 2;
// A record that has grown this big ends with the request that grew it:
// larger records would only widen what a torn append loses.
constexpr size_t kRecordTarget = 64u << 10;
// After a failed snapshot, the next try waits this long.
constexpr std::chrono::seconds kSnapshotRetry{30};

int64_t UnixMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
}

bool WriteAllBytes(int fd, const char* data, size_t size, uint64_t offset,
                   int* err) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *err = n < 0 ? errno : EIO;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace

const char* FsyncPolicyName(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kEverySec:
      return "everysec";
    case FsyncPolicy::kNo:
      return "no";
  }
  return "?";
}

bool ParseFsyncPolicy(std::string_view text, FsyncPolicy* policy) {
  for (FsyncPolicy p :
       {FsyncPolicy::kAlways, FsyncPolicy::kEverySec, FsyncPolicy::kNo}) {
    if (text == FsyncPolicyName(p)) {
      *policy = p;
      return true;
    }
  }
  return false;
}

Journal::Journal(const Config& config) : config_(config) {
  last_seq_ = synced_seq_ = config.last_seq;
  snapshot_bytes_ = config.snapshot_bytes;
  records_since_snapshot_ = config.records_since_snapshot;
}

ipc::Result<std::unique_ptr<Journal>> Journal::Open(const Config& config) {
  std::unique_ptr<Journal> journal(new Journal(config));
  if (config.log_path.empty()) {
    IPC_RETURN_IF_ERROR(journal->CreateLog(config.last_seq));
  } else {
    IPC_RETURN_IF_ERROR(journal->OpenLog(config.log_path, config.log_end));
  }
  if (config.fsync == FsyncPolicy::kEverySec) {
    // The thread starts with every signal blocked: SIGTERM and SIGCHLD must
    // reach the event loop's signalfd, never this thread.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    journal->sync_thread_ = std::thread([j = journal.get()] { j->SyncLoop(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  return journal;
}

Journal::~Journal() { Close(); }

ipc::Status Journal::OpenLog(const std::string& path, uint64_t end) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return ipc::ErrnoStatus("open " + path, errno);
  // Cuts a torn last record (and space reserved past the records).
  if (::ftruncate(fd, static_cast<off_t>(end)) != 0 || ::fdatasync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return ipc::ErrnoStatus("truncate " + path, err);
  }
  fd_ = fd;
  path_ = path;
  file_end_ = reserved_end_ = end;
  log_bytes_ = static_cast<int64_t>(end);
  return ipc::Status::Ok();
}

ipc::Status Journal::CreateLog(uint64_t base_seq) {
  // Written whole under a temporary name, then renamed: a log file always
  // has its header.
  const std::string path = LogPath(config_.dir, base_seq);
  const std::string tmp = path + ".tmp";
  const int fd =
      ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ipc::ErrnoStatus("create " + tmp, errno);
  const std::string header = FileHeader(FileKind::kLog, base_seq);
  int err = 0;
  if (!WriteAllBytes(fd, header.data(), header.size(), 0, &err) ||
      ::fdatasync(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (err == 0) err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return ipc::ErrnoStatus("create " + path, err);
  }
  if (ipc::Status synced = SyncDir(config_.dir); !synced.ok()) {
    ::close(fd);
    return synced;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fd_ = fd;
    path_ = path;
  }
  // The ended log's mapping goes before FinishEndedLog truncates the file
  // under it; its pages stay in the page cache for that fdatasync.
  Unmap();
  file_end_ = reserved_end_ = header.size();
  can_reserve_ = true;
  return ipc::Status::Ok();
}

OpStatus Journal::Reserve(size_t bytes) {
  const uint64_t need = file_end_ + open_size_ +
                        bytes + 2 * kRecordHeaderBytes + 64;
  if (need <= reserved_end_ || !can_reserve_) return OpStatus::Ok();
  uint64_t step = std::max<uint64_t>(kReserveStep, need - reserved_end_);
  for (;;) {
    if (::fallocate(fd_, 0, static_cast<off_t>(reserved_end_), static_cast<off_t>(step)) == 0) {
      reserved_end_ += step;
      MapReserved();
      return OpStatus::Ok();
    }
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EOPNOTSUPP) {
      can_reserve_ = false;
      LogWarning("state dir " + config_.dir +
                 ": the file system cannot reserve space (fallocate: " +
                 std::strerror(err) +
                 "); a full disk will stop ipcd instead of refusing changes");
      return OpStatus::Ok();
    }
    if (err == ENOSPC && step > need - reserved_end_) {
      step = need - reserved_end_;  // Try for just this change.
      continue;
    }
    last_write_error_ = std::string("reserving log space: ") +
                        std::strerror(err);
    return OpStatus::Error(
        v1::RESOURCE_EXHAUSTED,
        "state dir " + config_.dir + ": cannot make room in the log (" +
            std::strerror(err) + "); the change was not applied");
  }
}

void Journal::Add(const v1::Call& call, size_t size) {
  AppendChange(kCallField, call, size);
}

void Journal::AddRequeue(const std::string& queue, const v1::Value& value) {
  v1::Requeue requeue;
  requeue.set_queue(queue);
  *requeue.mutable_value() = value;
  AppendChange(kRequeueField, requeue, requeue.ByteSizeLong());
}

void Journal::AddCallBytes(std::string_view call) {
  std::memcpy(AppendChangeHead(kCallField, call.size()), call.data(), call.size());
}

void Journal::AppendChange(uint8_t field,
                           const google::protobuf::MessageLite& message,
                           size_t size) {
  message.SerializeWithCachedSizesToArray(AppendChangeHead(field, size));
}

uint8_t* Journal::AppendChangeHead(uint8_t field, size_t size) {
  // The bytes a StateRecord with this one more Change would have, written
  // straight into the record: no copy of the message, no second pass.
  using google::protobuf::io::CodedOutputStream;
  const size_t change =
      1 + CodedOutputStream::VarintSize32(static_cast<uint32_t>(size)) + size;
  // The record's header goes first; EndRecord fills it in.
  if (open_size_ == 0) OpenRecordRoom(kRecordHeaderBytes);
  auto* p = reinterpret_cast<uint8_t*>(OpenRecordRoom(
      1 + CodedOutputStream::VarintSize32(static_cast<uint32_t>(change)) + change));
  *p++ = kChangesField;
  p = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(change), p);
  *p++ = field;
  return CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(size), p);
}

char* Journal::OpenRecordRoom(size_t n) {
  if (open_size_ + n > open_record_.size()) {
    open_record_.resize(std::max<size_t>(2 * (open_size_ + n), 256));
  }
  char* at = open_record_.data() + open_size_;
  open_size_ += n;
  return at;
}

uint64_t Journal::EndRequest() {
  if (open_size_ == requests_end_) return 0;  // It added nothing.
  requests_end_ = open_size_;
  const uint64_t seq = open_seq();
  if (open_size_ >= kRecordTarget) EndRecord();
  return seq;
}

uint64_t Journal::EndRecord() {
  requests_end_ = 0;
  if (open_size_ == 0) return 0;
  FrameRecord(open_record_.data(), ++last_seq_, open_size_ - kRecordHeaderBytes);
  ++records_since_snapshot_;
  WriteRecord(open_record_.data(), open_size_);
  open_size_ = 0;
  return last_seq_;
}

void Journal::WriteRecord(const char* record, size_t size) {
  // Into the page cache either way, in the kernel, so a SIGKILL of ipcd
  // loses nothing written. A small record (a loop turn of a few changes)
  // is copied into the mapping: no system call. From a page up, pwrite
  // costs less than the page faults of the mapping. One copy or write per
  // record: a kill tears at most the record being written, with only
  // zeros after it.
  if (size < kMappedRecordMax && file_end_ + size <= map_len_) {
    std::memcpy(map_ + file_end_, record, size);
  } else if (int err = 0; !WriteAllBytes(fd_, record, size, file_end_, &err)) {
    Fail("writing " + path_, err);
  }
  file_end_ += size;
  log_bytes_ += static_cast<int64_t>(size);
  if (file_end_ > reserved_end_) reserved_end_ = file_end_;
  written_for_sync_.store(last_seq_, std::memory_order_release);
  ReleaseWrittenPages();
}

void Journal::MapReserved() {
  // Only space fallocate has given: a page of the mapping without its
  // blocks would raise SIGBUS instead of an error when the disk is full.
  void* map = map_ == nullptr
                  ? ::mmap(nullptr, reserved_end_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0)
                  : ::mremap(map_, map_len_, reserved_end_, MREMAP_MAYMOVE);
  if (map == MAP_FAILED) {
    // Correct without it: WriteRecord writes what the mapping lacks.
    LogWarning("state dir " + config_.dir + ": cannot map the log (" + std::strerror(errno) +
               "); writing it with a system call per loop turn");
    Unmap();
    return;
  }
  map_ = static_cast<char*>(map);
  map_len_ = reserved_end_;
}

void Journal::Unmap() {
  if (map_ != nullptr) ::munmap(map_, map_len_);
  map_ = nullptr;
  map_len_ = 0;
  released_end_ = 0;
}

void Journal::ReleaseWrittenPages() {
  // A page the loop has finished writing stays mapped, and dirty, until
  // its writeback, which must then write-protect it in the loop's page
  // table: a TLB shootdown (an interrupt of the loop's CPU) per page, once
  // a second under everysec. Unmapped here, a whole step at a time, its
  // writeback finds no mapping. MADV_DONTNEED on a shared file mapping
  // drops only the mapping: the dirty pages stay in the page cache, to be
  // written back as any others.
  const uint64_t written = std::min(file_end_, map_len_) & ~(kReleaseStep - 1);
  if (written < released_end_ + kReleaseStep) return;
  (void)::madvise(map_ + released_end_, written - released_end_, MADV_DONTNEED);
  released_end_ = written;
}

void Journal::SyncNow() {
  if (::fdatasync(fd_) != 0) Fail("fdatasync " + path_, errno);
  synced_seq_ = last_seq_;
  last_sync_unix_ms_.store(UnixMs(), std::memory_order_relaxed);
}

void Journal::WriteAll() {
  EndRecord();
  MakeDurable(last_seq_);
}

void Journal::MakeDurable(uint64_t seq) {
  if (seq > last_seq_ && open_size_ == requests_end_) EndRecord();
  if (config_.fsync == FsyncPolicy::kAlways && seq > synced_seq_) SyncNow();
}

void Journal::SyncLoop() {
  // A descriptor table of its own. Shared by two threads, the table makes
  // each of the loop's system calls on a socket take and drop a reference
  // to its file, where a table one thread uses needs neither (about a
  // tenth of the loop's time under a pipelined load, measured). So this
  // thread keeps only stdin, stdout and stderr, and opens the log by name.
  const bool own_table = ::close_range(3, ~0U, CLOSE_RANGE_UNSHARE) == 0;
  if (!own_table) {
    LogWarning(std::string("state: the everysec thread shares the loop's descriptors (close_range: ") +
               std::strerror(errno) + ")");
  }
  int fd = -1;
  std::string fd_path;
  // Not what is written when this thread starts: it may start after the
  // first records were written (a busy machine), and they need a sync too.
  // At worst the first turn syncs records that were already on disk.
  uint64_t synced = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::seconds(1));
    const uint64_t written = written_for_sync_.load(std::memory_order_acquire);
    if (stop_ || written == synced || fd_ < 0) continue;
    int err = 0;
    if (own_table) {
      const std::string path = path_;
      lock.unlock();  // The loop may start a new log meanwhile.
      if (path != fd_path) {
        if (fd >= 0) ::close(fd);
        fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        fd_path = fd >= 0 ? path : std::string();
      }
      err = fd < 0 ? errno : ::fdatasync(fd) != 0 ? errno : 0;
      lock.lock();
    } else if (::fdatasync(fd_) != 0) {  // Under mutex_: fd_ stays open.
      err = errno;
    }
    if (err != 0) {
      LogError("state dir " + config_.dir + ": fdatasync of the log: " + std::strerror(err));
      continue;
    }
    synced = written;
    last_sync_unix_ms_.store(UnixMs(), std::memory_order_relaxed);
  }
  if (fd >= 0) ::close(fd);
}

void Journal::Close() {
  if (sync_thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    sync_thread_.join();
  }
  if (fd_ < 0) return;
  WriteAll();
  (void)::fdatasync(fd_);
  Unmap();
  (void)::ftruncate(fd_, static_cast<off_t>(file_end_));  // Reserved space.
  ::close(fd_);
  fd_ = -1;
}

bool Journal::SnapshotDue() const {
  return records_since_snapshot_ > 0 &&
         std::chrono::steady_clock::now() >= snapshot_retry_ &&
         log_bytes_ > std::max(config_.snapshot_after_bytes, snapshot_bytes_);
}

ipc::Result<Journal::EndedLog> Journal::StartNewLog() {
  WriteAll();
  const EndedLog ended{fd_, file_end_};
  const std::string old_path = path_;
  if (ipc::Status made = CreateLog(last_seq_); !made.ok()) {
    // Go on appending to the old log.
    std::lock_guard<std::mutex> lock(mutex_);
    fd_ = ended.fd;
    path_ = old_path;
    return made;
  }
  // Its reserved space goes now (no sync: cheap), not in FinishEndedLog:
  // a stop or a crash before the snapshot finishes leaves no zeros behind.
  if (::ftruncate(ended.fd, static_cast<off_t>(ended.end)) != 0) {
    LogWarning("state dir " + config_.dir + ": cannot free the space reserved in " +
               old_path + " (" + std::strerror(errno) + "); its zeros stay until it is removed");
  }
  return ended;
}

ipc::Status Journal::FinishEndedLog(const EndedLog& log) {
  // Its records are written; under everysec the last second of them may
  // not be synced yet.
  if (::fdatasync(log.fd) != 0) return ipc::ErrnoStatus("fdatasync of the ended log", errno);
  return ipc::Status::Ok();
}

void Journal::SnapshotFinished(bool ok, uint64_t seq, int64_t bytes) {
  if (!ok) {
    // Not again at once: what failed (a full disk?) rarely passes quickly.
    snapshot_retry_ = std::chrono::steady_clock::now() + kSnapshotRetry;
    return;
  }
  snapshot_bytes_ = bytes;
  last_snapshot_unix_ms_ = UnixMs();
  // Logs that end at or before seq hold nothing the snapshot lacks: each
  // log ends where the next one begins.
  auto logs = ListLogs(config_.dir);
  if (!logs.ok()) return;
  for (size_t i = 0; i + 1 < logs->size(); ++i) {
    if ((*logs)[i + 1].base_seq <= seq) ::unlink((*logs)[i].path.c_str());
  }
  log_bytes_ = static_cast<int64_t>(file_end_);
  records_since_snapshot_ = static_cast<int64_t>(last_seq_ - seq);
}

void Journal::FillStats(v1::Persistence* stats) const {
  stats->set_state_dir(config_.dir);
  stats->set_fsync(FsyncPolicyName(config_.fsync));
  stats->set_log_bytes(log_bytes_);
  stats->set_records_since_snapshot(records_since_snapshot_);
  stats->set_snapshot_bytes(snapshot_bytes_);
  stats->set_last_sync_unix_ms(
      last_sync_unix_ms_.load(std::memory_order_relaxed));
  stats->set_last_snapshot_unix_ms(last_snapshot_unix_ms_);
  stats->set_last_write_error(last_write_error_);
  stats->set_last_seq(static_cast<int64_t>(last_seq_));
}

[[noreturn]] void Journal::Fail(const std::string& what, int err) {
  LogError("state dir " + config_.dir + ": " + what + ": " +
           std::strerror(err) +
           "; exiting, so that nothing the disk does not hold is "
           "acknowledged (a restart recovers every acknowledged change)");
  std::_Exit(1);
}

}  // namespace ipcd::state
