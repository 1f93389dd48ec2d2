#include "objects/packed_entry.h"

#include <cstring>

namespace ipcd {

static_assert(sizeof(PackedEntry) == 32, "a set node of 64 bytes: 80 with malloc's header");

PackedEntry::PackedEntry(std::string_view key, std::string_view value)
    : key_size_(static_cast<uint32_t>(key.size())),
      value_size_(static_cast<uint32_t>(value.size())) {
  char* to = is_inline() ? inline_ : (heap_ = new char[key.size() + value.size()]);
  std::memcpy(to, key.data(), key.size());
  if (!value.empty()) std::memcpy(to + key.size(), value.data(), value.size());
}

PackedEntry::~PackedEntry() {
  if (!is_inline()) delete[] heap_;
}

void PackedEntry::set_value(std::string_view value) const {
  const bool was_inline = is_inline();
  const bool fits_inline = size_t{key_size_} + value.size() <= kInline;
  char* const old_heap = was_inline ? nullptr : heap_;
  if (fits_inline) {
    // The key moves in from the heap block (if it was there) before the
    // union's bytes become the inline copy.
    char key[kInline];
    std::memcpy(key, data(), key_size_);
    std::memcpy(inline_, key, key_size_);
    if (!value.empty()) std::memcpy(inline_ + key_size_, value.data(), value.size());
  } else {
    char* block = new char[key_size_ + value.size()];
    std::memcpy(block, data(), key_size_);
    std::memcpy(block + key_size_, value.data(), value.size());
    heap_ = block;
  }
  value_size_ = static_cast<uint32_t>(value.size());
  delete[] old_heap;
}

}  // namespace ipcd
