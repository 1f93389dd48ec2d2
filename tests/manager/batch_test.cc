// ManagerBatch against a real ipcd: one Batch request, and the same calls
// pipelined, with per-call results and errors.
#include "manager/manager_fixture.h"

namespace ipc::testing {
namespace {

using ManagerBatchTest = ManagerTest;

// Fills batch with one call of each kind; the results are in Expect().
void AddCalls(ManagerBatch& batch, const std::string& counter,
              const std::string& dict, const std::string& queue) {
  batch.CounterAdd(counter, 5)
      .CounterAdd(counter, -2)
      .CounterGet(counter)
      .DictSet(dict, "k", "v")
      .DictGet(dict, "k")
      .DictGet(dict, "absent")
      .DictDelete(dict, "k")
      .QueuePut(queue, 1);
}

void ExpectResults(const Result<std::vector<Result<Value>>>& results) {
  ASSERT_OK(results);
  ASSERT_EQ(results->size(), 8u);
  const auto& r = *results;
  EXPECT_EQ(r[0].value_or(Value()), Value(5));
  EXPECT_EQ(r[1].value_or(Value()), Value(3));
  EXPECT_EQ(r[2].value_or(Value()), Value(3));
  EXPECT_EQ(r[3].value_or(Value(0)), Value());
  EXPECT_EQ(r[4].value_or(Value()), Value("v"));
  EXPECT_CODE(r[5], ErrorCode::kNotFound);  // A call fails on its own.
  EXPECT_EQ(r[6].value_or(Value(0)), Value());
  EXPECT_EQ(r[7].value_or(Value(0)), Value());
}

TEST_F(ManagerBatchTest, RunAppliesEveryCallAndReportsEach) {
  const std::string counter = Name("c"), dict = Name("d"), queue = Name("q");
  ManagerBatch batch = manager().Batch();
  AddCalls(batch, counter, dict, queue);
  EXPECT_EQ(batch.size(), 8u);
  ExpectResults(batch.Run());
  EXPECT_EQ(manager().Queue(queue).Size().value_or(-1), 1);
  EXPECT_EQ(manager().Dict(dict).Len().value_or(-1), 0);
}

TEST_F(ManagerBatchTest, RunPipelinedGivesTheSameResults) {
  const std::string counter = Name("c"), dict = Name("d"), queue = Name("q");
  ManagerBatch batch = manager().Batch();
  AddCalls(batch, counter, dict, queue);
  ExpectResults(batch.RunPipelined());
  EXPECT_EQ(manager().Queue(queue).Size().value_or(-1), 1);
}

TEST_F(ManagerBatchTest, EmptyBatchGivesNoResults) {
  ManagerBatch batch = manager().Batch();
  auto run = batch.Run();
  ASSERT_OK(run);
  EXPECT_TRUE(run->empty());
  auto pipelined = batch.RunPipelined();
  ASSERT_OK(pipelined);
  EXPECT_TRUE(pipelined->empty());
}

TEST_F(ManagerBatchTest, ManyPipelinedCallsAllCountInOrder) {
  const std::string counter = Name("c");
  ManagerBatch batch = manager().Batch();
  for (int i = 0; i < 1000; ++i) batch.CounterAdd(counter, 1);
  auto results = batch.RunPipelined();
  ASSERT_OK(results);
  ASSERT_EQ(results->size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ((*results)[i].value_or(Value()), Value(i + 1)) << "call " << i;
  }
  // The batch can run again, and clear() empties it.
  auto again = batch.Run();
  ASSERT_OK(again);
  EXPECT_EQ(again->back().value_or(Value()), Value(2000));
  batch.clear();
  EXPECT_EQ(batch.size(), 0u);
}

TEST_F(ManagerBatchTest, BatchedPutOnFullQueueDoesNotWait) {
  const std::string queue = Name("q");
  ASSERT_OK(manager().Queue(queue).Create(1));
  ManagerBatch batch = manager().Batch();
  batch.QueuePut(queue, 1).QueuePut(queue, 2);
  auto results = batch.Run();
  ASSERT_OK(results);
  ASSERT_EQ(results->size(), 2u);
  ASSERT_OK((*results)[0]);
  EXPECT_CODE((*results)[1], ErrorCode::kFull);
}

}  // namespace
}  // namespace ipc::testing
