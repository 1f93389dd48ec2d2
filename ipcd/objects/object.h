// Object: the base of every named object ipcd holds (dict, counter, lock,
// queue, event), and the small types the object kinds share.
//
// An object executes one Call at a time against its own state; it knows
// nothing about sockets or sessions beyond a session id. A call that would
// block returns OpStatus::Wait() without changing anything (a condition's
// WAIT excepted: it releases its lock first), and the server parks the
// request on the object's waiter list; after the object changes, the
// server retries its waiters in FIFO order. A retried request may move to
// another object's list (OpStatus::WaitOn). Only a condition reaches
// beyond its own state, to its lock (OpContext::objects).
//
// Thread safety: single-threaded, like the whole daemon.
#ifndef IPCD_OBJECTS_OBJECT_H_
#define IPCD_OBJECTS_OBJECT_H_

#include <cstdint>
#include <list>
#include <set>
#include <string>
#include <string_view>

#include "proto/ipcd.pb.h"

namespace ipcd {

class Object;
class Session;

// The outcome of an operation: OK, an error code with a message for
// people, or "must wait" (only when OpContext::may_wait, or by WaitOn).
struct OpStatus {
  v1::Code code = v1::OK;
  bool wait = false;
  // Where to park when waiting; nullptr = on the object the call names.
  Object* wait_on = nullptr;
  std::string message;

  static OpStatus Ok() { return OpStatus(); }
  static OpStatus Wait() {
    OpStatus s;
    s.wait = true;
    return s;
  }
  // Waits on another object: a condition's waiter that queues for its
  // lock. Unlike Wait(), also returned when !may_wait (a waiter whose
  // timeout passed must still get the lock back before it is answered).
  static OpStatus WaitOn(Object* other) {
    OpStatus s = Wait();
    s.wait_on = other;
    return s;
  }
  static OpStatus Error(v1::Code code, std::string message) {
    OpStatus s;
    s.code = code;
    s.message = std::move(message);
    return s;
  }
  bool ok() const { return code == v1::OK && !wait; }
};

// The bytes of stored values, summed over all objects, and their limit.
struct ByteBudget {
  int64_t used = 0;
  int64_t max = 0;
};

// The objects beside the one a call names, for a kind that acts on two
// (a condition releases and takes its lock). Implemented by the dispatcher.
class ObjectDirectory {
 public:
  virtual ~ObjectDirectory() = default;
  // The object named name, or nullptr.
  virtual Object* Find(std::string_view name) const = 0;
  // object, not the one the call names, was changed by op (a lock a
  // condition released or took): its waiters are retried, its watchers
  // told.
  virtual void Changed(Object* object, v1::Op op) = 0;
};

// What an operation may know about who calls it.
struct OpContext {
  uint64_t session_id = 0;
  // False in batches and when a parked request's deadline has passed: a
  // blocking call then fails with its timeout code instead of waiting.
  bool may_wait = true;
  // The call is a parked request run again (woken, or past its deadline),
  // not a new one.
  bool retried = false;
  ByteBudget* budget = nullptr;
  // The names of objects the calling connection holds something of (a
  // lock, semaphore units, a condition's wait), whose ReleaseHoldsOf runs
  // when it closes.
  std::set<std::string, std::less<>>* held_locks = nullptr;
  // Set by the dispatcher before an object executes a call.
  ObjectDirectory* objects = nullptr;
  // The call's bytes as the client sent them (dispatch/call_bytes.h), which
  // the state log takes instead of serializing the call again; empty when
  // not known.
  std::string_view call_bytes;
};

// Where an object writes the calls that recreate it from nothing (a
// snapshot of the state log, ipcd/state/).
class CallSink {
 public:
  virtual ~CallSink() = default;
  // A cleared call to fill in. The one returned before is complete once
  // this is called again (or the sink is finished).
  virtual v1::Call* Add() = 0;
};

class Object {
 public:
  Object(std::string name, v1::Kind kind)
      : name_(std::move(name)), kind_(kind) {}
  virtual ~Object() = default;
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  // REQUIRES: call.kind() == kind() and the op is one this kind accepts.
  virtual OpStatus Execute(const v1::Call& call, OpContext& ctx,
                           v1::Result* result) = 0;
  // ObjectInfo.size: dict keys, queue items, counter value, lock holds,
  // event 1/0.
  virtual int64_t Size() const = 0;
  // The object's state as a watch sees it (WatchEvent.value): by default
  // the number Size() reports. Dicts and namespaces are sent as entries
  // instead (ipcd/loop/watches.cc).
  virtual void WatchState(v1::Value* out) const { out->set_int_value(Size()); }
  // Writes the calls that recreate this object's state to sink; kinds
  // that are not persisted (locks: their holders are connections) write
  // nothing.
  virtual void Save(CallSink& sink) const = 0;
  // Drops every hold of a closing session (and its parked wait, for kinds
  // that keep state per waiter; the server calls this for every name in
  // held_locks); true when others may now proceed.
  virtual bool ReleaseHoldsOf(uint64_t /*session_id*/) { return false; }
  // True when a waiter that cannot proceed blocks those behind it (locks:
  // strict FIFO hand-over), so a wake-up may stop at the first one.
  virtual bool strict_fifo() const { return false; }

  const std::string& name() const { return name_; }
  v1::Kind kind() const { return kind_; }
  // Bytes of values held, as counted against max_bytes.
  int64_t bytes() const { return bytes_; }
  // Sessions whose first unanswered request waits on this object, oldest
  // first. Maintained by the server.
  std::list<Session*>& waiters() { return waiters_; }

 protected:
  // True when the byte budget can take delta more bytes.
  static bool Fits(const OpContext& ctx, int64_t delta) {
    return delta <= 0 || ctx.budget->used + delta <= ctx.budget->max;
  }
  OpStatus OverBudget(const OpContext& ctx, int64_t delta) const;
  // Records a change of this object's stored bytes.
  void Charge(OpContext& ctx, int64_t delta) {
    bytes_ += delta;
    ctx.budget->used += delta;
  }
  // Whether a blocking call may wait: not in a batch, and timeout_ms is
  // unset (forever) or positive.
  static bool MayWait(const v1::Call& call, const OpContext& ctx) {
    return ctx.may_wait && (!call.has_timeout_ms() || call.timeout_ms() > 0);
  }
  // sink.Add() with this object's name and kind and op filled in.
  v1::Call* AddCall(CallSink& sink, v1::Op op) const;
  // "dict 'cfg'", for messages.
  std::string Describe() const;
  // UNSUPPORTED naming op: the answer of an Execute's default case, which
  // the dispatcher's op/kind check keeps from being reached.
  OpStatus Unsupported(v1::Op op) const;

 private:
  std::string name_;
  v1::Kind kind_;
  int64_t bytes_ = 0;
  std::list<Session*> waiters_;
};

// "dict", "counter", ... ("unknown kind N" for others).
std::string KindName(v1::Kind kind);
// "GET", "SET", ...
std::string OpName(v1::Op op);

}  // namespace ipcd

#endif  // IPCD_OBJECTS_OBJECT_H_
