// S18, worker pool: Pool(4).map(square, [1..5]) -> [1, 4, 9, 16, 25]. Four
// forked worker processes run Square; Map gives the results in input order.
#include <cstdint>
#include <iostream>
#include <vector>

#include "common/cli.h"
#include "ipc/pool.h"

int64_t Square(const int64_t& x) { return x * x; }

int main() {
  auto pool = ipc::Pool::Create({.workers = 4});
  if (!pool.ok()) return examples::Fail("s18", pool.status());
  const std::vector<int64_t> inputs = {1, 2, 3, 4, 5};
  auto squares = pool->Map(Square, inputs);
  if (!squares.ok()) return examples::Fail("s18", squares.status());
  (void)pool->Close();
  if (ipc::Status joined = pool->Join(); !joined.ok())
    return examples::Fail("s18", joined);
  std::cout << "[";
  for (size_t i = 0; i < squares->size(); ++i)
    std::cout << (i ? ", " : "") << (*squares)[i];
  std::cout << "]" << std::endl;
  return 0;
}
