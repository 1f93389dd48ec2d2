// List: a sequence of Values indexed from 0, with Python's list operations
// (append, extend, get and set at an index, insert, pop, remove, index,
// count, len, slices, clear). Indices may be negative (from the end); one
// out of range is INVALID_ARGUMENT naming the index and the length. Each
// item costs its serialized size against max_bytes.
//
// A deque: appends and pops at either end are O(1), an index O(1), insert
// and remove in the middle O(n).
//
// Thread safety: single-threaded (see object.h).
#ifndef IPCD_OBJECTS_LIST_H_
#define IPCD_OBJECTS_LIST_H_

#include <deque>

#include "objects/object.h"

namespace ipcd {

class List final : public Object {
 public:
  explicit List(std::string name) : Object(std::move(name), v1::LIST) {}

  OpStatus Execute(const v1::Call& call, OpContext& ctx,
                   v1::Result* result) override;
  int64_t Size() const override { return static_cast<int64_t>(items_.size()); }
  void WatchState(v1::Value* out) const override {
    auto* list = out->mutable_list_value();
    for (const v1::Value& item : items_) *list->add_items() = item;
  }
  void Save(CallSink& sink) const override;

 private:
  // The position call.index() names (default_index when unset), or
  // INVALID_ARGUMENT when it is outside the list.
  OpStatus At(const v1::Call& call, int64_t default_index, size_t* at) const;
  OpStatus Insert(size_t at, const v1::Value& value, OpContext& ctx);
  // The first item equal to value, or items_.end().
  std::deque<v1::Value>::const_iterator Find(const v1::Value& value) const;
  OpStatus Missing(const v1::Value& value) const;

  std::deque<v1::Value> items_;
};

}  // namespace ipcd

#endif  // IPCD_OBJECTS_LIST_H_
