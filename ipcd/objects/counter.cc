#include "objects/counter.h"

#include "objects/kind.h"

namespace ipcd {

OpStatus Counter::Execute(const v1::Call& call, OpContext& /*ctx*/,
                          v1::Result* result) {
  const v1::Op op = call.op();
  const bool needs_int =
      op == v1::SET || op == v1::ADD || op == v1::COMPARE_AND_SET;
  if (needs_int && call.value().kind_case() != v1::Value::kIntValue) {
    return OpStatus::Error(
        v1::INVALID_ARGUMENT,
        Describe() + ": " + OpName(op) + " needs value.int_value");
  }
  switch (op) {
    case v1::CREATE:
      return OpStatus::Ok();
    case v1::GET:
      break;
    case v1::SET:
      value_ = call.value().int_value();
      break;
    case v1::ADD: {
      int64_t sum;
      if (__builtin_add_overflow(value_, call.value().int_value(), &sum)) {
        return OpStatus::Error(v1::INVALID_ARGUMENT,
                               Describe() + ": adding " +
                                   std::to_string(call.value().int_value()) +
                                   " to " + std::to_string(value_) +
                                   " overflows int64");
      }
      value_ = sum;
      break;
    }
    case v1::COMPARE_AND_SET:
      if (call.expected().kind_case() != v1::Value::kIntValue) {
        return OpStatus::Error(
            v1::INVALID_ARGUMENT,
            Describe() + ": COMPARE_AND_SET needs expected.int_value");
      }
      result->set_flag(value_ == call.expected().int_value());
      if (result->flag()) value_ = call.value().int_value();
      break;
    default:
      return Unsupported(op);
  }
  result->mutable_value()->set_int_value(value_);
  return OpStatus::Ok();
}

void Counter::Save(CallSink& sink) const {
  AddCall(sink, v1::SET)->mutable_value()->set_int_value(value_);
}

namespace {

constexpr OpSpec kCounterOps[] = {
    {.op = v1::GET, .reads_missing = true},
    {.op = v1::SET, .journaled = true},
    {.op = v1::ADD, .journaled = true},
    {.op = v1::COMPARE_AND_SET, .journaled = true},
};

OpStatus MakeCounter(const v1::Call& call, std::unique_ptr<Object>* out) {
  *out = std::make_unique<Counter>(call.object());
  return OpStatus::Ok();
}

// A counter nobody made reads 0.
OpStatus ReadMissingCounter(const v1::Call& /*call*/, v1::Result* result) {
  result->mutable_value()->set_int_value(0);
  return OpStatus::Ok();
}

}  // namespace

extern const KindSpec kCounterKind{.kind = v1::COUNTER,
                                   .name = "counter",
                                   .ops = kCounterOps,
                                   .make = MakeCounter,
                                   .read_missing = ReadMissingCounter};

}  // namespace ipcd
