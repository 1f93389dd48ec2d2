// The layout of an shm:// channel's segment, shared by both processes:
//
//   [SegmentHeader][RingControl x2][data ring 0][data ring 1]
//
// Ring 0 carries listener -> connector, ring 1 connector -> listener. The
// header opens with the stamp every libipc segment carries (magic, kind,
// creator pid and start time). The segment is a sealed memfd passed over
// the rendezvous socket, so it has no name in /dev/shm.
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
  // Bytes per data ring; a power of two. Written by the connector for the
  // record: the channel ends never read it back (each uses the capacity it
  // validated at the handshake), since a peer may change it at any time.
  uint64_t capacity;
  // Set by an end that closes on purpose, so its peer's Send fails fast.
  std::atomic<uint32_t> closed[2];
};

// 2: the segment is a sealed memfd, and nothing is trusted from it.
// 3: whole (loaned) records and SKIP records in the rings (shm/ring.h).
inline constexpr uint32_t kShmChannelVersion = 3;
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
