#include "objects/value_object.h"

#include "objects/kind.h"
#include "objects/value.h"

namespace ipcd {

OpStatus ValueObject::Store(const v1::Value& value, OpContext& ctx) {
  const int64_t delta = ValueBytes(value) - ValueBytes(value_);
  if (!Fits(ctx, delta)) return OverBudget(ctx, delta);
  value_ = value;
  Charge(ctx, delta);
  return OpStatus::Ok();
}

OpStatus ValueObject::Execute(const v1::Call& call, OpContext& ctx, v1::Result* result) {
  const v1::Op op = call.op();
  if ((op == v1::SET || op == v1::COMPARE_AND_SET) && !call.has_value()) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           Describe() + ": " + OpName(op) + " needs a value");
  }
  const bool first_call = fresh_;
  fresh_ = false;
  switch (op) {
    case v1::CREATE:
      // The value a CREATE carries is where a new object starts; an
      // existing one keeps its own.
      if (first_call && call.has_value()) return Store(call.value(), ctx);
      return OpStatus::Ok();
    case v1::GET:
      *result->mutable_value() = value_;
      return OpStatus::Ok();
    case v1::SET:
      return Store(call.value(), ctx);
    case v1::COMPARE_AND_SET:
      if (ValuesEqual(value_, call.expected())) {
        if (OpStatus stored = Store(call.value(), ctx); !stored.ok()) return stored;
        result->set_flag(true);
      }
      *result->mutable_value() = value_;
      return OpStatus::Ok();
    default:
      return Unsupported(op);
  }
}

void ValueObject::Save(CallSink& sink) const {
  v1::Call* create = AddCall(sink, v1::CREATE);
  // Whatever it holds, as it is charged: also a Value with no kind but
  // fields this daemon does not know (kept, and counted, as received).
  if (value_.ByteSizeLong() != 0) *create->mutable_value() = value_;
}

namespace {

constexpr OpSpec kValueOps[] = {
    {.op = v1::GET, .reads_missing = true},
    {.op = v1::SET, .journaled = true},
    {.op = v1::COMPARE_AND_SET, .journaled = true},
};

OpStatus MakeValue(const v1::Call& call, std::unique_ptr<Object>* out) {
  *out = std::make_unique<ValueObject>(call.object());
  return OpStatus::Ok();
}

// A value object nobody made reads null.
OpStatus ReadMissingValue(const v1::Call& /*call*/, v1::Result* result) {
  result->mutable_value()->set_null_value(v1::NULL_VALUE);
  return OpStatus::Ok();
}

}  // namespace

extern const KindSpec kValueKind{.kind = v1::VALUE,
                                 .name = "value",
                                 .ops = kValueOps,
                                 .make = MakeValue,
                                 .read_missing = ReadMissingValue};

}  // namespace ipcd
