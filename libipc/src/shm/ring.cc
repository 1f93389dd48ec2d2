#include "shm/ring.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace ipc::internal {

RingWriter::RingWriter(RingControl* control, char* data, uint64_t capacity)
    : control_(control),
      data_(data),
      capacity_(capacity),
      head_(control->head.load(std::memory_order_relaxed)),
      cached_tail_(control->tail.load(std::memory_order_acquire)) {}

bool RingWriter::TryWrite(std::string_view payload, uint32_t flags) {
  const uint64_t needed = RecordSpace(payload.size());
  if (capacity_ - (head_ - cached_tail_) < needed) {
    cached_tail_ = control_->tail.load(std::memory_order_acquire);
    if (capacity_ - (head_ - cached_tail_) < needed) return false;
  }
  const uint64_t pos = head_ & (capacity_ - 1);
  const RecordHeader header{static_cast<uint32_t>(payload.size()), flags};
  std::memcpy(data_ + pos, &header, sizeof(header));
  const uint64_t start = (pos + sizeof(header)) & (capacity_ - 1);
  const uint64_t first = std::min<uint64_t>(payload.size(), capacity_ - start);
  if (first != 0) std::memcpy(data_ + start, payload.data(), first);
  if (first < payload.size()) {
    std::memcpy(data_, payload.data() + first, payload.size() - first);
  }
  head_ += needed;
  // Publishing head last is the commit: a writer killed before this line
  // leaves nothing visible to the reader.
  control_->head.store(head_, std::memory_order_release);
  return true;
}

bool RingWriter::Empty() {
  cached_tail_ = control_->tail.load(std::memory_order_acquire);
  return cached_tail_ == head_;
}

RingReader::RingReader(RingControl* control, const char* data,
                       uint64_t capacity)
    : control_(control),
      data_(data),
      capacity_(capacity),
      tail_(control->tail.load(std::memory_order_relaxed)),
      cached_head_(tail_) {}

bool RingReader::HasData() {
  if (cached_head_ != tail_) return true;
  cached_head_ = control_->head.load(std::memory_order_acquire);
  return cached_head_ != tail_;
}

bool RingReader::Peek(Record* record, Status* error) {
  if (!HasData()) return false;
  const uint64_t pos = tail_ & (capacity_ - 1);
  const uint64_t available = cached_head_ - tail_;
  RecordHeader header;
  std::memcpy(&header, data_ + pos, sizeof(header));
  const uint64_t space = RecordSpace(header.size);
  if (space > available || (header.flags & ~(kRecordFirst | kRecordLast)) != 0) {
    *error = Status(ErrorCode::kProtocolError,
                    "shared-memory ring is corrupt (record of " +
                        std::to_string(header.size) + " bytes out of bounds)");
    return false;
  }
  const uint64_t start = (pos + sizeof(header)) & (capacity_ - 1);
  record->first = data_ + start;
  record->second = data_;
  record->first_size =
      static_cast<uint32_t>(std::min<uint64_t>(header.size, capacity_ - start));
  record->size = header.size;
  record->flags = header.flags;
  peeked_space_ = space;
  return true;
}

void RingReader::Record::AppendTo(std::string* out) const {
  out->append(first, first_size);
  if (first_size < size) out->append(second, size - first_size);
}

void RingReader::Record::AssignTo(std::string* out) const {
  out->assign(first, first_size);
  if (first_size < size) out->append(second, size - first_size);
}

void RingReader::Consume() {
  tail_ += peeked_space_;
  peeked_space_ = 0;
  control_->tail.store(tail_, std::memory_order_release);
}

}  // namespace ipc::internal
