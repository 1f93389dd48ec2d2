// Where a Request's calls lie in the bytes it was parsed from, so that the
// state log can take each change's Call as it came instead of serializing
// it again (a quarter of what the log costs the event loop under a
// write-saturated load: docs/benchmarks.md, "Durable state").
//
// The bytes are only used when they parse to exactly the Call that ran:
// when the Call's field appears once (protobuf merges a singular message
// field given twice) and a Batch is given in one piece. Otherwise these
// return false and the caller serializes the parsed Call. The bytes have
// already parsed as a Request; anything unexpected here (a group, a field
// cut short) is also a false, never a guess.
//
// Thread safety: pure functions.
#ifndef IPCD_DISPATCH_CALL_BYTES_H_
#define IPCD_DISPATCH_CALL_BYTES_H_

#include <string_view>
#include <vector>

namespace ipcd {

// The bytes of request's `call` (ipcd.v1.Request field 4).
bool FindCallBytes(std::string_view request, std::string_view* call);

// The bytes of each of request's batch calls (Request.batch = 5,
// Batch.calls = 1), in order. *calls is cleared first; after a false it
// holds nothing to use.
bool FindBatchCallBytes(std::string_view request,
                        std::vector<std::string_view>* calls);

}  // namespace ipcd

#endif  // IPCD_DISPATCH_CALL_BYTES_H_
