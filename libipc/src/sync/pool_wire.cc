#include "sync/pool_wire.h"

namespace ipc::internal::pool_wire {

void Writer::Status(const ipc::Status& status) {
  U32(static_cast<uint32_t>(status.code()));
  U32(static_cast<uint32_t>(status.message().size()));
  out_->append(status.message());
}

void Writer::Tasks(const TasksHeader& header) {
  Kind(pool_wire::Kind::kTasks);
  U64(header.batch);
  U64(header.function.runner);
  U64(header.function.fn);
  U64(header.tag);
  U32(header.count);
}

void Writer::Results(const ResultsHeader& header) {
  Kind(pool_wire::Kind::kResults);
  U64(header.batch);
  U32(header.count);
}

bool Reader::Kind(pool_wire::Kind* kind) {
  if (rest_.empty()) return false;
  const auto v = static_cast<uint8_t>(rest_[0]);
  if (v < static_cast<uint8_t>(pool_wire::Kind::kReady) ||
      v > static_cast<uint8_t>(pool_wire::Kind::kResults)) {
    return false;
  }
  rest_.remove_prefix(1);
  *kind = static_cast<pool_wire::Kind>(v);
  return true;
}

bool Reader::Status(ipc::Status* status) {
  const std::string_view before = rest_;
  uint32_t code = 0;
  std::string_view message;
  if (!U32(&code) || !Bytes(&message) || code == 0 ||
      code > static_cast<uint32_t>(ErrorCode::kInternal)) {
    rest_ = before;
    return false;
  }
  *status = ipc::Status(static_cast<ErrorCode>(code), std::string(message));
  return true;
}

bool Reader::Tasks(TasksHeader* header) {
  const std::string_view before = rest_;
  if (U64(&header->batch) && U64(&header->function.runner) &&
      U64(&header->function.fn) && U64(&header->tag) && U32(&header->count)) {
    return true;
  }
  rest_ = before;
  return false;
}

bool Reader::Results(ResultsHeader* header) {
  const std::string_view before = rest_;
  if (U64(&header->batch) && U32(&header->count)) return true;
  rest_ = before;
  return false;
}

namespace {

// splitmix64's finalizer: every input bit affects every output bit.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t FunctionTag(uint64_t secret, const TaskFunction& function) {
  return Mix(Mix(secret ^ function.runner) ^ function.fn);
}

}  // namespace ipc::internal::pool_wire
