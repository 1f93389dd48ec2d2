#include "shm/ring.h"

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
  const uint64_t space = RecordSpace(payload.size());
  const uint64_t pos = head_ & (capacity_ - 1);
  const uint64_t to_end = capacity_ - pos;
  const uint64_t padding = space > to_end ? to_end : 0;
  const uint64_t needed = padding + space;
  if (capacity_ - (head_ - cached_tail_) < needed) {
    cached_tail_ = control_->tail.load(std::memory_order_acquire);
    if (capacity_ - (head_ - cached_tail_) < needed) return false;
  }
  uint64_t at = pos;
  if (padding != 0) {
    const RecordHeader pad{static_cast<uint32_t>(to_end - sizeof(RecordHeader)),
                           kRecordPad};
    std::memcpy(data_ + pos, &pad, sizeof(pad));
    at = 0;
  }
  const RecordHeader header{static_cast<uint32_t>(payload.size()), flags};
  std::memcpy(data_ + at, &header, sizeof(header));
  if (!payload.empty()) {
    std::memcpy(data_ + at + sizeof(header), payload.data(), payload.size());
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
  for (;;) {
    if (!HasData()) return false;
    const uint64_t pos = tail_ & (capacity_ - 1);
    const uint64_t available = cached_head_ - tail_;
    RecordHeader header;
    std::memcpy(&header, data_ + pos, sizeof(header));
    const uint64_t to_end = capacity_ - pos;
    if (header.flags & kRecordPad) {
      if (header.size + sizeof(RecordHeader) != to_end || available < to_end) {
        *error = Status(ErrorCode::kProtocolError,
                        "shared-memory ring is corrupt (bad padding record)");
        return false;
      }
      tail_ += to_end;  // Published lazily with the next Consume().
      continue;
    }
    const uint64_t space = RecordSpace(header.size);
    if (space > to_end || space > available ||
        (header.flags & ~(kRecordFirst | kRecordLast)) != 0) {
      *error = Status(ErrorCode::kProtocolError,
                      "shared-memory ring is corrupt (record of " +
                          std::to_string(header.size) + " bytes out of bounds)");
      return false;
    }
    record->payload = data_ + pos + sizeof(header);
    record->size = header.size;
    record->flags = header.flags;
    peeked_space_ = space;
    return true;
  }
}

void RingReader::Consume() {
  tail_ += peeked_space_;
  peeked_space_ = 0;
  control_->tail.store(tail_, std::memory_order_release);
}

}  // namespace ipc::internal
