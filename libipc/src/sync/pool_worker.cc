#include "sync/pool_worker.h"

#include <unistd.h>

#include <chrono>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sync/pool_wire.h"

namespace ipc::internal {
namespace {

using pool_wire::Reader;
using pool_wire::Writer;

// The frames one read may take: enough to amortize the system calls when
// the parent sends many small batches.
constexpr size_t kFramesPerRead = 64;

Status RunInitializer(const std::function<Status()>& initializer) {
  if (!initializer) return Status::Ok();
  try {
    return initializer();
  } catch (...) {
    return CurrentExceptionStatus("the pool initializer");
  }
}

class Worker {
 public:
  Worker(Channel channel, uint64_t secret)
      : channel_(std::move(channel)), secret_(secret) {}

  [[noreturn]] void Run(const std::function<Status()>& initializer) {
    std::string frame;
    Writer writer(&frame);
    const Status init = RunInitializer(initializer);
    if (init.ok()) {
      writer.Kind(pool_wire::Kind::kReady);
    } else {
      writer.Kind(pool_wire::Kind::kInitFailed);
      writer.Status(init);
    }
    if (!channel_.Send(frame).ok() || !init.ok()) _exit(0);
    for (;;) {
      frames_.clear();
      Status received = channel_.ReceiveAvailable(&frames_, kFramesPerRead);
      for (const std::string& f : frames_) Handle(f);
      if (received.code() == ErrorCode::kWouldBlock) {
        // Nothing whole has arrived: wait for the next frame, into a buffer
        // kept from call to call (a large batch then costs no new memory).
        received = channel_.Receive(&waited_);
        if (received.ok()) Handle(waited_);
      }
      // The parent closed its end or is gone: nobody wants results.
      if (!received.ok()) _exit(0);
    }
  }

 private:
  void Handle(std::string_view frame) {
    Reader reader(frame);
    pool_wire::Kind kind;
    if (!reader.Kind(&kind)) _exit(kPoolWorkerBadFrameExit);
    if (kind == pool_wire::Kind::kExit && reader.AtEnd()) _exit(0);
    pool_wire::TasksHeader header;
    if (kind != pool_wire::Kind::kTasks || !reader.Tasks(&header) ||
        header.tag != pool_wire::FunctionTag(secret_, header.function) ||
        !ReadInputs(reader, header.count)) {
      _exit(kPoolWorkerBadFrameExit);
    }
    RunBatch(header);
    Status sent = channel_.Send(results_);
    if (sent.code() == ErrorCode::kMessageTooLarge) {
      FailBatch(header, sent);
      sent = channel_.Send(results_);
    }
    if (!sent.ok()) _exit(0);
  }

  // The whole frame is checked before any of its tasks runs.
  bool ReadInputs(Reader& reader, uint32_t count) {
    uint8_t layout = 0;
    if (!reader.U8(&layout)) return false;
    inputs_ = TaskInputs{.count = count};
    if (layout == static_cast<uint8_t>(ItemLayout::kPacked)) {
      uint32_t size = 0;
      inputs_.packed = true;
      // Size 0 would let a short frame claim any number of tasks.
      if (!reader.U32(&size) || size == 0 ||
          !reader.View(uint64_t{size} * count, &inputs_.packed_bytes)) {
        return false;
      }
      inputs_.packed_size = size;
    } else {
      if (layout != static_cast<uint8_t>(ItemLayout::kEach)) return false;
      each_.clear();
      for (uint32_t i = 0; i < count; ++i) {
        std::string_view input;
        if (!reader.Bytes(&input)) return false;
        each_.push_back(input);
      }
      inputs_.each = each_;
    }
    return reader.AtEnd();
  }

  void RunBatch(const pool_wire::TasksHeader& header) {
    const auto start = std::chrono::steady_clock::now();
    results_.clear();
    Writer writer(&results_);
    writer.Results({.batch = header.batch, .count = header.count});
    reinterpret_cast<TaskRunner>(header.function.runner)(header.function.fn,
                                                         inputs_, &results_);
    writer.U64(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::steady_clock::now() - start)
            .count()));
  }

  // Every task of the batch fails with status (its results did not fit in
  // one message).
  void FailBatch(const pool_wire::TasksHeader& header, const Status& status) {
    results_.clear();
    Writer writer(&results_);
    writer.Results({.batch = header.batch, .count = header.count});
    results_.push_back(static_cast<char>(ItemLayout::kEach));
    for (uint32_t i = 0; i < header.count; ++i) {
      AppendFailure(status, &results_);
    }
    writer.U64(0);
  }

  Channel channel_;
  const uint64_t secret_;
  std::vector<std::string> frames_;
  std::string waited_;
  TaskInputs inputs_;
  std::vector<std::string_view> each_;  // The inputs of a kEach batch.
  std::string results_;
};

}  // namespace

Status CurrentExceptionStatus(std::string_view what) {
  try {
    throw;
  } catch (const std::exception& e) {
    return Status(ErrorCode::kInternal,
                  std::string(what) + " threw an exception: " + e.what());
  } catch (...) {
    return Status(ErrorCode::kInternal,
                  std::string(what) + " threw an unknown exception");
  }
}

void RunPoolWorker(Channel channel, const std::function<Status()>& initializer,
                   uint64_t secret) {
  Worker(std::move(channel), secret).Run(initializer);
}

}  // namespace ipc::internal
