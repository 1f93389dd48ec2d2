#include "objects/dict.h"

#include <algorithm>
#include <vector>

#include "objects/kind.h"
#include "objects/value.h"

namespace ipcd {
namespace {

int64_t EntryBytes(const PackedEntry& entry) {
  return static_cast<int64_t>(entry.key().size() + entry.value().size());
}

}  // namespace

void Dict::Decode(const PackedEntry& entry, v1::Value* value) {
  // The bytes are the daemon's own serialization of a Value it accepted.
  const std::string_view bytes = entry.value();
  (void)value->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

bool Dict::Find(std::string_view key, v1::Value* value) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  Decode(*it, value);
  return true;
}

OpStatus Dict::MissingKey(const std::string& key) const {
  return OpStatus::Error(v1::NOT_FOUND,
                         Describe() + " has no key '" + key + "'");
}

void Dict::Erase(Map::iterator it, OpContext& ctx) {
  Charge(ctx, -EntryBytes(*it));
  entries_.erase(it);
}

Dict::Map::iterator Dict::Position(std::string_view key) {
  // Keys past the last one (a restore, or any rising sequence of keys)
  // need no tree walk.
  if (entries_.empty() || entries_.rbegin()->key() < key) return entries_.end();
  return entries_.lower_bound(key);
}

OpStatus Dict::Store(std::string_view key, const v1::Value& value, OpContext& ctx) {
  const auto at = Position(key);
  const bool present = at != entries_.end() && at->key() == key;
  const int64_t old_bytes = present ? EntryBytes(*at) : 0;
  const int64_t delta = static_cast<int64_t>(key.size()) + ValueBytes(value) - old_bytes;
  if (!Fits(ctx, delta)) return OverBudget(ctx, delta);
  value.SerializeToString(&encoded_);
  if (present) {
    at->set_value(encoded_);
  } else {
    entries_.emplace_hint(at, key, encoded_);
  }
  Charge(ctx, delta);
  return OpStatus::Ok();
}

OpStatus Dict::Update(const v1::Call& call, OpContext& ctx) {
  // Each distinct key once, in key order, with where it is or would go in
  // entries_: one tree walk per key, and inserts in order with a hint (a
  // snapshot restores its dicts through UPDATEs of sorted keys). A
  // repeated key: the last entry wins.
  struct Change {
    std::string_view key;
    const v1::Value* value;
    Map::iterator at;  // entries_.lower_bound(key); std::map keeps it valid.
  };
  std::vector<Change> changes;
  changes.reserve(static_cast<size_t>(call.items_size()));
  for (const v1::Entry& entry : call.items()) {
    changes.push_back({entry.key(), &entry.value(), {}});
  }
  const auto by_key = [](const Change& a, const Change& b) {
    return a.key < b.key;
  };
  if (!std::is_sorted(changes.begin(), changes.end(), by_key)) {
    std::stable_sort(changes.begin(), changes.end(), by_key);
  }
  // Of equal keys (adjacent now, in call order) keep the last.
  size_t kept = 0;
  for (const Change& change : changes) {
    if (kept > 0 && changes[kept - 1].key == change.key) {
      changes[kept - 1] = change;
    } else {
      changes[kept++] = change;
    }
  }
  changes.resize(kept);
  // Check the whole update against the budget first, so that it either
  // applies entirely or changes nothing.
  int64_t delta = 0;
  for (Change& change : changes) {
    if (change.key.empty()) {
      return OpStatus::Error(v1::INVALID_ARGUMENT,
                             Describe() + ": UPDATE with an empty key");
    }
    change.at = Position(change.key);
    delta += static_cast<int64_t>(change.key.size()) + ValueBytes(*change.value);
    if (change.at != entries_.end() && change.at->key() == change.key) {
      delta -= EntryBytes(*change.at);
    }
  }
  if (!Fits(ctx, delta)) return OverBudget(ctx, delta);
  for (const Change& change : changes) {
    change.value->SerializeToString(&encoded_);
    if (change.at != entries_.end() && change.at->key() == change.key) {
      change.at->set_value(encoded_);
    } else {
      entries_.emplace_hint(change.at, change.key, encoded_);
    }
  }
  Charge(ctx, delta);
  return OpStatus::Ok();
}

OpStatus Dict::CompareAndSet(const v1::Call& call, OpContext& ctx,
                             v1::Result* result) {
  v1::Value current;
  const bool present = Find(call.key(), &current);
  // An unset expected means "the key is absent".
  const bool matches =
      call.has_expected() ? present && ValuesEqual(current, call.expected()) : !present;
  if (matches) {
    OpStatus stored = Store(call.key(), call.value(), ctx);
    if (!stored.ok()) return stored;
    *result->mutable_value() = call.value();
  } else if (present) {
    *result->mutable_value() = std::move(current);
  }
  result->set_flag(matches);
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
      if (auto it = entries_.find(call.key()); it != entries_.end()) {
        Decode(*it, result->mutable_value());
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
      for (const PackedEntry& entry : entries_) result->add_keys(std::string(entry.key()));
      return OpStatus::Ok();
    case v1::VALUES:
      for (const PackedEntry& entry : entries_) Decode(entry, result->add_values());
      return OpStatus::Ok();
    case v1::ITEMS:
      for (const PackedEntry& entry : entries_) {
        v1::Entry* item = result->add_items();
        item->set_key(std::string(entry.key()));
        Decode(entry, item->mutable_value());
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
      Decode(*it, result->mutable_value());
      Erase(it, ctx);
      return OpStatus::Ok();
    }
    case v1::SETDEFAULT: {
      if (auto it = entries_.find(call.key()); it != entries_.end()) {
        Decode(*it, result->mutable_value());
        return OpStatus::Ok();
      }
      OpStatus stored = Store(call.key(), call.value(), ctx);
      if (!stored.ok()) return stored;
      *result->mutable_value() = call.value();
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
  for (const PackedEntry& entry : entries_) {
    if (update == nullptr || update->items_size() == kKeysPerCall) {
      update = AddCall(sink, v1::UPDATE);
    }
    v1::Entry* item = update->add_items();
    item->set_key(std::string(entry.key()));
    Decode(entry, item->mutable_value());
  }
}

namespace {

constexpr OpSpec kDictOps[] = {
    {.op = v1::GET, .reads_missing = true},
    {.op = v1::SET, .journaled = true},
    {.op = v1::DELETE, .journaled = true},
    {.op = v1::CONTAINS, .reads_missing = true},
    {.op = v1::LEN, .reads_missing = true},
    {.op = v1::KEYS},
    {.op = v1::VALUES},
    {.op = v1::ITEMS},
    {.op = v1::UPDATE, .journaled = true},
    {.op = v1::POP, .journaled = true},
    {.op = v1::SETDEFAULT, .journaled = true},
    {.op = v1::CLEAR, .journaled = true},
    {.op = v1::COMPARE_AND_SET, .journaled = true},
};

OpStatus MakeDict(const v1::Call& call, std::unique_ptr<Object>* out) {
  *out = std::make_unique<Dict>(call.object(), call.kind());
  return OpStatus::Ok();
}

// A dict (or namespace) nobody made is empty: the answers of an empty one.
OpStatus ReadMissingDict(const v1::Call& call, v1::Result* result) {
  Dict empty(call.object(), call.kind());
  OpContext ctx;  // Reads charge nothing.
  return empty.Execute(call, ctx, result);
}

// A namespace is a dict of attributes with Python's Namespace operations
// (UPDATE too: its snapshot is written as a dict's is).
constexpr OpSpec kNamespaceOps[] = {
    {.op = v1::GET, .reads_missing = true},
    {.op = v1::SET, .journaled = true},
    {.op = v1::DELETE, .journaled = true},
    {.op = v1::CONTAINS, .reads_missing = true},
    {.op = v1::KEYS},
    {.op = v1::ITEMS},
    {.op = v1::UPDATE, .journaled = true},
};

}  // namespace

extern const KindSpec kDictKind{.kind = v1::DICT,
                                .name = "dict",
                                .ops = kDictOps,
                                .make = MakeDict,
                                .read_missing = ReadMissingDict};
extern const KindSpec kNamespaceKind{.kind = v1::NAMESPACE,
                                     .name = "namespace",
                                     .ops = kNamespaceOps,
                                     .make = MakeDict,
                                     .read_missing = ReadMissingDict};

}  // namespace ipcd
