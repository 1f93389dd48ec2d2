// RawClient: a test client that speaks the ipcd protocol by hand (Request
// protos built field by field, one per channel message), so the daemon is
// tested against the wire contract rather than against the client library.
//
// Thread safety: one RawClient per thread; it records gtest failures, so
// forked children use a bare Channel instead.
#ifndef IPC_TESTS_IPCD_RAW_CLIENT_H_
#define IPC_TESTS_IPCD_RAW_CLIENT_H_

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ipc/channel.h"
#include "ipc/result.h"
#include "proto/ipcd.pb.h"

namespace ipc::testing {

namespace v1 = ::ipcd::v1;

// A Call on object name of kind, with op; the caller adds arguments.
v1::Call MakeCall(const std::string& name, v1::Kind kind, v1::Op op);
v1::Value IntValue(int64_t v);
v1::Value StringValue(const std::string& v);
v1::Value NullValue();
v1::Value BoolValue(bool v);
v1::Value DoubleValue(double v);
v1::Value BytesValue(const std::string& v);
v1::Value ListValue(const std::vector<v1::Value>& items);
v1::Value MapValue(const std::vector<std::pair<std::string, v1::Value>>& entries);

// Calls with their arguments filled in (QueuePut does not wait: timeout 0).
v1::Call DictSet(const std::string& dict, const std::string& key,
                 const v1::Value& value);
v1::Call CounterAdd(const std::string& counter, int64_t n);
v1::Call QueuePut(const std::string& queue, const v1::Value& value);

class RawClient {
 public:
  // Connects to url (waiting up to 10 s) and, when hello is set, does the
  // Hello exchange (expecting OK). Failures are recorded as gtest failures;
  // check ok() afterwards.
  static RawClient Open(const std::string& url, bool hello = true);

  bool ok() const { return channel_.is_open(); }
  Channel& channel() { return channel_; }

  // Sends request as is (its id included).
  Status Send(const v1::Request& request);
  // Sends raw bytes as one channel message.
  Status SendBytes(const std::string& bytes);
  // Receives one Response (10 s deadline by default).
  Result<v1::Response> Receive(Deadline deadline = std::chrono::seconds(10));

  // Sends a Request carrying body (a fresh id) and returns the Response,
  // checking that its id matches. A missing response is a test failure and
  // an INTERNAL status in the returned Response.
  v1::Response Hello(uint32_t version = v1::PROTOCOL_VERSION_CURRENT,
                     const std::string& client_nonce = "");
  v1::Response Call(const v1::Call& call);
  v1::Response Batch(const v1::Batch& batch);
  v1::Response Stats();
  v1::Response List();
  v1::Response Roundtrip(v1::Request request);

  // Sends a Call without waiting for its answer; returns its id.
  uint64_t SendCall(const v1::Call& call);

  // True when the daemon has closed this connection (the next receive
  // reports kClosed within 10 s).
  bool WaitClosed();

  uint64_t next_id() { return ++last_id_; }

 private:
  Channel channel_;
  uint64_t last_id_ = 0;
};

// The code of a Response's status (OK when unset).
inline v1::Code CodeOf(const v1::Response& r) { return r.status().code(); }

}  // namespace ipc::testing

#endif  // IPC_TESTS_IPCD_RAW_CLIENT_H_
