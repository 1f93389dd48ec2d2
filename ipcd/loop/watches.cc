#include "loop/watches.h"

#include <set>

#include "dispatch/dispatcher.h"
#include "loop/session.h"
#include "objects/dict.h"
#include "objects/kind.h"

namespace ipcd {
namespace {

bool Keyed(v1::Kind kind) { return kind == v1::DICT || kind == v1::NAMESPACE; }

// Whether call, which changed a dict, may have changed key.
bool Touches(const v1::Call& call, v1::Op op, const std::string& key) {
  if (op == v1::CLEAR || op == v1::CREATE || op == v1::DESTROY) return true;
  if (call.key() == key) return true;
  for (const v1::Entry& entry : call.items()) {
    if (entry.key() == key) return true;
  }
  return false;
}

}  // namespace

OpStatus WatchHub::Add(Session* s, SessionWatches& watches, uint64_t id,
                       const v1::Watch& request) {
  if (OpStatus name = CheckObjectName(request.object()); !name.ok()) return name;
  const std::string& object = request.object();
  const v1::Kind kind = request.kind();
  if (kind != v1::KIND_UNSPECIFIED && FindKind(kind) == nullptr) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           "watch of '" + object + "': " + KindName(kind));
  }
  if (request.has_key()) {
    if (request.key().empty()) {
      return OpStatus::Error(v1::INVALID_ARGUMENT,
                             "watch of '" + object + "': the key is empty");
    }
    if (kind != v1::KIND_UNSPECIFIED && !Keyed(kind)) {
      return OpStatus::Error(v1::INVALID_ARGUMENT,
                             "watch of '" + object + "': a " + KindName(kind) +
                                 " has no keys (only a dict's or a "
                                 "namespace's keys can be watched)");
    }
  }
  if (const Object* existing = store_->Find(object)) {
    if (kind != v1::KIND_UNSPECIFIED && existing->kind() != kind) {
      return OpStatus::Error(v1::INVALID_ARGUMENT,
                             "object '" + object + "' is a " +
                                 KindName(existing->kind()) + ", not a " +
                                 KindName(kind));
    }
    if (request.has_key() && !Keyed(existing->kind())) {
      return OpStatus::Error(v1::INVALID_ARGUMENT,
                             "watch of '" + object + "': it is a " +
                                 KindName(existing->kind()) +
                                 ", which has no keys");
    }
  }
  if (watches.size() >= kMaxPerSession) {
    return OpStatus::Error(v1::RESOURCE_EXHAUSTED,
                           "this connection holds " +
                               std::to_string(kMaxPerSession) +
                               " watches, the most it may");
  }
  if (watches.contains(id)) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           "this connection already has a watch with id " +
                               std::to_string(id));
  }
  WatchEntry entry;
  entry.id = id;
  entry.object = object;
  entry.kind = kind;
  if (request.has_key()) entry.key = request.key();
  event_.Clear();
  event_.set_id(id);
  FillState(entry, store_->Find(object), event_.mutable_event());
  if (!writer_->SendEvent(s, event_)) {
    return OpStatus::Error(
        v1::MESSAGE_TOO_LARGE,
        "watch of '" + object + "': its state is " +
            std::to_string(event_.ByteSizeLong()) +
            " bytes, over the max_frame_bytes limit (" +
            std::to_string(writer_->max_frame_bytes()) +
            "); watch one of its keys instead");
  }
  WatchEntry& added = watches[id] = std::move(entry);
  by_name_[object].push_back(Watcher{s, &added});
  ++count_;
  return OpStatus::Ok();
}

bool WatchHub::Remove(SessionWatches& watches, uint64_t id) {
  auto it = watches.find(id);
  if (it == watches.end()) return false;
  Unlist(&it->second);
  watches.erase(it);
  return true;
}

void WatchHub::Detach(const SessionWatches& watches) {
  for (const auto& item : watches) Unlist(&item.second);
}

void WatchHub::Unlist(const WatchEntry* entry) {
  auto list = by_name_.find(entry->object);
  if (list == by_name_.end()) return;
  std::erase_if(list->second,
                [entry](const Watcher& w) { return w.entry == entry; });
  if (list->second.empty()) by_name_.erase(list);
  --count_;
}

void WatchHub::FillState(const WatchEntry& entry, const Object* object,
                         v1::WatchEvent* event) const {
  event->set_version(version_);
  event->set_resync(true);
  if (object == nullptr ||
      (entry.kind != v1::KIND_UNSPECIFIED && object->kind() != entry.kind)) {
    return;  // exists = false.
  }
  if (entry.key) {
    if (!Keyed(object->kind())) return;
    v1::Value value;
    if (!static_cast<const Dict*>(object)->Find(*entry.key, &value)) return;
    event->set_exists(true);
    event->set_kind(object->kind());
    *event->mutable_value() = std::move(value);
    return;
  }
  event->set_exists(true);
  event->set_kind(object->kind());
  if (!Keyed(object->kind())) {
    object->WatchState(event->mutable_value());
    return;
  }
  static_cast<const Dict*>(object)->ForEach([&](std::string_view key, const v1::Value& value) {
    v1::Entry* item = event->add_items();
    item->set_key(std::string(key));
    *item->mutable_value() = value;
  });
}

bool WatchHub::Sees(const WatchEntry& entry, const Object* object, v1::Op op,
                    const v1::Call* call) const {
  if (object != nullptr && entry.kind != v1::KIND_UNSPECIFIED &&
      object->kind() != entry.kind) {
    return false;  // Another kind under the watched name.
  }
  if (!entry.key) return true;
  if (object != nullptr && !Keyed(object->kind())) return false;
  return call == nullptr || Touches(*call, op, *entry.key);
}

void WatchHub::FillChange(const WatchEntry& entry, const Object* object,
                          v1::Op op, const v1::Call* call,
                          v1::WatchEvent* event) const {
  const bool keyed = object != nullptr && Keyed(object->kind());
  if (entry.key) {
    FillState(entry, object, event);
    event->set_resync(false);  // A key's state is its value: a change.
  } else if (keyed && call != nullptr && op != v1::CLEAR && op != v1::CREATE) {
    // The keys the call named, each as it is now.
    event->set_version(version_);
    event->set_exists(true);
    event->set_kind(object->kind());
    const Dict& dict = *static_cast<const Dict*>(object);
    std::set<std::string_view> keys;
    if (!call->key().empty()) keys.insert(call->key());
    for (const v1::Entry& item : call->items()) keys.insert(item.key());
    v1::Value value;
    for (std::string_view key : keys) {
      if (dict.Find(key, &value)) {
        v1::Entry* item = event->add_items();
        item->set_key(std::string(key));
        *item->mutable_value() = value;
      } else {
        event->add_removed(std::string(key));
      }
    }
  } else {
    // The whole state: a resync for a dict that was cleared or made.
    FillState(entry, object, event);
    event->set_resync(keyed);
  }
  event->set_op(op);
}

bool WatchHub::SendOrEnd(Session* s, SessionWatches& watches,
                         WatchEntry& entry) {
  if (writer_->SendEvent(s, event_)) return true;
  // Nothing smaller would do: the watcher could not follow without the
  // state it cannot be sent. The watch ends, saying why.
  const std::string message =
      "watch of '" + entry.object + "': an event of " +
      std::to_string(event_.ByteSizeLong()) +
      " bytes is over the max_frame_bytes limit (" +
      std::to_string(writer_->max_frame_bytes()) + "); the watch ended (" +
      std::to_string(entry.missed + (event_.event().resync() ? 0 : 1)) +
      " changes not sent); watch one of its keys instead";
  const uint64_t id = entry.id;
  Remove(watches, id);  // entry is gone.
  event_.Clear();
  event_.set_id(id);
  event_.mutable_status()->set_code(v1::MESSAGE_TOO_LARGE);
  event_.mutable_status()->set_message(message);
  writer_->SendEvent(s, event_);
  return false;
}

void WatchHub::Changed(std::string_view name, v1::Op op, const v1::Call* call) {
  ++version_;
  if (by_name_.empty()) return;  // The usual case: one increment per change.
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return;
  // A copy: a failed write drops its session, whose watches then leave
  // the list (Detach), and the drop may report changes of its own (its
  // locks); a watch over the frame limit ends. The session and its
  // entries live until the loop iteration ends, so the pointers stay
  // valid while the session is not dead; a watch that ended leaves the
  // list at once and is no later element of the copy.
  const std::vector<Watcher> watchers = it->second;
  // Looked up once: nothing below makes or removes objects.
  const Object* object = store_->Find(name);
  for (const Watcher& w : watchers) {
    Session* s = w.session;
    if (s->dead || s->state == Session::State::kClosing) continue;
    if (!Sees(*w.entry, object, op, call)) continue;
    if (w.entry->missed > 0 || writer_->Backlogged(s)) {
      // Waiting for its resync, which will show this change. Counted
      // before any event is built, so a silent watcher costs this much.
      ++w.entry->missed;
      s->watch_resync_due = true;
      continue;
    }
    event_.Clear();
    event_.set_id(w.entry->id);
    FillChange(*w.entry, object, op, call, event_.mutable_event());
    SendOrEnd(s, s->watches, *w.entry);
  }
}

void WatchHub::Resync(Session* s, SessionWatches& watches) {
  for (auto it = watches.begin(); it != watches.end();) {
    WatchEntry& entry = (it++)->second;  // SendOrEnd may erase it.
    if (entry.missed == 0) continue;
    if (s->dead || writer_->Backlogged(s)) return;  // Still due.
    event_.Clear();
    event_.set_id(entry.id);
    FillState(entry, store_->Find(entry.object), event_.mutable_event());
    event_.mutable_event()->set_missed(entry.missed);
    if (SendOrEnd(s, watches, entry)) entry.missed = 0;
  }
  s->watch_resync_due = false;
}

}  // namespace ipcd
