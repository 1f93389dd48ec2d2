// S4, shared value and array: Value('i') and Array('i', range(10)); a writer
// process sets value = 123 and array[0] = 456; a reader process prints both.
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>
#include <string>

#include "common/cli.h"
#include "ipc/shared_value.h"

int main() {
  const std::string id = std::to_string(getpid());
  auto value = ipc::SharedValue<int>::Create("s04-value-" + id, 0);
  auto array = ipc::SharedArray<int>::Create("s04-array-" + id, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  if (!value.ok()) return examples::Fail("s04", value.status());
  if (!array.ok()) return examples::Fail("s04", array.status());

  const pid_t writer = fork();
  if (writer == 0) {
    auto v = ipc::SharedValue<int>::Open("s04-value-" + id);
    auto a = ipc::SharedArray<int>::Open("s04-array-" + id);
    if (!v.ok() || !a.ok()) _exit(1);
    v->Store(123);
    a->Store(0, 456);
    _exit(0);
  }
  int status = 0;
  waitpid(writer, &status, 0);  // The reader reads after the writer is done.
  const pid_t reader = fork();
  if (reader == 0) {
    auto v = ipc::SharedValue<int>::Open("s04-value-" + id);
    auto a = ipc::SharedArray<int>::Open("s04-array-" + id);
    if (!v.ok() || !a.ok()) _exit(1);
    std::cout << v->Load() << " " << a->Load(0) << std::endl;
    _exit(0);
  }
  int reader_status = 0;
  waitpid(reader, &reader_status, 0);
  (void)ipc::SharedValue<int>::Unlink("s04-value-" + id);
  (void)ipc::SharedArray<int>::Unlink("s04-array-" + id);
  return status == 0 && reader_status == 0 ? 0 : 1;
}
