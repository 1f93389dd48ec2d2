// A single-producer, single-consumer ring of variable-size records in shared
// memory: the data path of the shm:// channel.
//
// Layout: a RingControl block (indices and sleep flags, each side's fields on
// its own cache line) and a power-of-two data area. Indices are byte counts
// that only grow; a position is index & (capacity - 1). Each record is an
// 8-byte header {size, flags} and its payload, padded to 8 bytes. Headers are
// 8-aligned and so never straddle the end of the data area; a payload may
// wrap around it, and is then read in two pieces. No space is lost to
// padding, which keeps several fragments of a large message in flight.
//
// Loaned records (RingWriter::TryLoan, for zero-copy sends) are the
// exception: a whole message of up to MaxWhole(capacity) bytes in one
// record whose payload never wraps, so both ends can use it in place. When
// the room left before the end of the data area is too small, a SKIP record
// fills it and the loaned record starts at offset 0.
//
// Crash safety: the producer copies a record completely, then publishes it by
// a release store of head. A producer killed mid-copy never published the
// record, so the consumer never sees a torn one. Messages larger than one
// record (see kMaxFragment) travel as FIRST ... LAST fragments; the consumer
// assembles them and drops an unfinished message if the producer dies.
//
// Trust: the other end of a ring may be a hostile process that writes any
// bytes into the shared block at any time. Neither side ever takes a
// position or a size from shared memory without checking it first: each
// keeps its own index (both start at 0) and reads the peer's index only
// through SharedIndex::LoadChecked(), which rejects one that is misaligned
// or more than a ring's length away; every record header is checked against the bytes
// published and the largest fragment. The capacity is the caller's validated
// local copy, never re-read from the segment. A corrupt ring therefore
// yields kProtocolError, never a read or write outside the data area. What a
// hostile peer can still do is confined to its own traffic: send garbage
// payloads, or stop reading and writing.
//
// Thread safety: one RingWriter and one RingReader per ring, each used by one
// thread at a time; they may live in different processes.
#ifndef IPC_SRC_SHM_RING_H_
#define IPC_SRC_SHM_RING_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ipc/status.h"

namespace ipc::internal {

inline constexpr size_t kCacheLine = 64;

// A ring index in shared memory: written by one side, read by the other.
// The reading side can only get it through LoadChecked, which refuses a
// value that is misaligned or more than `capacity` away from the reader's
// own index in the direction the writer moves — so no caller can take a
// hostile peer's index without checking it.
class SharedIndex {
 public:
  // The owning side makes a new value visible (release).
  void Publish(uint64_t value) { value_.store(value, std::memory_order_release); }
  // The other side's view (acquire). ahead = true: the value may run ahead
  // of `own` by at most capacity (a reader loading head); ahead = false: it
  // may lag `own` by at most capacity (a writer loading tail). False, and
  // *index untouched, when the value breaks that rule.
  bool LoadChecked(uint64_t own, uint64_t capacity, bool ahead, uint64_t* index) const;

 private:
  std::atomic<uint64_t> value_{0};
};
static_assert(sizeof(SharedIndex) == sizeof(uint64_t));

struct RingControl {
  alignas(kCacheLine) SharedIndex head;  // Producer publishes.
  // Set by the producer before it sleeps for space; the consumer rings the
  // space doorbell when it sees it.
  std::atomic<uint32_t> producer_sleeping;
  alignas(kCacheLine) SharedIndex tail;  // Consumer publishes.
  // Set by the consumer before it sleeps (or when a poller asked to be told);
  // the producer rings the data doorbell when it sees it.
  std::atomic<uint32_t> consumer_sleeping;
};
static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(sizeof(RingControl) == 2 * kCacheLine);

enum RecordFlags : uint32_t {
  kRecordFirst = 1,  // First fragment of a message.
  kRecordLast = 2,   // Last fragment (a one-fragment message has both).
  // With First and Last: a whole message in one contiguous record, up to
  // MaxWhole bytes (a loaned record).
  kRecordWhole = 4,
  // Alone: padding from here to the end of the data area, never at offset
  // 0; the next record starts at offset 0.
  kRecordSkip = 8,
};

struct RecordHeader {
  uint32_t size;
  uint32_t flags;
};
static_assert(sizeof(RecordHeader) == 8);

// The largest payload one record carries in a ring of this capacity: a
// quarter of the ring, at most 64 KiB, so that the writer fills one fragment
// while the reader drains another, and both stay in the cache.
inline constexpr uint64_t MaxFragment(uint64_t capacity) {
  const uint64_t quarter = capacity / 4 - sizeof(uint64_t);
  return quarter < (uint64_t{64} << 10) ? quarter : (uint64_t{64} << 10);
}

// The largest whole (loaned) record: half the ring less its header, so
// that a SKIP record plus the record always fit in an empty ring.
inline constexpr uint64_t MaxWhole(uint64_t capacity) {
  return capacity / 2 - sizeof(uint64_t);
}

inline constexpr uint64_t RecordSpace(uint64_t payload) {
  return sizeof(RecordHeader) + ((payload + 7) & ~uint64_t{7});
}

// The error a ring reports when its peer broke the ring's rules.
Status CorruptRingStatus(const std::string& detail);

class RingWriter {
 public:
  enum class WriteResult { kWritten, kFull, kCorrupt };

  RingWriter() = default;
  // REQUIRES: capacity is a power of two >= 64 (the caller's validated copy,
  // not a shared field); data spans capacity bytes. The ring must be new:
  // both indices start at 0.
  RingWriter(RingControl* control, char* data, uint64_t capacity);

  // Copies one record (payload.size() <= MaxFragment) and publishes it.
  // kFull when there is no room now (nothing written); kCorrupt when the
  // reader's index is impossible (see SharedIndex::LoadChecked).
  WriteResult TryWrite(std::string_view payload, uint32_t flags);
  // TryWrite without the publish: the record stays invisible to the reader
  // until Publish (or the next TryWrite or CommitLoan, which publish every
  // record before theirs), so that many records cost the reader one
  // wake-up.
  WriteResult TryStage(std::string_view payload, uint32_t flags);
  void Publish();
  // Reserves a contiguous record of size bytes (<= MaxWhole) and points
  // *payload at its payload, which the caller fills before CommitLoan.
  // Nothing is visible to the reader until then; a new TryLoan or TryWrite
  // abandons an uncommitted loan. kFull and kCorrupt as for TryWrite.
  WriteResult TryLoan(uint64_t size, char** payload);
  // Publishes the loaned record with its first size bytes (<= the size
  // loaned) as one whole message.
  void CommitLoan(uint64_t size);
  // True when nothing published is left unread (or the ring is corrupt).
  bool Empty();

  RingControl* control() const { return control_; }
  uint64_t capacity() const { return capacity_; }

 private:
  RingControl* control_ = nullptr;
  char* data_ = nullptr;
  uint64_t capacity_ = 0;
  uint64_t head_ = 0;         // Our own index, mirrored to control_->head.
  uint64_t cached_tail_ = 0;  // Last valid tail we read; refreshed when full.
  uint64_t loan_skip_ = 0;    // Bytes of SKIP record before the loaned one.

  // True when needed bytes are free, refreshing the cached tail if not;
  // false with *corrupt set when the reader's index is impossible.
  bool HasRoom(uint64_t needed, bool* corrupt);
};

class RingReader {
 public:
  RingReader() = default;
  // REQUIRES: as for RingWriter.
  RingReader(RingControl* control, const char* data, uint64_t capacity);

  // A record's payload: first[0, first_size) then, if it wrapped around
  // the end of the data area, second[0, size - first_size).
  struct Record {
    const char* first;
    const char* second;
    uint32_t first_size;
    uint32_t size;
    uint32_t flags;
    // Appends the payload to out.
    void AppendTo(std::string* out) const;
    void AssignTo(std::string* out) const;
  };
  // The next record, without consuming it (a SKIP record before it is
  // consumed on the way). Returns false when the ring is empty;
  // kProtocolError in *error (and false) when the ring is corrupt.
  bool Peek(Record* record, Status* error);
  // Frees the record returned by the last successful Peek.
  void Consume();
  // True when a record is published and unread, or when the ring is found
  // corrupt (Peek then reports it): either way the reader should stop
  // waiting. Refreshes the cached head.
  bool HasData();

  RingControl* control() const { return control_; }

 private:
  RingControl* control_ = nullptr;
  const char* data_ = nullptr;
  uint64_t capacity_ = 0;
  uint64_t tail_ = 0;
  uint64_t cached_head_ = 0;  // Last valid head we read; refreshed when empty.
  uint64_t peeked_space_ = 0;  // Bytes the peeked record occupies.
  bool corrupt_ = false;      // The writer published an impossible head.
};

}  // namespace ipc::internal

#endif  // IPC_SRC_SHM_RING_H_
