#include "objects/object.h"

#include "objects/kind.h"

namespace ipcd {

std::string KindName(v1::Kind kind) {
  if (const KindSpec* spec = FindKind(kind)) return spec->name;
  return "unknown kind " + std::to_string(static_cast<int>(kind));
}

std::string OpName(v1::Op op) {
  if (v1::Op_IsValid(op)) return v1::Op_Name(op);
  return "unknown op " + std::to_string(static_cast<int>(op));
}

v1::Call* Object::AddCall(CallSink& sink, v1::Op op) const {
  v1::Call* call = sink.Add();
  call->set_object(name_);
  call->set_kind(kind_);
  call->set_op(op);
  return call;
}

std::string Object::Describe() const {
  return KindName(kind_) + " '" + name_ + "'";
}

OpStatus Object::Unsupported(v1::Op op) const {
  return OpStatus::Error(v1::UNSUPPORTED,
                         Describe() + " has no operation " + OpName(op));
}

OpStatus Object::OverBudget(const OpContext& ctx, int64_t delta) const {
  return OpStatus::Error(
      v1::RESOURCE_EXHAUSTED,
      Describe() + ": max_bytes limit (" + std::to_string(ctx.budget->max) +
          " bytes) reached: " + std::to_string(ctx.budget->used) +
          " bytes held, this needs " + std::to_string(delta) + " more");
}

}  // namespace ipcd
