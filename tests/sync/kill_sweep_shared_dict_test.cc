// The kill sweep (kill_sweep.h) over ipc::SharedDict: a process killed at
// every instruction of a read, of each kind of change and of Reset. After
// each kill the dict must hold exactly the entries before the call or
// exactly those after it, or (only for a kill inside a change) refuse use
// with kNotRecoverable until Reset; a reader's death must never make it
// unusable; and it must work again afterwards.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <utility>

#include "ipc/shared_dict.h"
#include "kill_sweep.h"
#include "support/test_util.h"

namespace ipc::testing {
namespace {

using namespace std::chrono_literals;

// Values longer than a string's inline buffer, so that changes allocate.
std::string Long(std::string_view tag) { return std::string(tag) + std::string(40, '.'); }

SharedDict::Items Initial() {
  SharedDict::Items items;
  for (int i = 0; i < 8; ++i) items.emplace_back("key-" + std::to_string(i), Long("v"));
  return items;  // In key order, as GetItems gives them.
}

// What the items are after the call, given those before. The call itself
// must not allocate on the process's heap (build its arguments outside it):
// malloc's path depends on the heap the parent leaves, which changes from
// trial to trial, and the sweep needs the same path every time.
using Apply = std::function<void(SharedDict::Items&)>;

void Put(SharedDict::Items& items, const std::string& key, const std::string& value) {
  for (auto& [k, v] : items) {
    if (k == key) {
      v = value;
      return;
    }
  }
  items.emplace_back(key, value);
  std::sort(items.begin(), items.end());
}

class DictCase : public SweepCase {
 public:
  // may_tear: a kill may leave the dict kNotRecoverable (a change); false
  // for a read, whose holder's death must leave it usable.
  DictCase(std::function<Status(SharedDict&)> op, Apply apply, bool may_tear)
      : op_(std::move(op)), may_tear_(may_tear) {
    before_ = Initial();
    after_ = before_;
    apply(after_);
    WarmUp();
  }

  void Setup(Trial& t) override {
    name_ = UniqueName("ksweep-dict");
    auto d = SharedDict::Create(name_, {.capacity = 64 << 10});
    if (!d.ok()) return t.Fail("setup: create", d.status().ToString());
    dict_ = std::move(*d);
    Status s = dict_.Update(before_);
    if (!s.ok()) t.Fail("setup: update", s.ToString());
  }

  int Child(SweepPage& page) override {
    SweepBegin();
    Status s = op_(dict_);
    page.op.Report(s.code(), 0, s.message());
    return 0;
  }

  void Check(Trial& t) override {
    const Outcome& op = t.page().op;
    if (!t.killed() && op.error() != ErrorCode::kOk) {
      t.Fail("the call failed when not killed", std::string(op.message()));
    }
    Result<SharedDict::Items> items = dict_.GetItems(5s);
    if (items.ok()) {
      if (*items != before_ && *items != after_) {
        t.Fail("the dict holds neither the entries before the call nor those after it",
               std::to_string(items->size()) + " entries");
      }
      if (!t.killed() && *items != after_) t.Fail("the call's change is missing");
      Result<size_t> size = dict_.Size(5s);
      if (!size.ok() || *size != items->size()) t.Fail("Size() disagrees with the items");
    } else if (items.status().code() == ErrorCode::kNotRecoverable) {
      if (!may_tear_) t.Fail("a reader's death made the dict unusable", items.status().ToString());
      if (!t.killed()) t.Fail("not recoverable without a kill", items.status().ToString());
      if (items.status().message().find("Reset()") == std::string::npos) {
        t.Fail("the not-recoverable message does not say the way out",
               items.status().ToString());
      }
      Status reset = dict_.Reset(5s);
      if (!reset.ok()) return t.Fail("Reset failed on a torn dict", reset.ToString());
      if (dict_.Size(5s).value_or(1) != 0) t.Fail("Reset left entries");
    } else {
      t.Fail("an unexpected error after the kill", items.status().ToString());
    }
    // Usable again, with room as at the start.
    Status set = dict_.Set("after-the-kill", Long("x"), 5s);
    if (!set.ok() || dict_.Get("after-the-kill", 5s).value_or("") != Long("x")) {
      t.Fail("the dict is not usable after the kill", set.ToString());
    }
  }

  // Runs a trial's calls once in this process, on a scratch dict: the
  // traced children are forked from here, and the first trial's child
  // would otherwise run extra instructions (first-time paths in this
  // process's state) that later ones do not, and the sweep needs the same
  // path every time.
  void WarmUp() {
    const std::string name = UniqueName("ksweep-dict-warm");
    auto d = SharedDict::Create(name, {.capacity = 64 << 10});
    if (d.ok() && d->Update(before_).ok()) {
      (void)op_(*d);
      (void)d->GetItems(5s);  // And what Check() runs after each trial.
      (void)d->Size(5s);
      (void)d->Set("after-the-kill", Long("x"), 5s);
      (void)d->Get("after-the-kill", 5s);
    }
    (void)SharedDict::Unlink(name);
  }

  void Teardown(Trial&) override {
    dict_ = SharedDict();
    (void)SharedDict::Unlink(name_);
  }

 private:
  std::function<Status(SharedDict&)> op_;
  bool may_tear_;
  SharedDict::Items before_, after_;
  std::string name_;
  SharedDict dict_;
};

TEST(KillSweepSharedDict, GetKilledAtEveryInstructionLeavesItUsable) {
  DictCase c([](SharedDict& d) { return d.Get("key-7").status(); },
             [](SharedDict::Items&) {}, /*may_tear=*/false);
  ExpectCleanSweep(c);
}

TEST(KillSweepSharedDict, SetOfANewKeyKilledAtEveryInstruction) {
  const std::string value = Long("n");
  DictCase c([&value](SharedDict& d) { return d.Set("key-new", value); },
             [&value](SharedDict::Items& items) { Put(items, "key-new", value); },
             /*may_tear=*/true);
  ExpectCleanSweep(c);
}

TEST(KillSweepSharedDict, SetOfALongerValueKilledAtEveryInstruction) {
  const std::string value = Long("longer") + Long("");
  DictCase c([&value](SharedDict& d) { return d.Set("key-3", value); },
             [&value](SharedDict::Items& items) { Put(items, "key-3", value); },
             /*may_tear=*/true);
  ExpectCleanSweep(c);
}

TEST(KillSweepSharedDict, PopKilledAtEveryInstruction) {
  DictCase c([](SharedDict& d) { return d.Pop("key-5").status(); },
             [](SharedDict::Items& items) {
               std::erase_if(items, [](const auto& e) { return e.first == "key-5"; });
             },
             /*may_tear=*/true);
  ExpectCleanSweep(c);
}

TEST(KillSweepSharedDict, UpdateKilledAtEveryInstruction) {
  const SharedDict::Items pairs = {{"key-1", Long("u1")}, {"key-a", Long("ua")}};
  DictCase c([pairs](SharedDict& d) { return d.Update(pairs); },
             [pairs](SharedDict::Items& items) {
               for (const auto& [k, v] : pairs) Put(items, k, v);
             },
             /*may_tear=*/true);
  ExpectCleanSweep(c);
}

TEST(KillSweepSharedDict, ResetKilledAtEveryInstruction) {
  DictCase c([](SharedDict& d) { return d.Reset(); },
             [](SharedDict::Items& items) { items.clear(); }, /*may_tear=*/true);
  ExpectCleanSweep(c);
}

}  // namespace
}  // namespace ipc::testing
