// KindSpec: what one object kind is: its name, the operations it accepts
// and how the daemon treats each, and how to make one. Each kind defines
// its spec beside its implementation (counter.cc defines kCounterKind),
// the way each entry of Redis's command table describes one command; the
// dispatcher, the object store and the state log ask the spec instead of
// switching on kinds, so a new kind is its own file plus one line in
// kinds.cc.
//
// Thread safety: specs are constant; any thread may read them.
#ifndef IPCD_OBJECTS_KIND_H_
#define IPCD_OBJECTS_KIND_H_

#include <memory>
#include <span>

#include "objects/object.h"

namespace ipcd {

// How a kind treats one operation.
struct OpSpec {
  v1::Op op;
  // A successful call changes state that the state log keeps.
  bool journaled = false;
  // A successful call changes state the log does not keep (a lock's
  // holds): watches are told, the log is not. journaled implies it.
  bool changes = false;
  // On a name no object has, the call is answered as an empty object of
  // the kind would answer it (KindSpec::read_missing), and nothing is
  // created: a read does not make objects.
  bool reads_missing = false;

  bool Changes() const { return journaled || changes; }
};

struct KindSpec {
  v1::Kind kind;
  const char* name;  // "dict", as messages and ipcctl say it.
  // Every operation but CREATE and DESTROY, which every kind accepts.
  std::span<const OpSpec> ops;
  // Whether CREATE and DESTROY are logged (false for kinds whose objects
  // are never persisted: locks belong to connections).
  bool persisted = true;
  // Makes the object a first call (CREATE or a first use) names; refuses
  // arguments the object cannot be made with (a negative capacity).
  OpStatus (*make)(const v1::Call& call, std::unique_ptr<Object>* out);
  // A CREATE naming an object of this kind that exists: OK, or why its
  // arguments disagree with the object (nullptr: always OK).
  OpStatus (*check_create)(const Object& existing, const v1::Call& call) = nullptr;
  // The answer of an op with reads_missing on a missing object.
  OpStatus (*read_missing)(const v1::Call& call, v1::Result* result) = nullptr;

  // op's entry, or nullptr when the kind has no such operation (CREATE
  // and DESTROY included: the dispatcher handles them itself).
  const OpSpec* Find(v1::Op op) const {
    for (const OpSpec& spec : ops) {
      if (spec.op == op) return &spec;
    }
    return nullptr;
  }
};

// The spec of kind, or nullptr for KIND_UNSPECIFIED and unknown numbers.
const KindSpec* FindKind(v1::Kind kind);

}  // namespace ipcd

#endif  // IPCD_OBJECTS_KIND_H_
