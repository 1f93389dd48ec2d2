// The layout of an shm:// channel's segment, shared by both processes:
//
//   [SegmentHeader][RingControl x2][data ring 0][data ring 1]
//
// Ring 0 carries listener -> connector, ring 1 connector -> listener. The
// header opens with the stamp every libipc segment carries (magic, kind,
// creator pid and start time), which is what `ipcctl clean` reads.
#ifndef IPC_SRC_TRANSPORT_SHM_LAYOUT_H_
#define IPC_SRC_TRANSPORT_SHM_LAYOUT_H_

#include <atomic>
#include <cstdint>

#include "posix/object_stamp.h"
#include "shm/ring.h"

namespace ipc::internal {

struct ShmChannelHeader {
  ObjectStamp stamp;
  uint32_t version;
  uint32_t reserved;
  uint64_t capacity;  // Bytes per data ring; a power of two.
  // Set by an end that closes on purpose, so its peer's Send fails fast.
  std::atomic<uint32_t> closed[2];
};

inline constexpr uint32_t kShmChannelVersion = 1;
inline constexpr uint64_t kShmPage = 4096;

struct ShmChannelLayout {
  uint64_t control_offset[2];
  uint64_t data_offset[2];
  uint64_t total_size;
};

inline ShmChannelLayout ComputeShmLayout(uint64_t capacity) {
  ShmChannelLayout layout{};
  layout.control_offset[0] = kShmPage;
  layout.control_offset[1] = kShmPage + sizeof(RingControl);
  layout.data_offset[0] = 2 * kShmPage;
  layout.data_offset[1] = 2 * kShmPage + capacity;
  layout.total_size = 2 * kShmPage + 2 * capacity;
  return layout;
}

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_SHM_LAYOUT_H_
