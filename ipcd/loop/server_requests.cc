// The request side of Server (see server.h): frames in, responses out, in
// each connection's order; the handshake; parking and waking.
#include "daemon/log.h"
#include "dispatch/call_bytes.h"
#include "loop/preauth.h"
#include "loop/server.h"
#include "objects/queue.h"
#include "objects/value.h"

namespace ipcd {
namespace {

void SetStatus(v1::Response& response, OpStatus& status) {
  if (status.code == v1::OK) return;
  response.clear_body();
  v1::Status* out = response.mutable_status();
  out->set_code(status.code);
  out->set_message(std::move(status.message));
}

}  // namespace

void Server::Respond(Session* s, v1::Response& response) {
  if (s->dead) return;
  ++requests_total_;
  Write(s, response);
}

void Server::Write(Session* s, v1::Response& response) {
  response.SerializeToString(&write_buffer_);
  if (static_cast<int64_t>(write_buffer_.size()) > limits_.max_frame_bytes) {
    const size_t size = write_buffer_.size();
    const uint64_t id = response.id();
    response.Clear();
    response.set_id(id);
    response.mutable_status()->set_code(v1::MESSAGE_TOO_LARGE);
    response.mutable_status()->set_message(
        "the response is " + std::to_string(size) +
        " bytes, over the max_frame_bytes limit (" +
        std::to_string(limits_.max_frame_bytes) + ")");
    response.SerializeToString(&write_buffer_);
  }
  SendBytes(s, write_buffer_);
}

bool Server::Backlogged(Session* s) const {
  return s->outbox.size() >= WatchHub::kMaxBacklog ||
         s->outbox_bytes >= WatchHub::kMaxBacklogBytes ||
         s->unflushed_events >= WatchHub::kMaxBacklog ||
         s->unflushed_event_bytes >= WatchHub::kMaxBacklogBytes;
}

bool Server::SendEvent(Session* s, v1::Response& response) {
  if (response.ByteSizeLong() > static_cast<size_t>(limits_.max_frame_bytes)) {
    return false;
  }
  if (s->dead) return true;
  // Sent only once the state it shows is as durable as a response that
  // acknowledges it would be: every record so far, and the one being built.
  if (journal_ != nullptr) {
    const uint64_t open = journal_->open_seq();
    s->sync_seq = std::max(s->sync_seq, open != 0 ? open : journal_->last_seq());
  }
  // Counted where it waits: in the channel's buffer until the next flush
  // (when Write left it there: the session is queued for a flush), or
  // (once the peer does not take more) in the outbox, which counts itself.
  // A channel without a buffer takes it at once: nothing to count (counted,
  // it would never be flushed, and the watch would miss every later change).
  Write(s, response);
  if (s->flush_queued && s->outbox.empty() && !s->tail_pending) {
    ++s->unflushed_events;
    s->unflushed_event_bytes += response.GetCachedSize();
  }
  return true;
}

void Server::ResyncIfDue(Session* s) {
  if (s->watch_resync_due && !s->dead && s->state != Session::State::kClosing &&
      s->outbox.empty() && !s->tail_pending) {
    watches_.Resync(s, s->watches);
  }
}

void Server::ObjectWritten(std::string_view name, v1::Op op,
                           const v1::Call* call) {
  watches_.Changed(name, op, call);
}

void Server::RespondError(Session* s, uint64_t id, v1::Code code,
                          std::string message) {
  v1::Response response;
  response.set_id(id);
  response.mutable_status()->set_code(code);
  response.mutable_status()->set_message(std::move(message));
  Respond(s, response);
}

void Server::OnFrame(Session* s, const std::string& bytes) {
  if (s->state != Session::State::kReady) {
    OnHandshakeFrame(s, bytes);
    return;
  }
  if (!s->inbox.empty()) {
    Enqueue(s, bytes);
    return;
  }
  // The fast path: nothing is waiting on this connection, so the request
  // runs now and its response goes out before the next frame is read.
  v1::Request& request =
      *google::protobuf::Arena::CreateMessage<v1::Request>(&arena_);
  if (!ParseRequest(bytes, &request)) {
    RespondError(s, 0, v1::PROTOCOL_ERROR,
                 "a frame of " + std::to_string(bytes.size()) +
                     " bytes does not parse as an ipcd.v1.Request; closing");
    BeginClosing(s);
    return;
  }
  if (request.id() == 0) {
    RespondError(s, 0, v1::PROTOCOL_ERROR, kIdZero);
    return;
  }
  HandleReady(s, request, /*in_inbox=*/false, bytes);
  Settle();
}

void Server::OnOversizedFrame(Session* s, std::string message) {
  if (message.find("max_frame_bytes") == std::string::npos) {
    message += " (max_frame_bytes " + std::to_string(limits_.max_frame_bytes) + ")";
  }
  if (s->state != Session::State::kReady) {
    RespondError(s, 0, v1::MESSAGE_TOO_LARGE, message + "; closing");
    BeginClosing(s);
    return;
  }
  // The channel discarded the frame unread and stays usable: answer in
  // turn and carry on.
  if (s->inbox.empty()) {
    RespondError(s, 0, v1::MESSAGE_TOO_LARGE, std::move(message));
    return;
  }
  PendingRequest& p = s->inbox.emplace_back();
  p.refusal = v1::MESSAGE_TOO_LARGE;
  p.refusal_message = std::move(message);
}

void Server::Enqueue(Session* s, const std::string& bytes) {
  PendingRequest& p = s->inbox.emplace_back();
  if (!ParseRequest(bytes, &p.request)) {
    p.request.Clear();
    p.refusal = v1::PROTOCOL_ERROR;
    p.refusal_message = "a frame of " + std::to_string(bytes.size()) +
                        " bytes does not parse as an ipcd.v1.Request; closing";
    p.close_after = true;
    // Nothing after an unparsable frame can be trusted to be framed as
    // meant: read no further.
    s->stop_reading = true;
    return;
  }
  if (p.request.id() == 0) {
    p.request.clear_body();
    p.refusal = v1::PROTOCOL_ERROR;
    p.refusal_message = kIdZero;
    return;
  }
  if (s->queued >= limits_.max_pending_per_client) {
    p.request.clear_body();  // Keep only the id.
    p.refusal = v1::RESOURCE_EXHAUSTED;
    p.refusal_message = "max_pending_per_client limit (" +
                        std::to_string(limits_.max_pending_per_client) +
                        " unanswered requests on this connection) reached";
    return;
  }
  ++s->queued;
}

OpContext Server::ContextFor(Session* s, bool may_wait) {
  OpContext ctx;
  ctx.session_id = s->id;
  ctx.may_wait = may_wait;
  ctx.budget = &store_.budget();
  ctx.held_locks = &s->held_locks;
  return ctx;
}

bool Server::HandleReady(Session* s, v1::Request& request, bool in_inbox,
                         std::string_view frame) {
  v1::Response& response =
      *google::protobuf::Arena::CreateMessage<v1::Response>(&arena_);
  response.set_id(request.id());
  switch (request.body_case()) {
    case v1::Request::kCall: {
      OpContext ctx = ContextFor(s, /*may_wait=*/true);
      if (std::string_view bytes;
          journal_ != nullptr && FindCallBytes(frame, &bytes)) {
        ctx.call_bytes = bytes;
      }
      Object* wait_on = nullptr;
      OpStatus status = dispatcher_.Execute(
          request.call(), ctx, response.mutable_result(), &wait_on);
      if (status.wait) {
        NoteChanges(s);  // A first use that created the object.
        if (!in_inbox) {
          s->inbox.emplace_back().request.Swap(&request);
          ++s->queued;
        }
        Park(s, wait_on);
        return true;
      }
      SetStatus(response, status);
      break;
    }
    case v1::Request::kBatch: {
      // Atomic: the calls run back to back, and the waiters of the objects
      // they changed are woken once the batch is over (by the caller).
      v1::BatchReply* batch = response.mutable_batch();
      std::vector<std::string_view>& bytes = batch_call_bytes_;
      if (journal_ == nullptr || !FindBatchCallBytes(frame, &bytes) ||
          bytes.size() != static_cast<size_t>(request.batch().calls_size())) {
        bytes.clear();
      }
      int i = 0;
      for (const v1::Call& call : request.batch().calls()) {
        OpContext ctx = ContextFor(s, /*may_wait=*/false);
        if (!bytes.empty()) ctx.call_bytes = bytes[i++];
        v1::CallReply* reply = batch->add_replies();
        Object* wait_on = nullptr;
        OpStatus status =
            dispatcher_.Execute(call, ctx, reply->mutable_result(), &wait_on);
        if (status.code != v1::OK) {
          reply->clear_result();
          reply->mutable_status()->set_code(status.code);
          reply->mutable_status()->set_message(std::move(status.message));
        }
      }
      break;
    }
    case v1::Request::kListObjects:
      dispatcher_.ListObjects(request.list_objects(), response.mutable_objects());
      break;
    case v1::Request::kGetStats:
      FillStats(response.mutable_stats());
      break;
    case v1::Request::kWatch: {
      // Answered by its first event (written by the hub), in its turn.
      OpStatus status = watches_.Add(s, s->watches, request.id(), request.watch());
      if (status.ok()) {
        ++requests_total_;
        return false;
      }
      SetStatus(response, status);
      break;
    }
    case v1::Request::kUnwatch:
      if (!watches_.Remove(s->watches, request.unwatch().watch_id())) {
        response.mutable_status()->set_code(v1::NOT_FOUND);
        response.mutable_status()->set_message(
            "this connection has no watch with id " +
            std::to_string(request.unwatch().watch_id()));
      }
      break;
    case v1::Request::kHello:
      response.mutable_status()->set_code(v1::PROTOCOL_ERROR);
      response.mutable_status()->set_message(
          "Hello was already received on this connection");
      break;
    case v1::Request::kAuthenticate:
      response.mutable_status()->set_code(v1::PROTOCOL_ERROR);
      response.mutable_status()->set_message(
          s->needs_auth ? "this connection is already authenticated"
                        : "this listener does not use authentication");
      break;
    default:
      response.mutable_status()->set_code(v1::UNSUPPORTED);
      response.mutable_status()->set_message(
          "unknown request type (no body this daemon knows)");
      break;
  }
  NoteChanges(s);
  Respond(s, response);
  return false;
}

void Server::ProcessInbox(Session* s) {
  while (!s->dead && s->state == Session::State::kReady &&
         s->parked_on == nullptr && !s->inbox.empty()) {
    PendingRequest& p = s->inbox.front();
    if (p.refusal != v1::OK) {
      const bool close = p.close_after;
      RespondError(s, p.request.id(), p.refusal, std::move(p.refusal_message));
      if (s->dead) return;
      s->inbox.pop_front();
      if (close) {
        BeginClosing(s);
        return;
      }
      continue;
    }
    if (HandleReady(s, p.request, /*in_inbox=*/true)) break;
    if (s->dead) return;
    s->inbox.pop_front();
    --s->queued;
    DrainWakeups();
  }
  if (!s->dead) UpdateInterest(s);
}

void Server::Park(Session* s, Object* object, bool with_deadline) {
  s->parked_on = object;
  s->wait_pos = object->waiters().insert(object->waiters().end(), s);
  ++parked_;
  if (!with_deadline) return;
  const v1::Call& call = s->inbox.front().request.call();
  // Timeouts beyond a century are "forever" (and would overflow the clock).
  constexpr int64_t kForeverMs = int64_t{100} * 365 * 24 * 3600 * 1000;
  if (call.has_timeout_ms() && call.timeout_ms() < kForeverMs) {
    s->has_deadline = true;
    s->deadline_pos = deadlines_.emplace(
        Clock::now() + std::chrono::milliseconds(call.timeout_ms()), s);
  }
}

void Server::Unpark(Session* s) {
  if (s->parked_on == nullptr) return;
  s->parked_on->waiters().erase(s->wait_pos);
  s->parked_on = nullptr;
  --parked_;
  if (s->has_deadline) {
    deadlines_.erase(s->deadline_pos);
    s->has_deadline = false;
  }
}

bool Server::RetryParked(Session* s, bool may_wait) {
  PendingRequest& p = s->inbox.front();
  Object* object = s->parked_on;
  v1::Response& response = wake_response_;
  response.Clear();
  response.set_id(p.request.id());
  OpContext ctx = ContextFor(s, may_wait);
  ctx.retried = true;
  Object* wait_on = nullptr;
  OpStatus status = dispatcher_.Execute(p.request.call(), ctx,
                                        response.mutable_result(), &wait_on);
  if (status.wait) {
    NoteChanges(s);  // What the retry changed before it parked again.
    if (wait_on == object) return false;
    // It waits on another object now (a condition's waiter queues for its
    // lock), at the back of that object's line, and without a deadline:
    // the deadline it had was for the first wait.
    Unpark(s);
    Park(s, wait_on, /*with_deadline=*/false);
    return true;
  }
  Unpark(s);
  const bool item = object->kind() == v1::QUEUE && status.code == v1::OK &&
                    p.request.call().op() == v1::GET;
  SetStatus(response, status);
  NoteChanges(s);
  Respond(s, response);
  if (item && response.has_result()) DeliverItem(s, object);
  if (s->dead) return true;
  s->inbox.pop_front();
  --s->queued;
  resume_.push_back(s);
  return true;
}

void Server::DeliverItem(Session* s, Object* queue) {
  if (!s->dead && s->flush_queued) FlushSession(s);
  if (!s->dead) return;
  // The connection failed while the item was written: it was not
  // delivered, so it goes back to the head of the queue.
  OpContext ctx = ContextFor(s, /*may_wait=*/false);
  v1::Value* item = wake_response_.mutable_result()->mutable_value();
  if (journal_ != nullptr) {
    journal_->AddRequeue(queue->name(), *item);
    journal_->EndRequest();
  }
  static_cast<Queue*>(queue)->Requeue(std::move(*item), ctx);
  watches_.Changed(queue->name(), v1::PUT, nullptr);
  LogInfo("session " + std::to_string(s->id) +
          " failed while taking an item of queue '" + queue->name() +
          "'; the item was put back at the head");
}

void Server::WakeWaiters(Object* object) {
  auto& waiters = object->waiters();
  for (auto it = waiters.begin(); it != waiters.end();) {
    auto next = std::next(it);
    // An item is never handed to a getter whose peer is known to be gone,
    // nor a condition's notify to such a waiter.
    if ((object->kind() == v1::QUEUE || object->kind() == v1::CONDITION) &&
        (*it)->channel.PeerGone()) {
      Drop(*it, "peer hung up");  // Unparks it: only *it is erased.
      it = next;
      continue;
    }
    if (!RetryParked(*it, /*may_wait=*/true) && object->strict_fifo()) break;
    it = next;
  }
}

void Server::ObjectChanged(Object* object) {
  changed_.push_back(object->name());
}

void Server::ObjectDestroying(Object* object) {
  v1::Response response;
  auto& waiters = object->waiters();
  while (!waiters.empty()) {
    Session* s = waiters.front();
    Unpark(s);
    response.Clear();
    response.set_id(s->inbox.front().request.id());
    response.mutable_status()->set_code(v1::CLOSED);
    response.mutable_status()->set_message(KindName(object->kind()) + " '" +
                                           object->name() + "' was destroyed");
    Respond(s, response);
    if (s->dead) continue;
    s->inbox.pop_front();
    --s->queued;
    resume_.push_back(s);
  }
}

void Server::DrainWakeups() {
  if (draining_) return;
  draining_ = true;
  while (!changed_.empty()) {
    const std::string name = std::move(changed_.back());
    changed_.pop_back();
    if (Object* object = store_.Find(name)) WakeWaiters(object);
  }
  draining_ = false;
}

void Server::RunResumes() {
  while (!resume_.empty()) {
    Session* s = resume_.front();
    resume_.pop_front();
    if (!s->dead) ProcessInbox(s);
    DrainWakeups();
  }
}

}  // namespace ipcd
