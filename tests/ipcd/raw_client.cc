#include "raw_client.h"

#include <gtest/gtest.h>

#include "ipc/message.h"

namespace ipc::testing {

v1::Call MakeCall(const std::string& name, v1::Kind kind, v1::Op op) {
  v1::Call call;
  call.set_object(name);
  call.set_kind(kind);
  call.set_op(op);
  return call;
}

v1::Value IntValue(int64_t v) {
  v1::Value value;
  value.set_int_value(v);
  return value;
}

v1::Value StringValue(const std::string& v) {
  v1::Value value;
  value.set_string_value(v);
  return value;
}

v1::Value NullValue() {
  v1::Value v;
  v.set_null_value(v1::NULL_VALUE);
  return v;
}

v1::Value BoolValue(bool b) {
  v1::Value v;
  v.set_bool_value(b);
  return v;
}

v1::Value DoubleValue(double d) {
  v1::Value v;
  v.set_double_value(d);
  return v;
}

v1::Value BytesValue(const std::string& b) {
  v1::Value v;
  v.set_bytes_value(b);
  return v;
}

v1::Value ListValue(const std::vector<v1::Value>& items) {
  v1::Value v;
  auto* list = v.mutable_list_value();
  for (const v1::Value& item : items) *list->add_items() = item;
  return v;
}

v1::Value MapValue(const std::vector<std::pair<std::string, v1::Value>>& entries) {
  v1::Value v;
  auto* map = v.mutable_map_value();
  for (const auto& [key, value] : entries) {
    v1::Entry* e = map->add_entries();
    e->set_key(key);
    *e->mutable_value() = value;
  }
  return v;
}

v1::Call DictSet(const std::string& dict, const std::string& key,
                 const v1::Value& value) {
  v1::Call call = MakeCall(dict, v1::DICT, v1::SET);
  call.set_key(key);
  *call.mutable_value() = value;
  return call;
}

v1::Call CounterAdd(const std::string& counter, int64_t n) {
  v1::Call call = MakeCall(counter, v1::COUNTER, v1::ADD);
  *call.mutable_value() = IntValue(n);
  return call;
}

v1::Call QueuePut(const std::string& queue, const v1::Value& value) {
  v1::Call call = MakeCall(queue, v1::QUEUE, v1::PUT);
  *call.mutable_value() = value;
  call.set_timeout_ms(0);
  return call;
}

RawClient RawClient::Open(const std::string& url, bool hello) {
  RawClient client;
  auto channel = Connect(url, std::chrono::seconds(10));
  if (!channel.ok()) {
    ADD_FAILURE() << "connect " << url << ": " << channel.status();
    return client;
  }
  client.channel_ = std::move(*channel);
  if (hello) {
    v1::Response r = client.Hello();
    EXPECT_EQ(CodeOf(r), v1::OK) << r.status().message();
    EXPECT_TRUE(r.has_hello());
  }
  return client;
}

Status RawClient::Send(const v1::Request& request) {
  return SendMessage(channel_, request, std::chrono::seconds(10));
}

Status RawClient::SendBytes(const std::string& bytes) {
  return channel_.Send(bytes, std::chrono::seconds(10));
}

Result<v1::Response> RawClient::Receive(Deadline deadline) {
  return ReceiveMessage<v1::Response>(channel_, deadline);
}

v1::Response RawClient::Roundtrip(v1::Request request) {
  request.set_id(next_id());
  v1::Response out;
  Status sent = Send(request);
  if (!sent.ok()) {
    ADD_FAILURE() << "send: " << sent;
    out.mutable_status()->set_code(v1::INTERNAL);
    return out;
  }
  auto response = Receive();
  if (!response.ok()) {
    ADD_FAILURE() << "receive: " << response.status();
    out.mutable_status()->set_code(v1::INTERNAL);
    out.mutable_status()->set_message(response.status().ToString());
    return out;
  }
  EXPECT_EQ(response->id(), request.id());
  return std::move(*response);
}

v1::Response RawClient::Hello(uint32_t version,
                              const std::string& client_nonce) {
  v1::Request request;
  request.mutable_hello()->set_protocol_version(version);
  request.mutable_hello()->set_client_name("raw-test-client");
  request.mutable_hello()->set_client_nonce(client_nonce);
  return Roundtrip(request);
}

v1::Response RawClient::Call(const v1::Call& call) {
  v1::Request request;
  *request.mutable_call() = call;
  return Roundtrip(request);
}

v1::Response RawClient::Batch(const v1::Batch& batch) {
  v1::Request request;
  *request.mutable_batch() = batch;
  return Roundtrip(request);
}

v1::Response RawClient::Stats() {
  v1::Request request;
  request.mutable_get_stats();
  return Roundtrip(request);
}

v1::Response RawClient::List() {
  v1::Request request;
  request.mutable_list_objects();
  return Roundtrip(request);
}

uint64_t RawClient::SendCall(const v1::Call& call) {
  v1::Request request;
  request.set_id(next_id());
  *request.mutable_call() = call;
  EXPECT_TRUE(Send(request).ok());
  return request.id();
}

bool RawClient::WaitClosed() {
  for (;;) {
    auto message = channel_.Receive(std::chrono::seconds(10));
    if (message.ok()) continue;  // Drain what came before the close.
    return message.status().code() == ErrorCode::kClosed;
  }
}

}  // namespace ipc::testing
