#include "ipc/shared_dict.h"

#include <unistd.h>

#include <cerrno>
#include <new>
#include <stdexcept>

#include "manager/wire.h"
#include "posix/fork_generation.h"
#include "proto/ipcd.pb.h"
#include "sync/named_object.h"
#include "sync/robust_mutex.h"
#include "sync/shared_dict_area.h"

namespace ipc {
namespace {

namespace bi = boost::interprocess;
using internal::dict::DictHeader;
using internal::dict::kAreaOffset;
using internal::dict::Map;
using internal::dict::SegmentManager;
using internal::dict::String;
using internal::dict::View;

constexpr size_t kMinCapacity = 4096;
constexpr size_t kMaxCapacity = size_t{64} << 30;

std::string What(std::string_view name) { return "shared dict '" + std::string(name) + "'"; }

// A key for a message: at most 64 bytes, unprintable bytes as '?'.
std::string Quoted(std::string_view key) {
  std::string out = "'";
  for (char c : key.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out + (key.size() > 64 ? "...'" : "'");
}

// Builds the header and an empty tree in a zero-filled segment.
void InitDict(void* base, size_t capacity) {
  auto* header = new (base) DictHeader{};
  internal::InitRobustMutex(&header->lock, /*recursive=*/false);
  header->capacity = capacity;
  internal::dict::Area area(bi::create_only, static_cast<char*>(base) + kAreaOffset, capacity);
  SegmentManager* manager = area.get_segment_manager();
  auto* map = new (manager->allocate(sizeof(Map))) Map(internal::dict::KeyLess(), manager);
  header->map_offset = reinterpret_cast<char*>(map) - (static_cast<char*>(base) + kAreaOffset);
  internal::StampObject(&header->stamp, internal::ObjectKind::kSharedDict);
}

// This process's pid without a system call per change: cached, and read
// again after a fork.
int32_t SelfPid() {
  thread_local uint64_t generation = ~uint64_t{0};
  thread_local int32_t pid = 0;
  const uint64_t now = internal::ForkGeneration();
  if (now != generation) {
    pid = static_cast<int32_t>(::getpid());
    generation = now;
  }
  return pid;
}

// Marks the holder as inside a change for as long as it lives: a holder
// that dies with the mark set leaves the tree possibly torn. The signal
// fences keep the compiler from moving the tree's writes outside the mark
// (a kill is asynchronous; the lock orders the rest between processes).
class Change {
 public:
  explicit Change(DictHeader* header) : header_(header) {
    header_->changing.store(SelfPid(), std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
  ~Change() {
    std::atomic_signal_fence(std::memory_order_seq_cst);
    header_->changing.store(0, std::memory_order_relaxed);
  }
  Change(const Change&) = delete;
  Change& operator=(const Change&) = delete;

 private:
  DictHeader* header_;
};

}  // namespace

struct SharedDict::Mapping {
  internal::ShmSegment segment;
  DictHeader* header;
  char* area_base;
  size_t capacity;  // As checked at open: the header's copy is not trusted.
  internal::dict::Area area;  // Opened over area_base; Reset rebuilds it in place.
};

// Holds the dict's lock for one call, after taking over from a holder that
// died (counted, or marking the dict torn if it died inside a change), and
// checking that the dict is usable and its header sane.
class SharedDict::Locked {
 public:
  Locked(SharedDict& dict, Deadline deadline, bool even_if_torn = false)
      : dict_(dict), status_(Take(deadline, even_if_torn)) {}
  Locked(const Locked&) = delete;
  Locked& operator=(const Locked&) = delete;

  const Status& status() const { return status_; }
  DictHeader* header() const { return dict_.mapping_->header; }
  SegmentManager* manager() const { return dict_.mapping_->area.get_segment_manager(); }
  Map& map() const { return *map_; }
  std::string What() const { return ipc::What(dict_.name_); }

  // kFull for a change that did not fit (nothing was changed).
  Status Full(std::string_view key) const {
    return Status(ErrorCode::kFull,
                  What() + " is full: its capacity (SharedDictOptions::capacity, " +
                      std::to_string(dict_.mapping_->capacity) + " bytes, " +
                      std::to_string(manager()->get_free_memory()) +
                      " free) cannot hold the entry for key " + Quoted(key) +
                      "; nothing was changed");
  }
  Status NotFound(std::string_view key) const {
    return Status(ErrorCode::kNotFound, What() + ": no key " + Quoted(key));
  }

 private:
  Status Take(Deadline deadline, bool even_if_torn) {
    if (!dict_.mapping_) return Status(ErrorCode::kClosed, "shared dict is not open");
    DictHeader* h = header();
    const int rc = internal::LockRobustMutex(&h->lock, deadline);
    if (rc == ETIMEDOUT || rc == EBUSY) return deadline.ExpiredStatus(What() + ": lock");
    if (rc != 0 && rc != EOWNERDEAD) return ErrnoStatus(What() + ": lock", rc);
    held_.lock = &h->lock;
    if (rc == EOWNERDEAD) {
      const int32_t changer = h->changing.load(std::memory_order_relaxed);
      if (changer != 0) {
        h->torn_by = changer;
        h->changing.store(0, std::memory_order_relaxed);
      } else {
        ++h->owner_deaths;
      }
      pthread_mutex_consistent(&h->lock);
    }
    if (h->torn_by != 0 && !even_if_torn) {
      return Status(ErrorCode::kNotRecoverable,
                    What() + " is not recoverable: process " + std::to_string(h->torn_by) +
                        " died in the middle of changing it, so its entries may be "
                        "torn; Reset() empties it for use again (or Unlink it and "
                        "create it anew)");
    }
    const uint64_t map_offset = h->map_offset;  // Read once: checked, then used.
    if (map_offset % alignof(Map) != 0 || map_offset > dict_.mapping_->capacity - sizeof(Map)) {
      return Status(ErrorCode::kProtocolError, What() + ": its header is damaged");
    }
    map_ = reinterpret_cast<Map*>(dict_.mapping_->area_base + map_offset);
    return Status::Ok();
  }

  // Unlocks when destroyed: a member built before status_, so that it also
  // unlocks if Take throws (std::bad_alloc building a message) after
  // locking.
  struct Held {
    pthread_mutex_t* lock = nullptr;
    ~Held() {
      if (lock) pthread_mutex_unlock(lock);
    }
  };

  SharedDict& dict_;
  Held held_;
  Map* map_ = nullptr;
  Status status_;
};

SharedDict::SharedDict() = default;
SharedDict::~SharedDict() = default;
SharedDict::SharedDict(SharedDict&&) noexcept = default;
SharedDict& SharedDict::operator=(SharedDict&&) noexcept = default;
SharedDict::SharedDict(std::string name, std::unique_ptr<Mapping> mapping)
    : name_(std::move(name)), mapping_(std::move(mapping)) {}

Result<SharedDict> SharedDict::Make(std::string_view name, const SharedDictOptions& options,
                                    bool create) {
  IPC_RETURN_IF_ERROR(internal::CheckObjectName("shared dict", name));
  const std::string shm_name = internal::ShmObjectName("dict", name);
  if (create && (options.capacity < kMinCapacity || options.capacity > kMaxCapacity)) {
    return Status(ErrorCode::kInvalidArgument,
                  What(name) + ": capacity must be between 4 KiB and 64 GiB");
  }
  const size_t capacity = options.capacity;
  Result<internal::ShmSegment> segment =
      create ? internal::ShmSegment::CreateInitialized(
                   shm_name, kAreaOffset + capacity, options.mode & 0666, What(name),
                   [capacity](void* base) { InitDict(base, capacity); })
             : internal::OpenStampedObject(shm_name, internal::ObjectKind::kSharedDict,
                                           kAreaOffset, What(name), options.mode);
  if (!segment.ok()) return segment.status();
  auto* header = static_cast<DictHeader*>(segment->data());
  const size_t area_size = header->capacity;  // Read once: the segment is shared.
  if (area_size < kMinCapacity || area_size > segment->size() - kAreaOffset) {
    return Status(ErrorCode::kProtocolError,
                  What(name) + ": header claims more than the segment holds");
  }
  char* area_base = static_cast<char*>(segment->data()) + kAreaOffset;
  auto mapping = std::unique_ptr<Mapping>(new Mapping{
      std::move(*segment), header, area_base, area_size,
      internal::dict::Area(bi::open_only, area_base, area_size)});
  return SharedDict(std::string(name), std::move(mapping));
}

Result<SharedDict> SharedDict::Create(std::string_view name, const SharedDictOptions& options) {
  return Make(name, options, true);
}

Result<SharedDict> SharedDict::Open(std::string_view name, uint32_t mode) {
  return Make(name, {.mode = mode}, false);
}

Result<SharedDict> SharedDict::OpenOrCreate(std::string_view name,
                                            const SharedDictOptions& options) {
  return internal::OpenOrCreate([&] { return Make(name, options, false); },
                                [&] { return Make(name, options, true); });
}

Status SharedDict::Unlink(std::string_view name) {
  IPC_RETURN_IF_ERROR(internal::CheckObjectName("shared dict", name));
  const std::string shm_name = internal::ShmObjectName("dict", name);
  // Only the stamp is checked, not the header: a dict whose header is
  // damaged can still be removed.
  IPC_RETURN_IF_ERROR(internal::OpenStampedObject(shm_name, internal::ObjectKind::kSharedDict,
                                                  kAreaOffset, What(name))
                          .status());
  return internal::ShmSegment::Unlink(shm_name, What(name));
}

Result<std::string> SharedDict::Get(std::string_view key, Deadline deadline) {
  Locked locked(*this, deadline);
  IPC_RETURN_IF_ERROR(locked.status());
  auto it = locked.map().find(key);
  if (it == locked.map().end()) return locked.NotFound(key);
  return std::string(View(it->second));
}

namespace {

// Runs a step that allocates in the area. False when it did not fit: the
// allocator throws bi::bad_alloc, and a string longer than the free space
// std::length_error, both before anything is changed.
template <typename Step>
bool Fits(const Step& step) {
  try {
    step();
    return true;
  } catch (const bi::bad_alloc&) {
    return false;
  } catch (const std::length_error&) {
    return false;
  }
}

// Stores value under key: in place when it fits the string's buffer, else
// in a new buffer swapped in, so a failed allocation changes nothing.
// REQUIRES: lock held, inside a Change. Throws as Fits says.
void Store(Map& map, SegmentManager* manager, std::string_view key, std::string_view value) {
  auto it = map.find(key);
  if (it == map.end()) {
    map.emplace(String(key.data(), key.size(), manager),
                String(value.data(), value.size(), manager));
  } else if (value.size() <= it->second.capacity()) {
    it->second.assign(value.data(), value.data() + value.size());
  } else {
    String fresh(value.data(), value.size(), manager);
    it->second.swap(fresh);
  }
}

}  // namespace

Status SharedDict::Set(std::string_view key, std::string_view value, Deadline deadline) {
  Locked locked(*this, deadline);
  IPC_RETURN_IF_ERROR(locked.status());
  Change change(locked.header());
  if (!Fits([&] { Store(locked.map(), locked.manager(), key, value); })) return locked.Full(key);
  return Status::Ok();
}

Result<std::string> SharedDict::SetDefault(std::string_view key, std::string_view value,
                                           Deadline deadline) {
  Locked locked(*this, deadline);
  IPC_RETURN_IF_ERROR(locked.status());
  Map& map = locked.map();
  auto it = map.find(key);
  if (it != map.end()) return std::string(View(it->second));
  Change change(locked.header());
  const bool fits = Fits([&] {
    map.emplace(String(key.data(), key.size(), locked.manager()),
                String(value.data(), value.size(), locked.manager()));
  });
  if (!fits) return locked.Full(key);
  return std::string(value);
}

Result<std::string> SharedDict::Pop(std::string_view key, Deadline deadline) {
  Locked locked(*this, deadline);
  IPC_RETURN_IF_ERROR(locked.status());
  Map& map = locked.map();
  auto it = map.find(key);
  if (it == map.end()) return locked.NotFound(key);
  std::string value(View(it->second));
  Change change(locked.header());
  map.erase(it);
  return value;
}

Status SharedDict::Delete(std::string_view key, Deadline deadline) {
  Locked locked(*this, deadline);
  IPC_RETURN_IF_ERROR(locked.status());
  auto it = locked.map().find(key);
  if (it == locked.map().end()) return locked.NotFound(key);
  Change change(locked.header());
  locked.map().erase(it);
  return Status::Ok();
}

Result<bool> SharedDict::Contains(std::string_view key, Deadline deadline) {
  Locked locked(*this, deadline);
  IPC_RETURN_IF_ERROR(locked.status());
  return locked.map().find(key) != locked.map().end();
}

Result<size_t> SharedDict::Size(Deadline deadline) {
  Locked locked(*this, deadline);
  IPC_RETURN_IF_ERROR(locked.status());
  return locked.map().size();
}

Result<std::vector<std::string>> SharedDict::Keys(Deadline deadline) {
  Locked locked(*this, deadline);
  IPC_RETURN_IF_ERROR(locked.status());
  std::vector<std::string> keys;
  keys.reserve(locked.map().size());
  for (const auto& [key, value] : locked.map()) keys.emplace_back(View(key));
  return keys;
}

Result<SharedDict::Items> SharedDict::GetItems(Deadline deadline) {
  Locked locked(*this, deadline);
  IPC_RETURN_IF_ERROR(locked.status());
  Items items;
  items.reserve(locked.map().size());
  for (const auto& [key, value] : locked.map()) items.emplace_back(View(key), View(value));
  return items;
}

Status SharedDict::Clear(Deadline deadline) {
  Locked locked(*this, deadline);
  IPC_RETURN_IF_ERROR(locked.status());
  Change change(locked.header());
  locked.map().clear();
  return Status::Ok();
}

Result<bool> SharedDict::CompareAndSet(std::string_view key,
                                       std::optional<std::string_view> expected,
                                       std::string_view desired, Deadline deadline) {
  Locked locked(*this, deadline);
  IPC_RETURN_IF_ERROR(locked.status());
  Map& map = locked.map();
  auto it = map.find(key);
  const bool matches = it == map.end() ? !expected.has_value()
                                       : expected.has_value() && View(it->second) == *expected;
  if (!matches) return false;
  Change change(locked.header());
  if (!Fits([&] { Store(map, locked.manager(), key, desired); })) return locked.Full(key);
  return true;
}

Status SharedDict::Update(const Items& pairs, Deadline deadline) {
  Locked locked(*this, deadline);
  IPC_RETURN_IF_ERROR(locked.status());
  Map& map = locked.map();
  SegmentManager* manager = locked.manager();
  Change change(locked.header());
  // What each pair replaced, to undo in reverse order if a later one does
  // not fit. Undoing allocates nothing: a replaced value is kept (swapped
  // out, still in the segment) until the end, an inserted key is erased.
  struct Undo {
    Map::iterator entry;
    bool inserted;
    String old_value;
  };
  std::vector<Undo> undo;
  undo.reserve(pairs.size());
  for (const auto& pair : pairs) {
    const std::string_view key = pair.first, value = pair.second;
    const bool fits = Fits([&] {
      auto it = map.find(key);
      if (it == map.end()) {
        it = map.emplace(String(key.data(), key.size(), manager),
                         String(value.data(), value.size(), manager)).first;
        undo.push_back({it, true, String(manager)});
      } else {
        String fresh(value.data(), value.size(), manager);
        it->second.swap(fresh);
        undo.push_back({it, false, std::move(fresh)});
      }
    });
    if (!fits) {
      for (auto u = undo.rbegin(); u != undo.rend(); ++u) {
        if (u->inserted) {
          map.erase(u->entry);
        } else {
          u->entry->second.swap(u->old_value);
        }
      }
      undo.clear();  // Frees the values that had been set, inside the Change.
      return locked.Full(key);
    }
  }
  undo.clear();  // Frees the replaced values, inside the Change.
  return Status::Ok();
}

Result<Value> SharedDict::GetValue(std::string_view key, Deadline deadline) {
  IPC_ASSIGN_OR_RETURN(std::string bytes, Get(key, deadline));
  ipcd::v1::Value proto;
  if (!proto.ParseFromString(bytes)) {
    return Status(ErrorCode::kProtocolError,
                  What(name_) + ": the bytes under key " + Quoted(key) +
                      " are not an encoded ipc::Value (set with Set, not SetValue?)");
  }
  return internal::ValueFromProto(proto);
}

Status SharedDict::SetValue(std::string_view key, const Value& value, Deadline deadline) {
  ipcd::v1::Value proto;
  internal::ValueToProto(value, &proto);
  return Set(key, proto.SerializeAsString(), deadline);
}

Status SharedDict::Reset(Deadline deadline) {
  Locked locked(*this, deadline, /*even_if_torn=*/true);
  if (!locked.status().ok() && locked.status().code() != ErrorCode::kProtocolError) {
    return locked.status();
  }
  DictHeader* h = locked.header();
  Change change(h);
  // A new segment manager over the same bytes: every process's Area points
  // at it already (it sits at the area's start). The old tree is dropped,
  // not destroyed: it may be torn.
  internal::dict::Area area(bi::create_only, mapping_->area_base, mapping_->capacity);
  SegmentManager* manager = area.get_segment_manager();
  auto* map = new (manager->allocate(sizeof(Map))) Map(internal::dict::KeyLess(), manager);
  h->map_offset = reinterpret_cast<char*>(map) - mapping_->area_base;
  h->torn_by = 0;
  return Status::Ok();
}

Result<SharedDictStats> SharedDict::Stats(Deadline deadline) {
  Locked locked(*this, deadline);
  IPC_RETURN_IF_ERROR(locked.status());
  return SharedDictStats{.size = locked.map().size(),
                         .capacity = mapping_->capacity,
                         .free_bytes = locked.manager()->get_free_memory(),
                         .owner_deaths = locked.header()->owner_deaths};
}

}  // namespace ipc
