// Dict: string keys to Values, kept in key order (KEYS/VALUES/ITEMS return
// them sorted). Each entry is stored as its key and its value's serialized
// bytes (packed_entry.h), and costs their sizes against max_bytes. The
// namespace kind is a Dict too: its attributes are the keys.
//
// Thread safety: single-threaded (see object.h).
#ifndef IPCD_OBJECTS_DICT_H_
#define IPCD_OBJECTS_DICT_H_

#include <string>
#include <string_view>

#include "objects/object.h"
#include "objects/packed_entry.h"

namespace ipcd {

class Dict final : public Object {
 public:
  // kind: DICT, or NAMESPACE (the same object with fewer operations).
  explicit Dict(std::string name, v1::Kind kind = v1::DICT)
      : Object(std::move(name), kind) {}

  OpStatus Execute(const v1::Call& call, OpContext& ctx,
                   v1::Result* result) override;
  int64_t Size() const override {
    return static_cast<int64_t>(entries_.size());
  }
  void Save(CallSink& sink) const override;

  // For watches: one key's value (false when absent), and every entry in
  // key order, as f(key, value).
  bool Find(std::string_view key, v1::Value* value) const;
  template <typename F>
  void ForEach(F f) const {
    v1::Value value;
    for (const PackedEntry& entry : entries_) {
      Decode(entry, &value);
      f(entry.key(), value);
    }
  }

 private:
  using Map = PackedEntries;
  // The value an entry holds.
  static void Decode(const PackedEntry& entry, v1::Value* value);

  // entries_.lower_bound(key), cheaply for a key past the last one.
  Map::iterator Position(std::string_view key);
  // Sets key to value, charging the size difference; RESOURCE_EXHAUSTED
  // (and no change) when it does not fit.
  OpStatus Store(std::string_view key, const v1::Value& value, OpContext& ctx);
  OpStatus Update(const v1::Call& call, OpContext& ctx);
  OpStatus CompareAndSet(const v1::Call& call, OpContext& ctx,
                         v1::Result* result);
  OpStatus MissingKey(const std::string& key) const;
  void Erase(Map::iterator it, OpContext& ctx);

  Map entries_;
  std::string encoded_;  // Reused to serialize a value being stored.
};

}  // namespace ipcd

#endif  // IPCD_OBJECTS_DICT_H_
