// Fuzz target: ipcd's state loaders, fed what a damaged or hostile state
// directory could hold. The first byte picks the way in:
//   0  the rest as a log file (RecordReader, kLog), every record replayed;
//   1  the rest as a snapshot file (kSnapshot), the same;
//   *  the rest as one record's payload (a StateRecord), replayed: the
//      checksums keep mutations out of the framed ways in, so this is where
//      the replay code meets arbitrary changes.
// Oracle: no crash; a damaged record is reported with an offset inside
// the file; and whatever state the replay built survives a round trip —
// saved as a snapshot's calls (Object::Save) and replayed into an empty
// store, it gives the same objects with the same sizes and bytes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <google/protobuf/stubs/logging.h>

#include "daemon/limits.h"
#include "dispatch/dispatcher.h"
#include "objects/kind.h"
#include "objects/object_store.h"
#include "proto/ipcd_state.pb.h"
#include "state/record_file.h"
#include "state/snapshot.h"

namespace {

[[maybe_unused]] const bool kQuietProtobuf =
    (google::protobuf::SetLogHandler(nullptr), true);

namespace v1 = ipcd::v1;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "state_fuzz: %s\n", what.c_str());
  std::abort();
}

class NoWaiters final : public ipcd::WaiterHost {
 public:
  void ObjectChanged(ipcd::Object*) override {}
  void ObjectDestroying(ipcd::Object*) override {}
  void ObjectWritten(std::string_view, v1::Op, const v1::Call*) override {}
};

// An in-memory snapshot: every saved call in one StateRecord.
class RecordSink final : public ipcd::CallSink {
 public:
  v1::Call* Add() override { return record.add_changes()->mutable_call(); }
  v1::StateRecord record;
};

struct Daemon {
  Daemon() : store(ipcd::Limits()), dispatcher(&store, &host) {
    store.LiftLimits(true);
  }
  ipc::Status Replay(std::string_view payload) {
    ipcd::state::Record record;
    record.seq = 1;
    record.payload = payload;
    return ipcd::state::Replayer(dispatcher, store).Apply(record, "fuzz");
  }
  NoWaiters host;
  ipcd::ObjectStore store;
  ipcd::Dispatcher dispatcher;
};

std::string Describe(const ipcd::ObjectStore& store) {
  std::string out;
  for (const auto& [name, object] : store.objects()) {
    out += name + "/" + std::to_string(object->kind()) + "/" +
           std::to_string(object->Size()) + "/" +
           std::to_string(object->bytes()) + ";";
  }
  return out;
}

void CheckRoundTrip(const Daemon& daemon) {
  RecordSink sink;
  for (const auto& [name, object] : daemon.store.objects()) {
    object->Save(sink);
  }
  std::string payload;
  sink.record.SerializeToString(&payload);
  Daemon again;
  if (ipc::Status replayed = again.Replay(payload); !replayed.ok()) {
    Fail("a saved state does not replay: " + replayed.ToString());
  }
  // Kinds that are not persisted (locks, semaphores, barriers) are not
  // saved, though a damaged log may make them; everything else must come
  // back the same.
  std::string before;
  for (const auto& [name, object] : daemon.store.objects()) {
    if (!ipcd::FindKind(object->kind())->persisted) continue;
    before += name + "/" + std::to_string(object->kind()) + "/" +
              std::to_string(object->Size()) + "/" +
              std::to_string(object->bytes()) + ";";
  }
  if (before != Describe(again.store)) {
    Fail("round trip changed the state:\n  " + before + "\n  " +
         Describe(again.store));
  }
}

void FuzzFile(std::string bytes, ipcd::state::FileKind kind) {
  const size_t size = bytes.size();
  auto reader =
      ipcd::state::RecordReader::FromBytes("fuzz", std::move(bytes), kind);
  if (!reader.ok()) return;
  Daemon daemon;
  ipcd::state::Replayer replayer(daemon.dispatcher, daemon.store);
  ipcd::state::Record record;
  for (;;) {
    const auto next = reader->Read(&record);
    if (next == ipcd::state::RecordReader::Next::kEnd) break;
    if (next == ipcd::state::RecordReader::Next::kDamaged) {
      if (reader->offset() >= size || reader->damage().empty()) {
        Fail("damage reported outside the file or without a reason");
      }
      (void)reader->ValidRecordFollows(record.seq + 1);
      break;
    }
    if (!replayer.Apply(record, "fuzz").ok()) return;
  }
  CheckRoundTrip(daemon);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0]) {
    case 0:
      FuzzFile(rest, ipcd::state::FileKind::kLog);
      break;
    case 1:
      FuzzFile(rest, ipcd::state::FileKind::kSnapshot);
      break;
    default: {
      Daemon daemon;
      if (daemon.Replay(rest).ok()) CheckRoundTrip(daemon);
      break;
    }
  }
  return 0;
}
