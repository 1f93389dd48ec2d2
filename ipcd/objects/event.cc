#include "objects/event.h"

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

}  // namespace ipcd
