// ipc::SharedArray<T> and ipc::SharedValue<T>: typed values in named shared
// memory, like Python's multiprocessing.Array and Value.
//
//   auto hits = ipc::SharedValue<long>::Create("hits", 0).value();
//   hits.FetchAdd(1);                       // atomic, no lock, any process
//   auto grid = ipc::SharedArray<int>::Open("grid").value();
//   std::lock_guard<ipc::Mutex> guard(*grid.lock());   // Python's get_lock()
//   grid.data()[3] = 7;
//
// T must be trivially copyable. Load/Store are atomic when T is lock-free
// (int, long, double, pointers...), and otherwise take the value's lock (so
// a value of a larger T needs one: with_lock, the default). FetchAdd and
// CompareExchange need a lock-free T and never lock. data() is raw memory:
// hold lock() for compound updates. The block lives in
// /dev/shm/libipc.mem.NAME and the lock is the robust ipc::Mutex NAME.
// Create makes the lock first and publishes the block only once it is
// filled in, so an Open racing with Create sees the whole object or none.
// Open trusts only objects of this user or root (shared_memory.h, "Trust").
//
// Crashes: atomic operations cannot be torn. A process killed inside the
// locked Store of a larger T can leave that value half written; the next
// Load or Store goes on (the lock is marked consistent), so use
// lock()->Lock() and previous_owner_died() where a torn value matters.
//
// Thread safety: every method may be called from any thread of any process
// that opened the value.
#ifndef IPC_SHARED_VALUE_H_
#define IPC_SHARED_VALUE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "ipc/mutex.h"
#include "ipc/result.h"
#include "ipc/shared_memory.h"

namespace ipc {

template <typename T>
class SharedArray {
  static_assert(std::is_trivially_copyable_v<T>, "T must be trivially copyable");
  static_assert(alignof(T) <= 64, "T must not need more than 64-byte alignment");

 public:
  static constexpr bool kLockFree = std::atomic_ref<T>::is_always_lock_free;

  struct Options {
    bool with_lock = true;
    uint32_t mode = 0600;
  };

  // Creates NAME with `count` elements equal to fill.
  static Result<SharedArray> Create(std::string_view name, size_t count,
                                    const T& fill = T{}, Options options = {}) {
    if (!kLockFree && !options.with_lock) {
      return Status(ErrorCode::kInvalidArgument,
                    "shared value '" + std::string(name) +
                        "': a type that is not lock-free needs with_lock");
    }
    // The lock first, then the block, filled before its name appears: an
    // Open that finds the block finds it whole, and its lock already there.
    std::optional<Mutex> lock;
    if (options.with_lock) {
      IPC_ASSIGN_OR_RETURN(Mutex m, Mutex::Create(name, options.mode));
      lock.emplace(std::move(m));
    }
    auto memory = SharedMemory::Create(
        name, kArrayOffset + count * sizeof(T), options.mode, [&](void* base) {
          const Header header{count, options.with_lock ? kHasLock : 0};
          std::memcpy(base, &header, sizeof(header));
          T* items = reinterpret_cast<T*>(static_cast<char*>(base) + kArrayOffset);
          for (size_t i = 0; i < count; ++i) new (&items[i]) T(fill);
        });
    if (!memory.ok()) {
      if (lock) (void)Mutex::Unlink(name);  // Ours: Mutex::Create was exclusive.
      return memory.status();
    }
    return SharedArray(std::move(*memory), std::move(lock));
  }

  static Result<SharedArray> Create(std::string_view name, std::initializer_list<T> values,
                                    Options options = {}) {
    IPC_ASSIGN_OR_RETURN(SharedArray array, Create(name, values.size(), T{}, options));
    size_t i = 0;
    for (const T& v : values) array.data()[i++] = v;
    return array;
  }

  // Opens NAME; kNotFound if there is none. Only objects owned by this
  // user or root are opened (see shared_memory.h, "Trust").
  static Result<SharedArray> Open(std::string_view name) {
    IPC_ASSIGN_OR_RETURN(SharedMemory memory, SharedMemory::Open(name));
    Header header{};
    if (memory.size() >= kArrayOffset) std::memcpy(&header, memory.data(), sizeof(header));
    if (memory.size() < kArrayOffset ||
        header.count > (memory.size() - kArrayOffset) / sizeof(T)) {
      return Status(ErrorCode::kInvalidArgument,
                    "shared value '" + std::string(name) +
                        "' does not hold elements of this type");
    }
    std::optional<Mutex> lock;
    auto m = Mutex::Open(name);
    if (m.ok()) {
      lock.emplace(std::move(*m));
    } else if ((header.flags & kHasLock) || m.status().code() != ErrorCode::kNotFound) {
      // Made with a lock that is gone: it is being unlinked (kNotFound).
      return m.status();
    }
    if (!kLockFree && !lock) {
      return Status(ErrorCode::kInvalidArgument,
                    "shared value '" + std::string(name) +
                        "' has no lock, which a type that is not lock-free needs");
    }
    return SharedArray(std::move(memory), std::move(lock));
  }

  // Removes the name (and the lock's); users keep their mappings.
  static Status Unlink(std::string_view name) {
    Status lock = Mutex::Unlink(name);
    Status memory = SharedMemory::Unlink(name);
    if (!memory.ok()) return memory;
    return lock.code() == ErrorCode::kNotFound ? Status::Ok() : lock;
  }

  SharedArray() = default;

  size_t size() const { return count_; }
  T* data() const { return items_; }
  // The value's lock (Python's get_lock()), or nullptr if made without one.
  Mutex* lock() { return lock_ ? &*lock_ : nullptr; }

  // REQUIRES: i < size().
  T Load(size_t i) const {
    if constexpr (kLockFree) {
      return std::atomic_ref<T>(items_[i]).load(std::memory_order_acquire);
    } else {
      std::lock_guard<Mutex> guard(*lock_);
      return items_[i];
    }
  }
  void Store(size_t i, const T& value) {
    if constexpr (kLockFree) {
      std::atomic_ref<T>(items_[i]).store(value, std::memory_order_release);
    } else {
      std::lock_guard<Mutex> guard(*lock_);
      items_[i] = value;
    }
  }
  // Atomic read-modify-write without a lock. Returns the previous value.
  T FetchAdd(size_t i, T delta)
    requires(kLockFree && (std::is_integral_v<T> || std::is_floating_point_v<T>))
  {
    return std::atomic_ref<T>(items_[i]).fetch_add(delta, std::memory_order_acq_rel);
  }
  bool CompareExchange(size_t i, T& expected, T desired)
    requires kLockFree
  {
    return std::atomic_ref<T>(items_[i]).compare_exchange_strong(expected, desired);
  }

 private:
  // The block starts with a Header; the elements start kArrayOffset in.
  struct Header {
    uint64_t count;
    uint64_t flags;
  };
  static constexpr uint64_t kHasLock = 1;  // Open must find the lock.
  static constexpr size_t kArrayOffset = 64;

  SharedArray(SharedMemory memory, std::optional<Mutex> lock)
      : memory_(std::move(memory)), lock_(std::move(lock)) {
    std::memcpy(&count_, memory_.data(), sizeof(count_));
    items_ = reinterpret_cast<T*>(static_cast<char*>(memory_.data()) + kArrayOffset);
  }

  SharedMemory memory_;
  mutable std::optional<Mutex> lock_;  // Locking does not change the value.
  uint64_t count_ = 0;
  T* items_ = nullptr;
};

// One shared T: a SharedArray of one element with value-shaped methods.
template <typename T>
class SharedValue {
 public:
  using Options = typename SharedArray<T>::Options;

  static Result<SharedValue> Create(std::string_view name, const T& initial = T{},
                                    Options options = {}) {
    IPC_ASSIGN_OR_RETURN(SharedArray<T> array,
                         SharedArray<T>::Create(name, 1, initial, options));
    return SharedValue(std::move(array));
  }
  static Result<SharedValue> Open(std::string_view name) {
    IPC_ASSIGN_OR_RETURN(SharedArray<T> array, SharedArray<T>::Open(name));
    if (array.size() != 1) {
      return Status(ErrorCode::kInvalidArgument,
                    "'" + std::string(name) + "' is an array, not a value");
    }
    return SharedValue(std::move(array));
  }
  static Status Unlink(std::string_view name) { return SharedArray<T>::Unlink(name); }

  SharedValue() = default;

  T Load() const { return array_.Load(0); }
  void Store(const T& value) { array_.Store(0, value); }
  T FetchAdd(T delta) { return array_.FetchAdd(0, delta); }
  bool CompareExchange(T& expected, T desired) {
    return array_.CompareExchange(0, expected, desired);
  }
  T* get() const { return array_.data(); }
  Mutex* lock() { return array_.lock(); }

 private:
  explicit SharedValue(SharedArray<T> array) : array_(std::move(array)) {}
  SharedArray<T> array_;
};

}  // namespace ipc

#endif  // IPC_SHARED_VALUE_H_
