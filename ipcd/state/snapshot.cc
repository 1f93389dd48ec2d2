#include "state/snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "objects/queue.h"
#include "proto/ipcd_state.pb.h"
#include "state/state_dir.h"

namespace ipcd::state {
namespace {

// Cuts the calls objects save into records of about kRecordBytes and
// writes them out as they fill.
class SnapshotSink final : public CallSink {
 public:
  explicit SnapshotSink(int fd) : fd_(fd) {}

  v1::Call* Add() override {
    CountLast();
    if (bytes_ >= kRecordBytes) Flush();
    last_ = record_.add_changes()->mutable_call();
    return last_;
  }

  // Writes what is left and the end record.
  ipc::Status Finish(int64_t* size) {
    CountLast();
    Flush();
    Flush();  // The empty end record.
    *size = static_cast<int64_t>(offset_);
    return error_;
  }

  ipc::Status Start(uint64_t seq) {
    out_ = FileHeader(FileKind::kSnapshot, seq);
    Write();
    return error_;
  }

 private:
  static constexpr size_t kRecordBytes = 1 << 20;

  void CountLast() {
    if (last_ != nullptr) bytes_ += last_->ByteSizeLong() + 8;
    last_ = nullptr;
  }
  void Flush() {
    payload_.clear();
    record_.SerializeToString(&payload_);
    record_.Clear();
    bytes_ = 0;
    AppendRecord(&out_, ++seq_, payload_);
    Write();
  }
  void Write() {
    size_t done = 0;
    while (error_.ok() && done < out_.size()) {
      const ssize_t n = ::pwrite(fd_, out_.data() + done, out_.size() - done,
                                 static_cast<off_t>(offset_));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error_ = ipc::ErrnoStatus("write snapshot", n < 0 ? errno : EIO);
        break;
      }
      done += static_cast<size_t>(n);
      offset_ += static_cast<uint64_t>(n);
    }
    out_.clear();
  }

  int fd_;
  v1::StateRecord record_;
  v1::Call* last_ = nullptr;
  size_t bytes_ = 0;
  uint64_t seq_ = 0;
  uint64_t offset_ = 0;
  std::string payload_;
  std::string out_;
  ipc::Status error_;
};

ipc::Status Refused(const std::string& file, const Record& record,
                    const std::string& what) {
  return ipc::Status(ipc::ErrorCode::kProtocolError,
                     file + ": record " + std::to_string(record.seq) +
                         " at offset " + std::to_string(record.offset) +
                         " does not apply: " + what);
}

}  // namespace

ipc::Status WriteSnapshot(const std::string& dir, const ObjectStore& store,
                          uint64_t seq, int64_t* bytes) {
  const std::string path = SnapshotPath(dir);
  const std::string tmp = path + ".tmp";
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ipc::ErrnoStatus("create " + tmp, errno);
  SnapshotSink sink(fd);
  ipc::Status status = sink.Start(seq);
  for (const auto& [name, object] : store.objects()) {
    if (!status.ok()) break;
    object->Save(sink);
  }
  if (status.ok()) status = sink.Finish(bytes);
  if (status.ok() && ::fdatasync(fd) != 0) {
    status = ipc::ErrnoStatus("fdatasync " + tmp, errno);
  }
  ::close(fd);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ipc::ErrnoStatus("rename " + tmp, errno);
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  return SyncDir(dir);
}

Replayer::Replayer(Dispatcher& dispatcher, ObjectStore& store)
    : dispatcher_(dispatcher), store_(store) {
  ctx_.may_wait = false;
  ctx_.budget = &store.budget();
  ctx_.held_locks = &no_locks_;
}

ipc::Status Replayer::Apply(const Record& record, const std::string& file) {
  arena_.Reset();
  auto* state = google::protobuf::Arena::CreateMessage<v1::StateRecord>(&arena_);
  if (!state->ParseFromArray(record.payload.data(), static_cast<int>(record.payload.size()))) {
    return Refused(file, record, "not an ipcd.v1.StateRecord");
  }
  for (const v1::Change& change : state->changes()) {
    if (change.has_requeue()) {
      Object* queue = store_.Find(change.requeue().queue());
      if (queue == nullptr || queue->kind() != v1::QUEUE) {
        return Refused(file, record,
                       "no queue '" + change.requeue().queue() +
                           "' to give an item back to");
      }
      auto* q = static_cast<Queue*>(queue);
      if (q->capacity() > 0 && q->Size() >= q->capacity()) {
        // The daemon gives an item back only after a GET took it.
        return Refused(file, record,
                       "queue '" + q->name() + "' is full; no item can have "
                       "been taken from it");
      }
      q->Requeue(change.requeue().value(), ctx_);
      continue;
    }
    result_.Clear();
    Object* wait_on = nullptr;
    OpStatus status =
        dispatcher_.Execute(change.call(), ctx_, &result_, &wait_on);
    if (!status.ok()) {
      return Refused(file, record,
                     OpName(change.call().op()) + " '" +
                         change.call().object() + "': " +
                         (status.wait ? "it would wait" : status.message));
    }
  }
  return ipc::Status::Ok();
}

}  // namespace ipcd::state
