#include "objects/event.h"

#include "objects/kind.h"

namespace ipcd {

OpStatus Event::Execute(const v1::Call& call, OpContext& ctx,
                        v1::Result* result) {
  switch (call.op()) {
    case v1::CREATE:
      return OpStatus::Ok();
    case v1::SET:
      flag_ = true;
      return OpStatus::Ok();
    case v1::CLEAR:
      flag_ = false;
      return OpStatus::Ok();
    case v1::IS_SET:
      result->set_flag(flag_);
      return OpStatus::Ok();
    case v1::WAIT:
      if (flag_) {
        result->set_flag(true);
        return OpStatus::Ok();
      }
      if (MayWait(call, ctx)) return OpStatus::Wait();
      return OpStatus::Error(v1::DEADLINE_EXCEEDED,
                             Describe() + " was not set in time");
    default:
      return Unsupported(call.op());
  }
}

void Event::Save(CallSink& sink) const {
  AddCall(sink, flag_ ? v1::SET : v1::CREATE);
}

namespace {

constexpr OpSpec kEventOps[] = {
    {.op = v1::SET, .journaled = true},
    {.op = v1::CLEAR, .journaled = true},
    {.op = v1::IS_SET, .reads_missing = true},
    {.op = v1::WAIT},
};

OpStatus MakeEvent(const v1::Call& call, std::unique_ptr<Object>* out) {
  *out = std::make_unique<Event>(call.object());
  return OpStatus::Ok();
}

// An event nobody made is not set.
OpStatus ReadMissingEvent(const v1::Call& /*call*/, v1::Result* result) {
  result->set_flag(false);
  return OpStatus::Ok();
}

}  // namespace

extern const KindSpec kEventKind{.kind = v1::EVENT,
                                 .name = "event",
                                 .ops = kEventOps,
                                 .make = MakeEvent,
                                 .read_missing = ReadMissingEvent};

}  // namespace ipcd
