// PackedEntry: one dict entry — a key and its value serialized as an
// ipcd.v1.Value — in 32 bytes, with the bytes inline when key and value
// together fit in 24 (a short key with a small value: the usual entry) and
// in one heap block otherwise. A std::set of them is a dict's storage: a
// million small entries cost about 80 bytes each, where a
// std::map<std::string, v1::Value> node with its key's and its value's
// heap blocks cost about 190 (docs/benchmarks.md, "Memory").
//
// Entries order by key only, so the value may change in place even inside
// a std::set (set_value is const for that reason).
//
// Thread safety: a plain value; not for concurrent use.
#ifndef IPCD_OBJECTS_PACKED_ENTRY_H_
#define IPCD_OBJECTS_PACKED_ENTRY_H_

#include <cstdint>
#include <set>
#include <string_view>

namespace ipcd {

class PackedEntry {
 public:
  // REQUIRES: key.size() + value.size() < 4 GiB (a frame is far smaller).
  PackedEntry(std::string_view key, std::string_view value);
  ~PackedEntry();
  PackedEntry(const PackedEntry&) = delete;
  PackedEntry& operator=(const PackedEntry&) = delete;

  std::string_view key() const { return {data(), key_size_}; }
  // The value's serialized bytes.
  std::string_view value() const { return {data() + key_size_, value_size_}; }
  // Replaces the value; the key, and so the entry's place, stay.
  void set_value(std::string_view value) const;

 private:
  static constexpr size_t kInline = 24;
  bool is_inline() const { return size_t{key_size_} + value_size_ <= kInline; }
  const char* data() const { return is_inline() ? inline_ : heap_; }

  uint32_t key_size_;
  mutable uint32_t value_size_;
  union {
    mutable char inline_[kInline];
    mutable char* heap_;
  };
};

// Orders entries by key, and finds them by a key alone.
struct PackedEntryLess {
  using is_transparent = void;
  bool operator()(const PackedEntry& a, const PackedEntry& b) const { return a.key() < b.key(); }
  bool operator()(const PackedEntry& a, std::string_view b) const { return a.key() < b; }
  bool operator()(std::string_view a, const PackedEntry& b) const { return a < b.key(); }
};

using PackedEntries = std::set<PackedEntry, PackedEntryLess>;

}  // namespace ipcd

#endif  // IPCD_OBJECTS_PACKED_ENTRY_H_
