#include "objects/list.h"

#include <algorithm>

#include "objects/kind.h"
#include "objects/value.h"

namespace ipcd {
namespace {

// Python's clamping of a slice bound: negative counts from the end, then
// the result is kept within [0, size].
size_t Clamp(int64_t index, size_t size) {
  const auto n = static_cast<int64_t>(size);
  if (index < 0) index += n;
  return static_cast<size_t>(std::clamp<int64_t>(index, 0, n));
}

}  // namespace

OpStatus List::At(const v1::Call& call, int64_t default_index, size_t* at) const {
  const int64_t index = call.has_index() ? call.index() : default_index;
  const auto n = static_cast<int64_t>(items_.size());
  const int64_t position = index < 0 ? index + n : index;
  if (position < 0 || position >= n) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           Describe() + ": index " + std::to_string(index) +
                               " is out of range for length " + std::to_string(n));
  }
  *at = static_cast<size_t>(position);
  return OpStatus::Ok();
}

OpStatus List::Insert(size_t at, const v1::Value& value, OpContext& ctx) {
  const int64_t delta = ValueBytes(value);
  if (!Fits(ctx, delta)) return OverBudget(ctx, delta);
  items_.insert(items_.begin() + static_cast<std::ptrdiff_t>(at), value);
  Charge(ctx, delta);
  return OpStatus::Ok();
}

std::deque<v1::Value>::const_iterator List::Find(const v1::Value& value) const {
  return std::find_if(items_.begin(), items_.end(),
                      [&](const v1::Value& item) { return ValuesEqual(item, value); });
}

OpStatus List::Missing(const v1::Value& value) const {
  return OpStatus::Error(v1::NOT_FOUND,
                         Describe() + " holds no item equal to " + value.ShortDebugString());
}

OpStatus List::Execute(const v1::Call& call, OpContext& ctx, v1::Result* result) {
  const v1::Op op = call.op();
  const bool needs_value = op == v1::APPEND || op == v1::EXTEND || op == v1::SET ||
                           op == v1::INSERT || op == v1::REMOVE || op == v1::INDEX ||
                           op == v1::COUNT;
  if (needs_value && !call.has_value()) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           Describe() + ": " + OpName(op) + " needs a value");
  }
  if ((op == v1::GET || op == v1::SET) && !call.has_index()) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           Describe() + ": " + OpName(op) + " needs an index");
  }
  size_t at = 0;
  switch (op) {
    case v1::CREATE:
      return OpStatus::Ok();
    case v1::APPEND:
      return Insert(items_.size(), call.value(), ctx);
    case v1::EXTEND: {
      if (call.value().kind_case() != v1::Value::kListValue) {
        return OpStatus::Error(v1::INVALID_ARGUMENT,
                               Describe() + ": EXTEND needs value.list_value");
      }
      const int64_t delta = [&] {
        int64_t sum = 0;
        for (const v1::Value& v : call.value().list_value().items()) sum += ValueBytes(v);
        return sum;
      }();
      if (!Fits(ctx, delta)) return OverBudget(ctx, delta);  // All or nothing.
      for (const v1::Value& v : call.value().list_value().items()) items_.push_back(v);
      Charge(ctx, delta);
      return OpStatus::Ok();
    }
    case v1::GET:
      if (OpStatus in = At(call, 0, &at); !in.ok()) return in;
      *result->mutable_value() = items_[at];
      return OpStatus::Ok();
    case v1::SET: {
      if (OpStatus in = At(call, 0, &at); !in.ok()) return in;
      const int64_t delta = ValueBytes(call.value()) - ValueBytes(items_[at]);
      if (!Fits(ctx, delta)) return OverBudget(ctx, delta);
      items_[at] = call.value();
      Charge(ctx, delta);
      return OpStatus::Ok();
    }
    case v1::INSERT:
      return Insert(Clamp(call.index(), items_.size()), call.value(), ctx);
    case v1::POP: {
      if (OpStatus in = At(call, -1, &at); !in.ok()) return in;
      Charge(ctx, -ValueBytes(items_[at]));
      *result->mutable_value() = std::move(items_[at]);
      items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(at));
      return OpStatus::Ok();
    }
    case v1::REMOVE: {
      const auto it = Find(call.value());
      if (it == items_.end()) return Missing(call.value());
      Charge(ctx, -ValueBytes(*it));
      items_.erase(it);
      return OpStatus::Ok();
    }
    case v1::INDEX: {
      const auto it = Find(call.value());
      if (it == items_.end()) return Missing(call.value());
      result->set_count(it - items_.begin());
      return OpStatus::Ok();
    }
    case v1::COUNT:
      result->set_count(std::count_if(items_.begin(), items_.end(), [&](const v1::Value& item) {
        return ValuesEqual(item, call.value());
      }));
      return OpStatus::Ok();
    case v1::LEN:
      result->set_count(Size());
      return OpStatus::Ok();
    case v1::SLICE: {
      const size_t start = Clamp(call.index(), items_.size());
      const size_t stop = call.has_stop() ? Clamp(call.stop(), items_.size()) : items_.size();
      for (size_t i = start; i < stop; ++i) *result->add_values() = items_[i];
      return OpStatus::Ok();
    }
    case v1::CLEAR:
      Charge(ctx, -bytes());
      items_.clear();
      return OpStatus::Ok();
    default:
      return Unsupported(op);
  }
}

void List::Save(CallSink& sink) const {
  AddCall(sink, v1::CREATE);
  for (const v1::Value& item : items_) *AddCall(sink, v1::APPEND)->mutable_value() = item;
}

namespace {

constexpr OpSpec kListOps[] = {
    {.op = v1::APPEND, .journaled = true},
    {.op = v1::EXTEND, .journaled = true},
    {.op = v1::GET, .reads_missing = true},
    {.op = v1::SET, .journaled = true},
    {.op = v1::INSERT, .journaled = true},
    {.op = v1::POP, .journaled = true},
    {.op = v1::REMOVE, .journaled = true},
    {.op = v1::INDEX, .reads_missing = true},
    {.op = v1::COUNT, .reads_missing = true},
    {.op = v1::LEN, .reads_missing = true},
    {.op = v1::SLICE, .reads_missing = true},
    {.op = v1::CLEAR, .journaled = true},
};

OpStatus MakeList(const v1::Call& call, std::unique_ptr<Object>* out) {
  *out = std::make_unique<List>(call.object());
  return OpStatus::Ok();
}

// A list nobody made is empty: the same answers as an empty one.
OpStatus ReadMissingList(const v1::Call& call, v1::Result* result) {
  List empty(call.object());
  OpContext ctx;  // Reads charge nothing.
  return empty.Execute(call, ctx, result);
}

}  // namespace

extern const KindSpec kListKind{.kind = v1::LIST,
                                .name = "list",
                                .ops = kListOps,
                                .make = MakeList,
                                .read_missing = ReadMissingList};

}  // namespace ipcd
