// ManagerBatch: calls gathered, then sent as one Batch request (Run) or as
// pipelined Call requests (RunPipelined).
#include <utility>

#include "ipc/manager.h"
#include "manager/connection.h"
#include "manager/wire.h"

namespace ipc {

struct ManagerBatch::Calls {
  std::vector<ipcd::v1::Call> calls;

  ipcd::v1::Call& Add(std::string_view object, ipcd::v1::Kind kind,
                      ipcd::v1::Op op) {
    ipcd::v1::Call& call = calls.emplace_back();
    call.set_object(object.data(), object.size());
    call.set_kind(kind);
    call.set_op(op);
    return call;
  }
};

namespace {

// What a call of the batch returns: a counter's value, a dict's value, or
// null for the operations that return nothing.
Result<Value> CallResult(const ipcd::v1::Call& call,
                         const ipcd::v1::Status& status,
                         const ipcd::v1::Result& result) {
  IPC_RETURN_IF_ERROR(internal::StatusFromProto(status));
  if (call.op() == ipcd::v1::ADD ||
      (call.op() == ipcd::v1::GET && call.kind() == ipcd::v1::COUNTER)) {
    return Value(result.value().int_value());
  }
  if (call.op() == ipcd::v1::GET)
    return internal::ValueFromProto(result.value());
  return Value();
}

}  // namespace

ManagerBatch::ManagerBatch(
    std::shared_ptr<internal::ManagerConnection> connection)
    : connection_(std::move(connection)), calls_(std::make_shared<Calls>()) {}

ManagerBatch& ManagerBatch::CounterAdd(std::string_view counter,
                                       int64_t delta) {
  calls_->Add(counter, ipcd::v1::COUNTER, ipcd::v1::ADD)
      .mutable_value()
      ->set_int_value(delta);
  return *this;
}

ManagerBatch& ManagerBatch::CounterGet(std::string_view counter) {
  calls_->Add(counter, ipcd::v1::COUNTER, ipcd::v1::GET);
  return *this;
}

ManagerBatch& ManagerBatch::DictSet(std::string_view dict, std::string_view key,
                                    Value value) {
  ipcd::v1::Call& call = calls_->Add(dict, ipcd::v1::DICT, ipcd::v1::SET);
  call.set_key(key.data(), key.size());
  internal::ValueToProto(value, call.mutable_value());
  return *this;
}

ManagerBatch& ManagerBatch::DictGet(std::string_view dict,
                                    std::string_view key) {
  calls_->Add(dict, ipcd::v1::DICT, ipcd::v1::GET)
      .set_key(key.data(), key.size());
  return *this;
}

ManagerBatch& ManagerBatch::DictDelete(std::string_view dict,
                                       std::string_view key) {
  calls_->Add(dict, ipcd::v1::DICT, ipcd::v1::DELETE)
      .set_key(key.data(), key.size());
  return *this;
}

ManagerBatch& ManagerBatch::QueuePut(std::string_view queue, Value value) {
  internal::ValueToProto(
      value,
      calls_->Add(queue, ipcd::v1::QUEUE, ipcd::v1::PUT).mutable_value());
  return *this;
}

size_t ManagerBatch::size() const { return calls_->calls.size(); }

void ManagerBatch::clear() { calls_->calls.clear(); }

Result<std::vector<Result<Value>>> ManagerBatch::Run() {
  const std::vector<ipcd::v1::Call>& calls = calls_->calls;
  std::vector<Result<Value>> out;
  if (calls.empty()) return out;
  out.reserve(calls.size());
  IPC_RETURN_IF_ERROR(connection_->Exchange(
      [&](ipcd::v1::Request& request) {
        auto* batch_calls = request.mutable_batch()->mutable_calls();
        batch_calls->Reserve(static_cast<int>(calls.size()));
        for (const ipcd::v1::Call& call : calls) *batch_calls->Add() = call;
      },
      [&](const ipcd::v1::Response& response) -> Status {
        const auto& replies = response.batch().replies();
        if (static_cast<size_t>(replies.size()) != calls.size()) {
          return Status(ErrorCode::kProtocolError,
                        "ipcd at " + connection_->url() + ": a batch of " +
                            std::to_string(calls.size()) + " calls got " +
                            std::to_string(replies.size()) + " replies");
        }
        for (size_t i = 0; i < calls.size(); ++i) {
          const ipcd::v1::CallReply& reply = replies[static_cast<int>(i)];
          out.push_back(CallResult(calls[i], reply.status(), reply.result()));
        }
        return Status::Ok();
      }));
  return out;
}

Result<std::vector<Result<Value>>> ManagerBatch::RunPipelined() {
  const std::vector<ipcd::v1::Call>& calls = calls_->calls;
  std::vector<Result<Value>> out;
  out.reserve(calls.size());
  IPC_RETURN_IF_ERROR(connection_->Pipeline(
      calls.size(),
      [&](size_t i, ipcd::v1::Request* request) {
        *request->mutable_call() = calls[i];
      },
      [&](size_t i, const ipcd::v1::Response& response) {
        out.push_back(
            CallResult(calls[i], response.status(), response.result()));
      }));
  return out;
}

}  // namespace ipc
