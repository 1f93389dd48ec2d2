// The shm:// data path's ring (libipc/src/shm/ring.h) on its own: a writer
// and a reader on two threads over one buffer. A channel's two ends map
// their segment at two addresses, which ThreadSanitizer cannot relate; here
// it sees both sides of the same bytes, so under TSan this checks that
// publishing head (and tail) orders the records' bytes for the other side.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "shm/ring.h"

namespace {

using ipc::internal::kRecordFirst;
using ipc::internal::kRecordLast;
using ipc::internal::MaxFragment;
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

TEST(ShmRingTest, WriterAndReaderThreadsPassEveryRecordWholeAndInOrder) {
  auto ring = std::make_unique<Ring>();  // Zeroed: both indices start at 0.
  RingWriter writer(&ring->control, ring->data, kCapacity);
  RingReader reader(&ring->control, ring->data, kCapacity);
  constexpr uint32_t kRecords = 20000;
  std::atomic<bool> reader_gave_up{false};  // So the writer never waits alone.

  std::thread producer([&] {
    for (uint32_t i = 0; i < kRecords && !reader_gave_up; ++i) {
      const std::string payload = Payload(i);
      for (;;) {
        const RingWriter::WriteResult r =
            writer.TryWrite(payload, kRecordFirst | kRecordLast);
        if (r == RingWriter::WriteResult::kWritten) break;
        if (r == RingWriter::WriteResult::kCorrupt) {
          ADD_FAILURE() << "the writer found the ring corrupt at record " << i;
          return;
        }
        if (reader_gave_up) return;
        std::this_thread::yield();
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

}  // namespace
