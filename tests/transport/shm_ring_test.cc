// The shm:// data path's ring (libipc/src/shm/ring.h) on its own: a writer
// and a reader on two threads over one buffer. A channel's two ends map
// their segment at two addresses, which ThreadSanitizer cannot relate; here
// it sees both sides of the same bytes, so under TSan this checks that
// publishing head (and tail) orders the records' bytes for the other side.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "shm/ring.h"

namespace {

using ipc::internal::kRecordFirst;
using ipc::internal::kRecordLast;
using ipc::internal::kRecordSkip;
using ipc::internal::kRecordWhole;
using ipc::internal::MaxFragment;
using ipc::internal::MaxWhole;
using ipc::internal::RecordHeader;
using ipc::internal::RingControl;
using ipc::internal::RingReader;
using ipc::internal::RingWriter;

constexpr uint64_t kCapacity = 4096;

struct Ring {
  RingControl control;
  char data[kCapacity];
};

// Record i: sizes from 0 to the largest fragment, so that records wrap
// around the end of the data area at every offset; bytes derived from i.
std::string Payload(uint32_t i) {
  std::string p((i * 37) % (MaxFragment(kCapacity) + 1), '\0');
  for (size_t k = 0; k < p.size(); ++k) p[k] = static_cast<char>(i * 13 + k);
  return p;
}

// Retries attempt (a TryWrite or TryLoan of record i) while the ring is
// full; false, and the producer stops, when the ring is corrupt or the
// reader gave up.
template <typename Attempt>
bool RetryUntilWritten(uint32_t i, const std::atomic<bool>& reader_gave_up,
                       const Attempt& attempt) {
  for (;;) {
    const RingWriter::WriteResult r = attempt();
    if (r == RingWriter::WriteResult::kWritten) return true;
    if (r == RingWriter::WriteResult::kCorrupt) {
      ADD_FAILURE() << "the writer found the ring corrupt at record " << i;
      return false;
    }
    if (reader_gave_up) return false;
    std::this_thread::yield();
  }
}

TEST(ShmRingTest, WriterAndReaderThreadsPassEveryRecordWholeAndInOrder) {
  auto ring = std::make_unique<Ring>();  // Zeroed: both indices start at 0.
  RingWriter writer(&ring->control, ring->data, kCapacity);
  RingReader reader(&ring->control, ring->data, kCapacity);
  constexpr uint32_t kRecords = 20000;
  std::atomic<bool> reader_gave_up{false};  // So the writer never waits alone.

  std::thread producer([&] {
    for (uint32_t i = 0; i < kRecords && !reader_gave_up; ++i) {
      const std::string payload = Payload(i);
      if (!RetryUntilWritten(i, reader_gave_up, [&] {
            return writer.TryWrite(payload, kRecordFirst | kRecordLast);
          })) {
        return;
      }
    }
  });
  std::string got;
  for (uint32_t i = 0; i < kRecords && !HasFailure(); ++i) {
    RingReader::Record record;
    ipc::Status error;
    while (!reader.Peek(&record, &error) && error.ok()) std::this_thread::yield();
    if (!error.ok()) {
      ADD_FAILURE() << "record " << i << ": " << error;
      break;
    }
    EXPECT_EQ(record.flags, kRecordFirst | kRecordLast);
    record.AssignTo(&got);
    EXPECT_TRUE(got == Payload(i)) << "record " << i << " of " << got.size() << " bytes";
    reader.Consume();
  }
  reader_gave_up = HasFailure();
  producer.join();
  EXPECT_TRUE(writer.Empty());
}


// Record i's size for the loan test: 0 to MaxWhole, in steps that put
// records at every 8-byte offset, so that SKIP records of every length
// (including 0 bytes of padding) occur.
std::string LoanPayload(uint32_t i) {
  std::string p((i * 53) % (MaxWhole(kCapacity) + 1), '\0');
  for (size_t k = 0; k < p.size(); ++k) p[k] = static_cast<char>(i * 29 + k);
  return p;
}

// Loaned records (whole, contiguous, after a SKIP when needed) between
// ordinary ones: the reader gets each whole, in order, in one piece.
TEST(ShmRingTest, LoanedRecordsAndTheirSkipsPassBesideOrdinaryOnes) {
  auto ring = std::make_unique<Ring>();
  RingWriter writer(&ring->control, ring->data, kCapacity);
  RingReader reader(&ring->control, ring->data, kCapacity);
  constexpr uint32_t kRecords = 20000;
  std::atomic<bool> reader_gave_up{false};

  std::thread producer([&] {
    for (uint32_t i = 0; i < kRecords && !reader_gave_up; ++i) {
      const bool loan = i % 4 != 3;
      const std::string payload = loan ? LoanPayload(i) : Payload(i);
      char* room = nullptr;
      if (!RetryUntilWritten(i, reader_gave_up, [&] {
            return loan ? writer.TryLoan(payload.size(), &room)
                        : writer.TryWrite(payload, kRecordFirst | kRecordLast);
          })) {
        return;
      }
      if (loan) {
        std::memcpy(room, payload.data(), payload.size());
        writer.CommitLoan(payload.size());
      }
    }
  });
  for (uint32_t i = 0; i < kRecords && !HasFailure(); ++i) {
    const bool loan = i % 4 != 3;
    RingReader::Record record;
    ipc::Status error;
    while (!reader.Peek(&record, &error) && error.ok()) std::this_thread::yield();
    if (!error.ok()) {
      ADD_FAILURE() << "record " << i << ": " << error;
      break;
    }
    const std::string expected = loan ? LoanPayload(i) : Payload(i);
    if (loan) {
      EXPECT_EQ(record.flags, kRecordFirst | kRecordLast | kRecordWhole) << i;
      EXPECT_EQ(record.first_size, record.size) << "a loaned record wrapped: " << i;
    }
    std::string got;
    record.AssignTo(&got);
    EXPECT_TRUE(got == expected) << "record " << i << " of " << got.size() << " bytes";
    reader.Consume();
  }
  reader_gave_up = HasFailure();
  producer.join();
  EXPECT_TRUE(writer.Empty());
}

// A hostile writer's whole and SKIP records: each bad one is a protocol
// error, never a read outside the data area.
struct BadRecord {
  const char* what;
  uint64_t position;  // Where the header goes (the reader's tail too).
  RecordHeader header;
  uint64_t published;  // Bytes published from position.
  RecordHeader next{0, kRecordFirst | kRecordLast};  // At offset 0, after a SKIP.
};

TEST(ShmRingTest, BadWholeAndSkipRecordsAreProtocolErrors) {
  constexpr uint32_t kAll = kRecordFirst | kRecordLast | kRecordWhole;
  const uint32_t max_whole = static_cast<uint32_t>(MaxWhole(kCapacity));
  const BadRecord cases[] = {
      {"whole record over MaxWhole", 0, {max_whole + 8, kAll}, kCapacity},
      {"whole record that wraps", kCapacity - 64, {512, kAll}, 1024},
      {"whole flag without first and last", 0, {16, kRecordWhole}, 64},
      {"skip of the wrong length", kCapacity - 64, {48, kRecordSkip}, 128},
      {"skip at offset 0", 0, {static_cast<uint32_t>(kCapacity - 8), kRecordSkip}, kCapacity},
      {"skip with nothing after it", kCapacity - 64, {56, kRecordSkip}, 64},
      {"skip then a bad record", kCapacity - 64, {56, kRecordSkip}, 128,
       {max_whole + 8, kAll}},
      {"two skips", kCapacity - 64, {56, kRecordSkip}, 128,
       {static_cast<uint32_t>(kCapacity - 8), kRecordSkip}},
  };
  for (const BadRecord& c : cases) {
    SCOPED_TRACE(c.what);
    auto ring = std::make_unique<Ring>();
    // Start both ends at c.position: the writer publishes records up to
    // there, the reader consumes them.
    RingWriter writer(&ring->control, ring->data, kCapacity);
    RingReader reader(&ring->control, ring->data, kCapacity);
    for (uint64_t at = 0; at < c.position; at += 64) {
      ASSERT_EQ(writer.TryWrite(std::string(56, 'x'), kRecordFirst | kRecordLast),
                RingWriter::WriteResult::kWritten);
      RingReader::Record record;
      ipc::Status error;
      ASSERT_TRUE(reader.Peek(&record, &error)) << error;
      reader.Consume();
    }
    std::memcpy(ring->data + c.position, &c.header, sizeof(c.header));
    if (c.position != 0) std::memcpy(ring->data, &c.next, sizeof(c.next));
    ring->control.head.Publish(c.position + c.published);
    RingReader::Record record;
    ipc::Status error;
    EXPECT_FALSE(reader.Peek(&record, &error));
    EXPECT_EQ(error.code(), ipc::ErrorCode::kProtocolError) << error;
  }
}

}  // namespace
