// PackedEntry (ipcd/objects/packed_entry.h): a dict entry's key and value
// bytes, inline while they fit and in a heap block otherwise, through every
// change of value size (ASan checks the blocks).
#include "objects/packed_entry.h"

#include <gtest/gtest.h>

#include <string>

namespace ipcd {
namespace {

TEST(PackedEntryTest, KeepsKeyAndValueAcrossEverySizeChange) {
  // Sizes on both sides of the 24 inline bytes, for short and long keys.
  for (const std::string& key : {std::string("k"), std::string(20, 'k'), std::string(40, 'K')}) {
    const PackedEntry entry(key, "first");
    EXPECT_EQ(entry.key(), key);
    EXPECT_EQ(entry.value(), "first");
    // 24 - key.size(): exactly full (for the short keys).
    for (size_t size : {size_t{0}, size_t{1}, size_t{3}, 24 - key.size() % 24, size_t{24}, size_t{100},
                        size_t{2}, size_t{1000}, size_t{0}, size_t{5}}) {
      const std::string value(size, static_cast<char>('a' + size % 26));
      entry.set_value(value);
      EXPECT_EQ(entry.key(), key) << size;
      EXPECT_EQ(entry.value(), value) << size;
    }
  }
}

TEST(PackedEntryTest, ASetFindsByKeyAloneAndKeepsKeyOrder) {
  PackedEntries entries;
  for (const char* key : {"b", "a", "a-much-longer-key-than-the-inline-bytes", "c"}) {
    entries.emplace(key, std::string("v:") + key);
  }
  std::string order;
  for (const PackedEntry& e : entries) order += std::string(e.key()) + ",";
  EXPECT_EQ(order, "a,a-much-longer-key-than-the-inline-bytes,b,c,");
  auto it = entries.find(std::string_view("b"));
  ASSERT_NE(it, entries.end());
  it->set_value(std::string(300, 'x'));  // Its place depends on the key only.
  EXPECT_EQ(entries.find(std::string_view("b"))->value().size(), 300u);
  EXPECT_EQ(entries.find(std::string_view("zz")), entries.end());
}

}  // namespace
}  // namespace ipcd
