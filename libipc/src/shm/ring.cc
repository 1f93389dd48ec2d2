#include "shm/ring.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace ipc::internal {

bool SharedIndex::LoadChecked(uint64_t own, uint64_t capacity, bool ahead,
                              uint64_t* index) const {
  const uint64_t value = value_.load(std::memory_order_acquire);
  // Unsigned differences: a peer index on the wrong side of ours wraps to a
  // huge distance and fails the same test.
  const uint64_t distance = ahead ? value - own : own - value;
  if (distance > capacity || (value & 7) != 0) return false;
  *index = value;
  return true;
}

Status CorruptRingStatus(const std::string& detail) {
  return Status(ErrorCode::kProtocolError,
                "shared-memory ring is corrupt (" + detail +
                    "); the peer broke the ring's rules");
}

// Both indices start at 0 in a new ring (the connector creates it zeroed),
// so neither side takes its starting position from the shared block.
RingWriter::RingWriter(RingControl* control, char* data, uint64_t capacity)
    : control_(control), data_(data), capacity_(capacity) {}

bool RingWriter::HasRoom(uint64_t needed, bool* corrupt) {
  *corrupt = false;
  if (capacity_ - (head_ - cached_tail_) >= needed) return true;
  if (!control_->tail.LoadChecked(head_, capacity_, /*ahead=*/false, &cached_tail_)) {
    *corrupt = true;
    return false;
  }
  return capacity_ - (head_ - cached_tail_) >= needed;
}

RingWriter::WriteResult RingWriter::TryWrite(std::string_view payload,
                                             uint32_t flags) {
  const WriteResult result = TryStage(payload, flags);
  if (result == WriteResult::kWritten) Publish();
  return result;
}

void RingWriter::Publish() {
  // Publishing head last is the commit: a writer killed before this line
  // leaves nothing it staged visible to the reader.
  control_->head.Publish(head_);
}

RingWriter::WriteResult RingWriter::TryStage(std::string_view payload,
                                             uint32_t flags) {
  const uint64_t needed = RecordSpace(payload.size());
  if (bool corrupt; !HasRoom(needed, &corrupt)) {
    return corrupt ? WriteResult::kCorrupt : WriteResult::kFull;
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
  return WriteResult::kWritten;
}

RingWriter::WriteResult RingWriter::TryLoan(uint64_t size, char** payload) {
  const uint64_t pos = head_ & (capacity_ - 1);
  const uint64_t space = RecordSpace(size);
  // The payload must not wrap: if the record does not fit before the end
  // of the data area, a SKIP record takes the rest and it starts at 0.
  loan_skip_ = capacity_ - pos < space ? capacity_ - pos : 0;
  if (bool corrupt; !HasRoom(loan_skip_ + space, &corrupt)) {
    return corrupt ? WriteResult::kCorrupt : WriteResult::kFull;
  }
  *payload = data_ + (loan_skip_ != 0 ? 0 : pos) + sizeof(RecordHeader);
  return WriteResult::kWritten;
}

void RingWriter::CommitLoan(uint64_t size) {
  const uint64_t pos = head_ & (capacity_ - 1);
  if (loan_skip_ != 0) {
    const RecordHeader skip{static_cast<uint32_t>(loan_skip_ - sizeof(RecordHeader)),
                            kRecordSkip};
    std::memcpy(data_ + pos, &skip, sizeof(skip));
  }
  const RecordHeader header{static_cast<uint32_t>(size),
                            kRecordFirst | kRecordLast | kRecordWhole};
  std::memcpy(data_ + (loan_skip_ != 0 ? 0 : pos), &header, sizeof(header));
  head_ += loan_skip_ + RecordSpace(size);
  loan_skip_ = 0;
  control_->head.Publish(head_);
}

bool RingWriter::Empty() {
  if (!control_->tail.LoadChecked(head_, capacity_, /*ahead=*/false,
                     &cached_tail_)) {
    return true;  // Nothing sensible is left to wait for.
  }
  return cached_tail_ == head_;
}

RingReader::RingReader(RingControl* control, const char* data,
                       uint64_t capacity)
    : control_(control), data_(data), capacity_(capacity) {}

bool RingReader::HasData() {
  if (cached_head_ != tail_ || corrupt_) return true;
  if (!control_->head.LoadChecked(tail_, capacity_, /*ahead=*/true,
                     &cached_head_)) {
    corrupt_ = true;
    return true;
  }
  return cached_head_ != tail_;
}

bool RingReader::Peek(Record* record, Status* error) {
  if (!HasData()) return false;
  if (corrupt_) {
    *error = CorruptRingStatus("the writer's head is misaligned or more than "
                               "the ring's capacity ahead");
    return false;
  }
  uint64_t pos = tail_ & (capacity_ - 1);
  uint64_t available = cached_head_ - tail_;  // <= capacity_, checked.
  // One copy of the header, checked and then used: the writer may change
  // the shared bytes under us.
  RecordHeader header;
  std::memcpy(&header, data_ + pos, sizeof(header));
  if (header.flags == kRecordSkip && pos != 0 &&
      header.size == capacity_ - pos - sizeof(header) &&
      capacity_ - pos < available) {
    // Padding before a loaned record at offset 0, published with it.
    tail_ += capacity_ - pos;
    available -= capacity_ - pos;
    pos = 0;
    std::memcpy(&header, data_, sizeof(header));
  }
  const uint64_t space = RecordSpace(header.size);
  const bool whole = header.flags == (kRecordFirst | kRecordLast | kRecordWhole);
  const bool fits = whole ? header.size <= MaxWhole(capacity_) &&
                                pos + sizeof(header) + header.size <= capacity_
                          : header.size <= MaxFragment(capacity_) &&
                                (header.flags & ~(kRecordFirst | kRecordLast)) == 0;
  if (!fits || space > available) {
    corrupt_ = true;
    *error = CorruptRingStatus("record of " + std::to_string(header.size) +
                               " bytes, flags " + std::to_string(header.flags) +
                               ", with " + std::to_string(available) +
                               " bytes published");
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
  control_->tail.Publish(tail_);
}

}  // namespace ipc::internal
