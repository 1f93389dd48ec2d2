// Dict: string keys to Values, kept in key order (KEYS/VALUES/ITEMS return
// them sorted). Each entry costs its key's length plus its value's
// serialized size against max_bytes. The namespace kind is a Dict too: its
// attributes are the keys.
//
// Thread safety: single-threaded (see object.h).
#ifndef IPCD_OBJECTS_DICT_H_
#define IPCD_OBJECTS_DICT_H_

#include <map>

#include "objects/object.h"

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

  using Map = std::map<std::string, v1::Value, std::less<>>;
  // For watches: every entry, in key order, and one key's value (nullptr
  // when absent).
  const Map& entries() const { return entries_; }
  const v1::Value* Find(std::string_view key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second;
  }

 private:

  // entries_.lower_bound(key), cheaply for a key past the last one.
  Map::iterator Position(std::string_view key);
  // Sets key to value, charging the size difference; RESOURCE_EXHAUSTED
  // (and no change) when it does not fit.
  OpStatus Store(const std::string& key, const v1::Value& value,
                 OpContext& ctx);
  OpStatus Update(const v1::Call& call, OpContext& ctx);
  OpStatus CompareAndSet(const v1::Call& call, OpContext& ctx,
                         v1::Result* result);
  OpStatus MissingKey(const std::string& key) const;
  void Erase(Map::iterator it, OpContext& ctx);

  Map entries_;
};

}  // namespace ipcd

#endif  // IPCD_OBJECTS_DICT_H_
