#include "dispatch/dispatcher.h"

#include "objects/kind.h"
#include "objects/value.h"
#include "state/journal.h"

namespace ipcd {
namespace {

// Length of the UTF-8 sequence starting with byte c, or 0 if c cannot
// start one.
int Utf8Length(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return c >= 0xC2 ? 2 : 0;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return c <= 0xF4 ? 4 : 0;
  return 0;
}

}  // namespace

OpStatus CheckObjectName(const std::string& name) {
  if (name.empty() || name.size() > 255) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           "bad object name: must be 1 to 255 bytes, not " +
                               std::to_string(name.size()));
  }
  for (size_t i = 0; i < name.size();) {
    const auto c = static_cast<unsigned char>(name[i]);
    const int n = Utf8Length(c);
    bool ok = n > 0 && i + n <= name.size() && c >= 0x20 && c != 0x7F;
    for (int k = 1; ok && k < n; ++k) {
      ok = (static_cast<unsigned char>(name[i + k]) & 0xC0) == 0x80;
    }
    if (!ok) {
      return OpStatus::Error(v1::INVALID_ARGUMENT,
                             "bad object name: byte " + std::to_string(i) +
                                 " is a control character or not UTF-8");
    }
    i += n;
  }
  return OpStatus::Ok();
}

OpStatus CheckNesting(const v1::Call& call) {
  bool deep = TooDeep(call.value()) || TooDeep(call.expected());
  for (const v1::Entry& entry : call.items()) deep = deep || TooDeep(entry.value());
  if (!deep) return OpStatus::Ok();
  return OpStatus::Error(
      v1::INVALID_ARGUMENT,
      "'" + call.object() + "': a value nests lists and maps more than " +
          std::to_string(kMaxValueNesting) + " deep");
}

bool Journaled(v1::Kind kind, v1::Op op) {
  const KindSpec* spec = FindKind(kind);
  if (spec == nullptr) return false;
  if (op == v1::CREATE || op == v1::DESTROY) return spec->persisted;
  const OpSpec* op_spec = spec->Find(op);
  return op_spec != nullptr && op_spec->journaled;
}

OpStatus Dispatcher::Destroy(const v1::Call& call) {
  Object* object = store_->Find(call.object());
  if (object == nullptr) {
    return OpStatus::Error(v1::NOT_FOUND,
                           "no object named '" + call.object() + "'");
  }
  if (call.kind() != v1::KIND_UNSPECIFIED && call.kind() != object->kind()) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           "object '" + call.object() + "' is a " +
                               KindName(object->kind()) + ", not a " +
                               KindName(call.kind()));
  }
  const bool journaled =
      journal_ != nullptr && Journaled(object->kind(), v1::DESTROY);
  const size_t size = journaled ? call.ByteSizeLong() : 0;
  if (journaled) {
    if (OpStatus room = journal_->Reserve(size); !room.ok()) return room;
  }
  if (!object->waiters().empty()) host_->ObjectDestroying(object);
  store_->Erase(object);
  if (journaled) journal_->Add(call, size);
  host_->ObjectWritten(call.object(), v1::DESTROY, &call);
  return OpStatus::Ok();
}

OpStatus Dispatcher::Execute(const v1::Call& call, OpContext& ctx,
                             v1::Result* result, Object** wait_on) {
  if (OpStatus name = CheckObjectName(call.object()); !name.ok()) return name;
  const v1::Op op = call.op();
  if (!v1::Op_IsValid(op) || op == v1::OP_UNSPECIFIED) {
    return OpStatus::Error(
        v1::UNSUPPORTED,
        "'" + call.object() + "': " + OpName(op) + " is not an operation");
  }
  if (op == v1::DESTROY) {
    if (!v1::Kind_IsValid(call.kind())) {
      return OpStatus::Error(v1::INVALID_ARGUMENT, KindName(call.kind()));
    }
    return Destroy(call);
  }
  const v1::Kind kind = call.kind();
  const KindSpec* spec = FindKind(kind);
  if (spec == nullptr) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           "'" + call.object() + "': " + OpName(op) +
                               " needs a kind (got " + KindName(kind) + ")");
  }
  const OpSpec* op_spec = op == v1::CREATE ? nullptr : spec->Find(op);
  if (op != v1::CREATE && op_spec == nullptr) {
    return OpStatus::Error(v1::UNSUPPORTED,
                           KindName(kind) + " '" + call.object() +
                               "' has no operation " + OpName(op));
  }
  if (call.has_timeout_ms() && call.timeout_ms() < 0) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           "'" + call.object() + "': negative timeout_ms");
  }
  if (OpStatus depth = CheckNesting(call); !depth.ok()) return depth;
  // Room in the log first: a change the log cannot take is not applied.
  const bool journaled =
      journal_ != nullptr && (op_spec ? op_spec->journaled : spec->persisted);
  const size_t size =
      !journaled ? 0
                 : (!ctx.call_bytes.empty() ? ctx.call_bytes.size() : call.ByteSizeLong());
  if (journaled) {
    if (OpStatus room = journal_->Reserve(size); !room.ok()) return room;
  }
  Object* object = store_->Find(call.object());
  if (object != nullptr && object->kind() != kind) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           "object '" + call.object() + "' is a " +
                               KindName(object->kind()) + ", not a " +
                               KindName(kind));
  }
  bool created = false;
  if (object == nullptr) {
    if (op_spec != nullptr && op_spec->reads_missing) {
      return spec->read_missing(call, result);
    }
    if (OpStatus made = store_->Create(call, &object); !made.ok()) return made;
    created = true;
  } else if (op == v1::CREATE && spec->check_create != nullptr) {
    if (OpStatus same = spec->check_create(*object, call); !same.ok()) return same;
  }
  ctx.objects = this;
  // A call that parks or fails may still change what a watch sees (a
  // barrier party arriving, a round broken by a timeout): its size tells.
  const bool changes = op_spec == nullptr || op_spec->Changes();
  const int64_t size_before = changes ? object->Size() : 0;
  OpStatus status = object->Execute(call, ctx, result);
  if (!status.wait && !status.ok() && created) {
    // A failed first use leaves no trace.
    store_->Erase(object);
    return status;
  }
  if (journal_ != nullptr) Log(call, journaled, ctx.call_bytes, size, status, created, *result);
  const bool changed =
      status.ok() ? (op_spec != nullptr ? op_spec->Changes() : created) &&
                        !(op == v1::COMPARE_AND_SET && !result->flag())
                  : changes && object->Size() != size_before;
  if (changed || created) {
    host_->ObjectWritten(call.object(), changed ? op : v1::CREATE, &call);
  }
  if (status.wait) {
    *wait_on = status.wait_on != nullptr ? status.wait_on : object;
    return status;
  }
  if (!object->waiters().empty()) host_->ObjectChanged(object);
  return status;
}

void Dispatcher::Log(const v1::Call& call, bool journaled,
                     std::string_view call_bytes, size_t size,
                     const OpStatus& status, bool created,
                     const v1::Result& result) {
  const bool changed = status.ok() && journaled &&
                       !(call.op() == v1::COMPARE_AND_SET && !result.flag());
  if (changed && !call_bytes.empty()) {
    journal_->AddCallBytes(call_bytes);
  } else if (changed) {
    journal_->Add(call, size);
  } else if (created && Journaled(call.kind(), v1::CREATE)) {
    // Made by a first use that logs nothing itself (a GET that waits).
    v1::Call create;
    create.set_object(call.object());
    create.set_kind(call.kind());
    create.set_op(v1::CREATE);
    create.set_capacity(call.capacity());
    create.set_order(call.order());
    journal_->Add(create, create.ByteSizeLong());
  }
}

void Dispatcher::ListObjects(const v1::ListObjects& request,
                             v1::ObjectList* list) const {
  const ObjectStore::Map& objects = store_->objects();
  const std::string& prefix = request.prefix();
  // The first name past the cursor and not before the prefix.
  auto it = !request.after().empty() && request.after() >= prefix
                ? objects.upper_bound(request.after())
                : objects.lower_bound(prefix);
  const uint32_t limit = request.limit() == 0 || request.limit() > kMaxListPage
                             ? kMaxListPage
                             : request.limit();
  size_t bytes = 0;
  for (; it != objects.end() && it->first.starts_with(prefix); ++it) {
    if (static_cast<uint32_t>(list->objects_size()) == limit ||
        bytes >= kMaxListPageBytes) {
      // More follow: the client asks again after the last one sent.
      list->set_next(list->objects(list->objects_size() - 1).name());
      return;
    }
    const auto& [name, object] = *it;
    v1::ObjectInfo* info = list->add_objects();
    info->set_name(name);
    info->set_kind(object->kind());
    info->set_size(object->Size());
    info->set_bytes(object->bytes());
    info->set_waiters(static_cast<int64_t>(object->waiters().size()));
    bytes += name.size();
  }
}

}  // namespace ipcd
