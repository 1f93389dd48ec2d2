// The shared layout of an ipc::SharedDict segment: a header with the lock,
// then a Boost.Interprocess managed area holding the entries' tree.
//
//   [ DictHeader | pad to kAreaOffset | managed area (capacity bytes) ]
//
// The area's allocator takes no lock of its own (NoMutexFamily): every
// access is under the header's robust lock.
#ifndef IPC_SRC_SYNC_SHARED_DICT_AREA_H_
#define IPC_SRC_SYNC_SHARED_DICT_AREA_H_

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <string_view>
#include <utility>

#include <boost/container/map.hpp>
#include <boost/container/string.hpp>
#include <boost/interprocess/allocators/allocator.hpp>
#include <boost/interprocess/indexes/null_index.hpp>
#include <boost/interprocess/managed_external_buffer.hpp>
#include <boost/interprocess/mem_algo/rbtree_best_fit.hpp>
#include <boost/interprocess/sync/null_mutex.hpp>

#include "posix/object_stamp.h"

namespace ipc::internal::dict {

namespace bi = boost::interprocess;

// Boost's null_mutex_family, aligned as its segment manager's header
// requires (Boost 1.74 asserts pointer alignment of the mutex it embeds).
struct alignas(void*) NoMutex : bi::null_mutex {};
struct NoMutexFamily {
  using mutex_type = NoMutex;
  using recursive_mutex_type = NoMutex;
};

// Named objects are not used (the tree's offset is in the header), so no
// name index.
using Area = bi::basic_managed_external_buffer<char, bi::rbtree_best_fit<NoMutexFamily>,
                                                bi::null_index>;
using SegmentManager = Area::segment_manager;
using CharAllocator = bi::allocator<char, SegmentManager>;
using String = boost::container::basic_string<char, std::char_traits<char>, CharAllocator>;

inline std::string_view View(const String& s) { return {s.data(), s.size()}; }

// Orders the tree by bytes and finds a std::string_view key without
// building a String in the segment.
struct KeyLess {
  using is_transparent = void;
  static std::string_view V(const String& s) { return View(s); }
  static std::string_view V(std::string_view s) { return s; }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return V(a) < V(b);
  }
};

using Map = boost::container::map<String, String, KeyLess,
                                  bi::allocator<std::pair<const String, String>, SegmentManager>>;

// Fields are only ever appended (the segment is zero-filled, so a new field
// starts at 0).
struct DictHeader {
  ObjectStamp stamp;
  pthread_mutex_t lock;  // Robust (sync/robust_mutex.h); guards all below.
  uint64_t capacity;     // Bytes of the managed area.
  uint64_t map_offset;   // Of the Map, from the area's start.
  // The pid of a process inside a change, 0 outside one. Written by the
  // holder only; read by the next locker when the holder died.
  std::atomic<int32_t> changing;
  // The pid of a process that died inside a change: the area may be torn
  // and the dict refuses use until Reset. 0 when healthy.
  int32_t torn_by;
  uint64_t owner_deaths;  // Holders that died outside a change.
};

inline constexpr size_t kAreaOffset = 256;
static_assert(sizeof(DictHeader) <= kAreaOffset);

}  // namespace ipc::internal::dict

#endif  // IPC_SRC_SYNC_SHARED_DICT_AREA_H_
