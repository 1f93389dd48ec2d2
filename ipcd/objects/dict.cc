#include "objects/dict.h"

#include "objects/value.h"

namespace ipcd {
namespace {

int64_t EntryBytes(const std::string& key, const v1::Value& value) {
  return static_cast<int64_t>(key.size()) + ValueBytes(value);
}

}  // namespace

OpStatus Dict::MissingKey(const std::string& key) const {
  return OpStatus::Error(v1::NOT_FOUND,
                         Describe() + " has no key '" + key + "'");
}

void Dict::Erase(Map::iterator it, OpContext& ctx) {
  Charge(ctx, -EntryBytes(it->first, it->second));
  entries_.erase(it);
}

OpStatus Dict::Store(const std::string& key, const v1::Value& value,
                     OpContext& ctx) {
  auto it = entries_.find(key);
  const int64_t old_bytes =
      it == entries_.end() ? 0 : EntryBytes(key, it->second);
  const int64_t delta = EntryBytes(key, value) - old_bytes;
  if (!Fits(ctx, delta)) return OverBudget(ctx, delta);
  if (it == entries_.end()) {
    entries_.emplace(key, value);
  } else {
    it->second = value;
  }
  Charge(ctx, delta);
  return OpStatus::Ok();
}

OpStatus Dict::Update(const v1::Call& call, OpContext& ctx) {
  // Check the whole update against the budget first, so that it either
  // applies entirely or changes nothing. A repeated key: the last entry wins.
  std::map<std::string_view, const v1::Value*> last;
  for (const v1::Entry& entry : call.items())
    last[entry.key()] = &entry.value();
  int64_t delta = 0;
  for (const auto& [key, value] : last) {
    if (key.empty()) {
      return OpStatus::Error(v1::INVALID_ARGUMENT,
                             Describe() + ": UPDATE with an empty key");
    }
    auto it = entries_.find(key);
    delta += static_cast<int64_t>(key.size()) + ValueBytes(*value);
    if (it != entries_.end()) delta -= EntryBytes(it->first, it->second);
  }
  if (!Fits(ctx, delta)) return OverBudget(ctx, delta);
  for (const auto& [key, value] : last) {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      entries_.emplace(std::string(key), *value);
    } else {
      it->second = *value;
    }
  }
  Charge(ctx, delta);
  return OpStatus::Ok();
}

OpStatus Dict::CompareAndSet(const v1::Call& call, OpContext& ctx,
                             v1::Result* result) {
  auto it = entries_.find(call.key());
  // An unset expected means "the key is absent".
  const bool matches =
      call.has_expected()
          ? it != entries_.end() && ValuesEqual(it->second, call.expected())
          : it == entries_.end();
  if (matches) {
    OpStatus stored = Store(call.key(), call.value(), ctx);
    if (!stored.ok()) return stored;
    it = entries_.find(call.key());
  }
  result->set_flag(matches);
  if (it != entries_.end()) *result->mutable_value() = it->second;
  return OpStatus::Ok();
}

OpStatus Dict::Execute(const v1::Call& call, OpContext& ctx,
                       v1::Result* result) {
  const v1::Op op = call.op();
  const bool needs_key = op == v1::GET || op == v1::SET || op == v1::DELETE ||
                         op == v1::CONTAINS || op == v1::POP ||
                         op == v1::SETDEFAULT || op == v1::COMPARE_AND_SET;
  if (needs_key && call.key().empty()) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           Describe() + ": " + OpName(op) + " needs a key");
  }
  if ((op == v1::SET || op == v1::SETDEFAULT || op == v1::COMPARE_AND_SET) &&
      !call.has_value()) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           Describe() + ": " + OpName(op) + " needs a value");
  }
  switch (op) {
    case v1::CREATE:
      return OpStatus::Ok();
    case v1::GET: {
      auto it = entries_.find(call.key());
      if (it != entries_.end()) {
        *result->mutable_value() = it->second;
      } else if (call.has_value()) {
        *result->mutable_value() = call.value();
      } else {
        return MissingKey(call.key());
      }
      return OpStatus::Ok();
    }
    case v1::SET:
      return Store(call.key(), call.value(), ctx);
    case v1::DELETE: {
      auto it = entries_.find(call.key());
      if (it == entries_.end()) return MissingKey(call.key());
      Erase(it, ctx);
      return OpStatus::Ok();
    }
    case v1::CONTAINS:
      result->set_flag(entries_.contains(call.key()));
      return OpStatus::Ok();
    case v1::LEN:
      result->set_count(Size());
      return OpStatus::Ok();
    case v1::KEYS:
      for (const auto& [key, value] : entries_) result->add_keys(key);
      return OpStatus::Ok();
    case v1::VALUES:
      for (const auto& [key, value] : entries_) *result->add_values() = value;
      return OpStatus::Ok();
    case v1::ITEMS:
      for (const auto& [key, value] : entries_) {
        v1::Entry* entry = result->add_items();
        entry->set_key(key);
        *entry->mutable_value() = value;
      }
      return OpStatus::Ok();
    case v1::UPDATE:
      return Update(call, ctx);
    case v1::POP: {
      auto it = entries_.find(call.key());
      if (it == entries_.end()) {
        if (!call.has_value()) return MissingKey(call.key());
        *result->mutable_value() = call.value();
        return OpStatus::Ok();
      }
      *result->mutable_value() = std::move(it->second);
      // Charge what the entry cost before its value was moved out.
      Charge(ctx, -EntryBytes(it->first, result->value()));
      entries_.erase(it);
      return OpStatus::Ok();
    }
    case v1::SETDEFAULT: {
      auto it = entries_.find(call.key());
      if (it == entries_.end()) {
        OpStatus stored = Store(call.key(), call.value(), ctx);
        if (!stored.ok()) return stored;
        it = entries_.find(call.key());
      }
      *result->mutable_value() = it->second;
      return OpStatus::Ok();
    }
    case v1::CLEAR:
      Charge(ctx, -bytes());
      entries_.clear();
      return OpStatus::Ok();
    case v1::COMPARE_AND_SET:
      return CompareAndSet(call, ctx, result);
    default:
      return Unsupported(op);
  }
}

void Dict::Save(CallSink& sink) const {
  // Keys travel in UPDATE calls of up to kKeysPerCall entries: one call
  // per key would make a snapshot's records mostly call headers.
  constexpr int kKeysPerCall = 512;
  AddCall(sink, v1::CREATE);
  v1::Call* update = nullptr;
  for (const auto& [key, value] : entries_) {
    if (update == nullptr || update->items_size() == kKeysPerCall) {
      update = AddCall(sink, v1::UPDATE);
    }
    v1::Entry* entry = update->add_items();
    entry->set_key(key);
    *entry->mutable_value() = value;
  }
}

}  // namespace ipcd
