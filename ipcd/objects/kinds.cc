// The kinds the daemon knows, one line each; a kind's spec lives in its
// own file.
#include "objects/kind.h"

namespace ipcd {

extern const KindSpec kBarrierKind;
extern const KindSpec kConditionKind;
extern const KindSpec kCounterKind;
extern const KindSpec kDictKind;
extern const KindSpec kEventKind;
extern const KindSpec kListKind;
extern const KindSpec kLockKind;
extern const KindSpec kQueueKind;
extern const KindSpec kRLockKind;
extern const KindSpec kSemaphoreKind;
extern const KindSpec kBoundedSemaphoreKind;
extern const KindSpec kNamespaceKind;
extern const KindSpec kValueKind;

const KindSpec* FindKind(v1::Kind kind) {
  static const KindSpec* const kKinds[] = {
      &kBarrierKind,   &kConditionKind, &kCounterKind,   &kDictKind,      &kEventKind,     &kListKind,
      &kLockKind,      &kQueueKind,     &kRLockKind,     &kSemaphoreKind,
      &kBoundedSemaphoreKind, &kNamespaceKind, &kValueKind,
  };
  for (const KindSpec* spec : kKinds) {
    if (spec->kind == kind) return spec;
  }
  return nullptr;
}

}  // namespace ipcd
