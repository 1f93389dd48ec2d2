// The frames between ipc::Pool's parent and its workers, one per channel
// message, and the bounds-checked reader and writer for them.
//
//   parent -> worker
//     Tasks    u8 kind, u64 batch, u64 runner, u64 fn, u64 tag, u32 count,
//              the batch's inputs
//     Exit     u8 kind
//   worker -> parent
//     Ready       u8 kind                    (the initializer succeeded)
//     InitFailed  u8 kind, status
//     Results     u8 kind, u64 batch, u32 count, the batch's outcomes,
//                 u64 run_ns (the worker's time running the batch)
//   status = u32 code, u32 length, message bytes
// A batch's inputs and outcomes (a task's output or its error status) are
// laid out as ipc/pool_task.h says (ItemLayout), where the templates that
// make them live.
//
// Both ends are the same binary on the same host, so integers are in host
// byte order. Every read is checked against the bytes left; a frame that
// does not parse is the sender's error, never undefined behaviour.
#ifndef IPC_SRC_SYNC_POOL_WIRE_H_
#define IPC_SRC_SYNC_POOL_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "ipc/pool_task.h"
#include "ipc/status.h"

namespace ipc::internal::pool_wire {

enum class Kind : uint8_t {
  kReady = 1,
  kInitFailed = 2,
  kTasks = 3,
  kExit = 4,
  kResults = 5,
};

struct TasksHeader {
  uint64_t batch = 0;
  TaskFunction function;
  // FunctionTag of function: a worker runs only addresses its parent sent.
  uint64_t tag = 0;
  uint32_t count = 0;
};

struct ResultsHeader {
  uint64_t batch = 0;
  uint32_t count = 0;
};

// Appends fields to *out.
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  void Kind(pool_wire::Kind kind) { U8(static_cast<uint8_t>(kind)); }
  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { Raw(&v, sizeof v); }
  void U64(uint64_t v) { Raw(&v, sizeof v); }
  void Status(const ipc::Status& status);
  void Tasks(const TasksHeader& header);
  void Results(const ResultsHeader& header);

 private:
  void Raw(const void* p, size_t n) {
    out_->append(static_cast<const char*>(p), n);
  }
  std::string* out_;
};

// Reads fields from a frame; each call is false (and reads nothing) when
// the frame is too short or the field is out of range.
class Reader {
 public:
  explicit Reader(std::string_view frame) : rest_(frame) {}
  bool Kind(pool_wire::Kind* kind);
  bool U8(uint8_t* v) { return Raw(v, sizeof *v); }
  bool U32(uint32_t* v) { return Raw(v, sizeof *v); }
  bool U64(uint64_t* v) { return Raw(v, sizeof *v); }
  bool Bytes(std::string_view* bytes) {
    uint32_t length = 0;
    if (rest_.size() < sizeof length) return false;
    std::memcpy(&length, rest_.data(), sizeof length);
    if (rest_.size() - sizeof length < length) return false;
    *bytes = rest_.substr(sizeof length, length);
    rest_.remove_prefix(sizeof length + length);
    return true;
  }
  bool Status(ipc::Status* status);
  // The next n bytes, as they are.
  bool View(size_t n, std::string_view* bytes) {
    if (rest_.size() < n) return false;
    *bytes = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }
  // An outcome: the output's bytes, or the error (*output untouched then).
  // Inline: it runs once per task.
  bool Outcome(std::string_view* output, ipc::Status* error) {
    uint8_t ok = 0;
    const std::string_view before = rest_;
    if (U8(&ok) && ((ok == 1 && Bytes(output)) || (ok == 0 && Status(error))))
      return true;
    rest_ = before;
    return false;
  }
  bool Tasks(TasksHeader* header);
  bool Results(ResultsHeader* header);
  bool AtEnd() const { return rest_.empty(); }

 private:
  bool Raw(void* p, size_t n) {
    if (rest_.size() < n) return false;
    std::memcpy(p, rest_.data(), n);
    rest_.remove_prefix(n);
    return true;
  }
  std::string_view rest_;
};

// A keyed mix of a task function's two addresses with the pool's random
// secret, which the workers inherit. A frame that was not built by the
// parent (garbage, a stray writer) cannot name a function the worker would
// jump to except by a 1 in 2^64 chance. Not a defence against code that
// can read the parent's memory.
uint64_t FunctionTag(uint64_t secret, const TaskFunction& function);

}  // namespace ipc::internal::pool_wire

#endif  // IPC_SRC_SYNC_POOL_WIRE_H_
