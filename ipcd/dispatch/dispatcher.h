// Dispatcher: turns one Call into an operation on the object store. It
// checks the name, and the kind and op against the kind's spec
// (objects/kind.h), creates objects on first use, and reports which
// objects changed so that the server can retry requests parked on them.
// It knows nothing about connections.
//
// A change is what a successful call of an op its kind marks journaled or
// changes does (a COMPARE_AND_SET only when it swapped), the making of an
// object by its first use, and a call of such an op that parks or fails
// but changes the object's size (a barrier party arriving).
//
// Thread safety: single-threaded.
#ifndef IPCD_DISPATCH_DISPATCHER_H_
#define IPCD_DISPATCH_DISPATCHER_H_

#include "objects/object_store.h"

namespace ipcd {
namespace state {
class Journal;
}  // namespace state

// Implemented by the server, which owns the parked requests.
class WaiterHost {
 public:
  virtual ~WaiterHost() = default;
  // object, which has waiters, may now let some of them proceed.
  virtual void ObjectChanged(Object* object) = 0;
  // object is about to be destroyed: its waiters must be answered.
  virtual void ObjectDestroying(Object* object) = 0;
  // The object `name` was changed (made, changed, or destroyed: op
  // DESTROY) by call, or (call nullptr) on the side by a call on another
  // object: a condition's WAIT releasing its lock. For its watchers.
  virtual void ObjectWritten(std::string_view name, v1::Op op,
                             const v1::Call* call) = 0;
};

class Dispatcher final : public ObjectDirectory {
 public:
  Dispatcher(ObjectStore* store, WaiterHost* host)
      : store_(store), host_(host) {}

  // From now on every change is added to journal (nullptr: none), after
  // its space in the log was reserved; a change the log has no room for
  // is refused before it is applied.
  void set_journal(state::Journal* journal) { journal_ = journal; }

  // Runs call. When it must wait (only if ctx.may_wait, or when the object
  // waits on another: OpStatus::WaitOn), returns a waiting status and sets
  // *wait_on to the object to park on.
  OpStatus Execute(const v1::Call& call, OpContext& ctx, v1::Result* result,
                   Object** wait_on);

  // Fills list with the page of objects request asks for, in name order
  // (see ListObjects in proto/ipcd.proto).
  void ListObjects(const v1::ListObjects& request, v1::ObjectList* list) const;

  // ObjectDirectory.
  Object* Find(std::string_view name) const override { return store_->Find(name); }
  void Changed(Object* object, v1::Op op) override {
    host_->ObjectWritten(object->name(), op, nullptr);
    if (!object->waiters().empty()) host_->ObjectChanged(object);
  }

 private:
  OpStatus Destroy(const v1::Call& call);
  // Adds what call changed to the journal.
  // journaled: whether the op is (Journaled); call_bytes: as
  // OpContext::call_bytes; size: what was reserved.
  void Log(const v1::Call& call, bool journaled, std::string_view call_bytes,
           size_t size, const OpStatus& status, bool created,
           const v1::Result& result);

  ObjectStore* store_;
  WaiterHost* host_;
  state::Journal* journal_ = nullptr;
};

// The most objects, and about the most bytes of names, in one page of
// ListObjects.
inline constexpr uint32_t kMaxListPage = 1000;
inline constexpr size_t kMaxListPageBytes = 256 * 1024;

// OK when name is 1 to 255 bytes of printable UTF-8.
OpStatus CheckObjectName(const std::string& name);
// Whether a successful op on an object of kind changes state that the log
// keeps (locks are never persisted: their holders are connections).
bool Journaled(v1::Kind kind, v1::Op op);
// INVALID_ARGUMENT when a value of call nests deeper than kMaxValueNesting.
OpStatus CheckNesting(const v1::Call& call);

}  // namespace ipcd

#endif  // IPCD_DISPATCH_DISPATCHER_H_
