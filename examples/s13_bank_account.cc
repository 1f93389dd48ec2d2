// S13, condition: a bank account. Depositors add money and notify;
// withdrawers wait while the balance is too low. The balance never goes
// negative and, at the end, deposits minus withdrawals equal the balance.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <string>

#include "common/children.h"
#include "common/cli.h"
#include "ipc/condition.h"
#include "ipc/mutex.h"
#include "ipc/shared_value.h"

int main() {
  const std::string name = "s13-account-" + std::to_string(getpid());
  auto mutex = ipc::Mutex::Create(name);
  auto funds = ipc::Condition::Create(name);
  // [balance, lowest balance seen, total deposited, total withdrawn]
  auto book = ipc::SharedArray<long>::Create(name, 4, 0, {.with_lock = false});
  if (!mutex.ok() || !funds.ok() || !book.ok()) return examples::Fail("s13", mutex.status());

  auto open_all = [&](auto&& body) {
    return [&, body](int who) {
      auto m = ipc::Mutex::Open(name);
      auto c = ipc::Condition::Open(name);
      auto b = ipc::SharedArray<long>::Open(name);
      if (!m.ok() || !c.ok() || !b.ok()) return 1;
      return body(who, *m, *c, b->data());
    };
  };
  std::vector<pid_t> pids;
  for (int i = 0; i < 3; ++i) {
    pids.push_back(examples::Spawn(i, open_all([](int, ipc::Mutex& m, ipc::Condition& c,
                                                    long* acct) {
      for (int r = 0; r < 50; ++r) {  // Withdraws 30, fifty times.
        auto lock = m.Lock(std::chrono::seconds(10));
        if (!lock.ok()) return 2;
        if (!c.Wait(*lock, std::chrono::seconds(10), [&] { return acct[0] >= 30; }).ok()) return 3;
        acct[0] -= 30;
        acct[3] += 30;
        if (acct[0] < acct[1]) acct[1] = acct[0];
      }
      return 0;
    })));
    pids.push_back(examples::Spawn(i, open_all([](int, ipc::Mutex& m, ipc::Condition& c,
                                                    long* acct) {
      for (int r = 0; r < 150; ++r) {  // Deposits 10, 150 times.
        auto lock = m.Lock(std::chrono::seconds(10));
        if (!lock.ok()) return 2;
        acct[0] += 10;
        acct[2] += 10;
        (void)c.NotifyAll();
      }
      return 0;
    })));
  }
  const bool ok = examples::WaitAll(pids);
  const long* acct = book->data();
  std::cout << "balance " << acct[0] << ", lowest " << acct[1] << ", deposited " << acct[2]
            << ", withdrawn " << acct[3] << std::endl;
  const bool consistent = acct[1] >= 0 && acct[2] - acct[3] == acct[0];
  (void)ipc::Mutex::Unlink(name);
  (void)ipc::Condition::Unlink(name);
  (void)ipc::SharedArray<long>::Unlink(name);
  return ok && consistent ? 0 : 1;
}
