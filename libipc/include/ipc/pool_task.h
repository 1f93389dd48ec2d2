// The machinery behind ipc::Pool's templates (see pool.h): how a task's
// function is named across fork(), how its input and output become bytes,
// and the job interface through which the pool's core hands results back.
// Everything here is in ipc::internal: not public, it may change.
#ifndef IPC_POOL_TASK_H_
#define IPC_POOL_TASK_H_

#include <google/protobuf/message_lite.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "ipc/deadline.h"
#include "ipc/result.h"

namespace ipc::internal {

// What a task's input or output may be: a protobuf message, a std::string
// (bytes), or a trivially copyable value (copied as its bytes, which is
// right only because workers run the very same binary, and only for a
// value that holds no pointer: an address means nothing in the other
// process).
template <typename T>
concept ProtoMessage = std::is_base_of_v<google::protobuf::MessageLite, T>;
template <typename T>
concept FixedSizeTaskValue =
    std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> &&
    !ProtoMessage<T>;
template <typename T>
concept TaskValue =
    ProtoMessage<T> || std::is_same_v<T, std::string> || FixedSizeTaskValue<T>;

// A variable-size value (fixed-size ones are written by AppendItem).
template <typename T>
void EncodeTaskValue(const T& value, std::string* out) {
  if constexpr (ProtoMessage<T>) {
    value.AppendToString(out);
  } else {
    out->append(value);
  }
}

// False when bytes are not a T (a truncated value, a message that does not
// parse).
template <typename T>
bool DecodeTaskValue(std::string_view bytes, T* value) {
  if constexpr (ProtoMessage<T>) {
    return value->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  } else if constexpr (std::is_same_v<T, std::string>) {
    value->assign(bytes);
    return true;
  } else {  // FixedSizeTaskValue
    if (bytes.size() != sizeof(T)) return false;
    std::memcpy(static_cast<void*>(value), bytes.data(), sizeof(T));
    return true;
  }
}

// A task function's output as the caller sees it: Result<T> returns T (its
// error becomes the task's error).
template <typename R>
struct TaskOutputOf {
  using type = R;
  static constexpr bool kIsResult = false;
};
template <typename T>
struct TaskOutputOf<Result<T>> {
  using type = T;
  static constexpr bool kIsResult = true;
};

// Out f(In) or Out f(const In&), from a function pointer; captureless
// lambdas get there through unary +.
template <typename Fn>
struct TaskSignature;
template <typename R, typename A>
struct TaskSignature<R (*)(A)> {
  using Input = std::remove_cvref_t<A>;
  using Returned = R;
  using Output = typename TaskOutputOf<R>::type;
};
template <typename F>
using TaskPointer = decltype(+std::declval<F>());
template <typename F>
using TaskInput = typename TaskSignature<TaskPointer<F>>::Input;
template <typename F>
using TaskOutput = typename TaskSignature<TaskPointer<F>>::Output;

template <typename F>
concept TaskFunctionPointer = requires(F f) {
  { +f } -> std::same_as<TaskPointer<F>>;
  typename TaskSignature<TaskPointer<F>>::Input;
};
template <typename F>
concept PoolTask = TaskFunctionPointer<F> && TaskValue<TaskInput<F>> &&
    TaskValue<TaskOutput<F>>;

// How a batch's tasks lie inside the pool's frames (the frames around
// them are in the sources, sync/pool_wire.h): its inputs, and later its
// outcomes, each in one of two layouts:
//   kEach    u8 0, count x item
//   kPacked  u8 1, u32 size, count x bytes of that size
// An input item is (u32 length, bytes); an outcome item is (u8 1, u32
// length, output bytes) or (u8 0, u32 code, u32 length, message). kPacked
// carries fixed-size values, for outcomes only when no task of the batch
// failed: a batch of small values is then one copy each way, with no work
// per task. Integers in host byte order: both ends are the same binary.
enum class ItemLayout : uint8_t { kEach = 0, kPacked = 1 };

inline void AppendU32(uint32_t v, std::string* out) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

// Appends value as an input item (u32 length, bytes) or, with
// success_mark, as a successful outcome item (u8 1, u32 length, bytes).
template <typename T>
void AppendItem(const T& value, std::string* out, bool success_mark = false) {
  if (success_mark) out->push_back(1);
  if constexpr (FixedSizeTaskValue<T>) {
    AppendU32(sizeof(T), out);
    out->append(reinterpret_cast<const char*>(&value), sizeof(T));
  } else {
    const size_t at = out->size();
    AppendU32(0, out);
    EncodeTaskValue(value, out);
    const auto length =
        static_cast<uint32_t>(out->size() - at - sizeof(uint32_t));
    std::memcpy(out->data() + at, &length, sizeof length);
  }
}

// Appends a batch's inputs: fixed-size values packed, in one copy.
template <typename T>
void AppendInputs(std::span<const T> values, std::string* out) {
  if constexpr (FixedSizeTaskValue<T>) {
    out->push_back(static_cast<char>(ItemLayout::kPacked));
    AppendU32(sizeof(T), out);
    out->append(reinterpret_cast<const char*>(values.data()),
                values.size_bytes());
  } else {
    out->push_back(static_cast<char>(ItemLayout::kEach));
    for (const T& value : values) AppendItem(value, out);
  }
}

// A batch's inputs as a worker received them (checked against the frame's
// size already).
struct TaskInputs {
  size_t count = 0;
  bool packed = false;
  size_t packed_size = 0;                  // packed: the size of each input
  std::string_view packed_bytes;           // packed: count x packed_size bytes
  std::span<const std::string_view> each;  // not packed
  std::string_view operator[](size_t i) const {
    return packed ? packed_bytes.substr(i * packed_size, packed_size) : each[i];
  }
};

// The outcome item of a failed task.
inline void AppendFailure(const Status& status, std::string* out) {
  out->push_back(0);
  AppendU32(static_cast<uint32_t>(status.code()), out);
  AppendU32(static_cast<uint32_t>(status.message().size()), out);
  out->append(status.message());
}

// The error of a task that threw: what() of a std::exception, "unknown
// exception" otherwise. Call from a catch block.
Status CurrentExceptionStatus(std::string_view what);

// Runs one task: decodes its input, calls fn, stores the output. Never
// throws: a thrown exception is the task's error.
template <typename Fn>
Status RunTask(Fn function, std::string_view input,
               typename TaskSignature<Fn>::Output* output) {
  using Signature = TaskSignature<Fn>;
  try {
    typename Signature::Input in{};
    if (!DecodeTaskValue(input, &in)) {
      return Status(ErrorCode::kProtocolError,
                    "the task's input did not decode");
    }
    typename Signature::Returned out = function(in);
    if constexpr (TaskOutputOf<typename Signature::Returned>::kIsResult) {
      if (!out.ok()) return out.status();
      *output = std::move(*out);
    } else {
      *output = std::move(out);
    }
    return Status::Ok();
  } catch (...) {
    return CurrentExceptionStatus("the task");
  }
}

// Runs in a worker: runs every input's task and appends the batch's
// outcomes. One instantiation per function type; its address and fn's
// travel to the worker, valid there because the worker is a fork of this
// process. The loop is here, not in the worker, so that decoding, the call
// and encoding are compiled together for the types at hand.
using TaskRunner = void (*)(uintptr_t fn, const TaskInputs& inputs,
                            std::string* outcomes);

template <typename Fn>
void RunTasks(uintptr_t fn, const TaskInputs& inputs, std::string* outcomes) {
  using Output = typename TaskSignature<Fn>::Output;
  const auto function = reinterpret_cast<Fn>(fn);
  Output output{};
  size_t i = 0;
  if constexpr (FixedSizeTaskValue<Output>) {
    const size_t layout_at = outcomes->size();
    outcomes->push_back(static_cast<char>(ItemLayout::kPacked));
    AppendU32(sizeof(Output), outcomes);
    const size_t packed_at = outcomes->size();
    outcomes->resize(packed_at + inputs.count * sizeof(Output));
    Status status;
    for (; i < inputs.count; ++i) {
      status = RunTask(function, inputs[i], &output);
      if (!status.ok()) break;
      std::memcpy(outcomes->data() + packed_at + i * sizeof(Output), &output,
                  sizeof(Output));
    }
    if (i == inputs.count) return;
    // Task i failed: the batch goes out as kEach after all, starting with
    // the outputs packed before it.
    const std::string packed = outcomes->substr(packed_at, i * sizeof(Output));
    outcomes->resize(layout_at);
    outcomes->push_back(static_cast<char>(ItemLayout::kEach));
    for (size_t j = 0; j < i; ++j) {
      std::memcpy(&output, packed.data() + j * sizeof(Output), sizeof(Output));
      AppendItem(output, outcomes, /*success_mark=*/true);
    }
    AppendFailure(status, outcomes);
    ++i;
  } else {
    outcomes->push_back(static_cast<char>(ItemLayout::kEach));
  }
  for (; i < inputs.count; ++i) {
    Status status = RunTask(function, inputs[i], &output);
    if (status.ok()) {
      AppendItem(output, outcomes, /*success_mark=*/true);
    } else {
      AppendFailure(status, outcomes);
    }
  }
}

// The two addresses that name a task's function in a worker.
struct TaskFunction {
  uintptr_t runner = 0;
  uintptr_t fn = 0;
};

// Views are trivially copyable but are only a pointer to someone else's
// bytes; refused by name, since the concepts cannot tell them from values.
template <typename T>
inline constexpr bool kIsView = false;
template <typename C, typename Traits>
inline constexpr bool kIsView<std::basic_string_view<C, Traits>> = true;
template <typename T, size_t N>
inline constexpr bool kIsView<std::span<T, N>> = true;

template <typename F>
TaskFunction MakeTaskFunction(F fn) {
  static_assert(!kIsView<TaskInput<F>> && !kIsView<TaskOutput<F>>,
                "ipc::Pool: a task's input and output cannot be a "
                "std::string_view or std::span (its bytes would stay behind "
                "in the other process); use std::string or a protobuf message");
  using Fn = TaskPointer<F>;
  return {reinterpret_cast<uintptr_t>(&RunTasks<Fn>),
          reinterpret_cast<uintptr_t>(+fn)};
}

// One Map, ImapUnordered or ApplyAsync call as the pool's core sees it:
// `size` tasks of one function. The core asks for inputs when it sends a
// batch (again if a worker died holding it) and hands each task's outcome
// back exactly once, unless the job was cancelled first.
class PoolJob {
 public:
  PoolJob(TaskFunction task_function, size_t tasks)
      : function(task_function), size(tasks), unfinished(tasks) {}
  virtual ~PoolJob() = default;
  PoolJob(const PoolJob&) = delete;
  PoolJob& operator=(const PoolJob&) = delete;

  // Appends the input items of tasks [begin, end).
  virtual void EncodeInputs(size_t begin, size_t end,
                            std::string* out) const = 0;
  // Task `index` returned these bytes.
  virtual void Deliver(size_t index, std::string_view output) = 0;
  // Tasks [begin, begin + count) returned these outputs of item_size
  // bytes each, one after the other (ItemLayout::kPacked). False when
  // item_size is not that of the job's output type.
  virtual bool DeliverPacked(size_t begin, size_t count, size_t item_size,
                             std::string_view outputs) {
    for (size_t i = 0; i < count; ++i) {
      Deliver(begin + i, outputs.substr(i * item_size, item_size));
    }
    return true;
  }
  // Task `index` failed (the task's own error, its worker's death, ...).
  virtual void Fail(size_t index, Status status) = 0;

  const TaskFunction function;
  const size_t size;
  // Kept by the core: tasks without an outcome yet; after Cancel, the core
  // never touches the job's inputs or outputs again.
  size_t unfinished;
  bool cancelled = false;
};

// Decodes a task's output for a job's Deliver.
template <typename T>
Result<T> DecodeTaskOutput(std::string_view bytes) {
  T value{};
  if (!DecodeTaskValue(bytes, &value)) {
    return Status(ErrorCode::kProtocolError, "a task's output did not decode");
  }
  return value;
}

class PoolCore;
// Queues the job's tasks in batches of chunksize. kClosed after Close() or
// Terminate() (or when the pool broke: the reason).
Status SubmitPoolJob(PoolCore& core, std::shared_ptr<PoolJob> job,
                     size_t chunksize);
// Sends what workers may take and handles what they sent back, waiting
// until something happened or the deadline passed; deadline.ExpiredStatus
// once it has passed, even if something was handled.
Status PumpPool(PoolCore& core, Deadline deadline);
// Forgets the job's tasks that are not done; the core never calls it again.
void CancelPoolJob(PoolCore& core, PoolJob& job);

// Cancels a job that is not finished when the call running it ends, however
// it ends (a deadline, an exception from on_result or from decoding): its
// batches not sent yet read the caller's inputs, which may be gone then.
class CancelUnlessFinished {
 public:
  CancelUnlessFinished(PoolCore& core, PoolJob& job) : core_(core), job_(job) {}
  ~CancelUnlessFinished() {
    if (job_.unfinished > 0) CancelPoolJob(core_, job_);
  }
  CancelUnlessFinished(const CancelUnlessFinished&) = delete;
  CancelUnlessFinished& operator=(const CancelUnlessFinished&) = delete;

 private:
  PoolCore& core_;
  PoolJob& job_;
};

}  // namespace ipc::internal

#endif  // IPC_POOL_TASK_H_
