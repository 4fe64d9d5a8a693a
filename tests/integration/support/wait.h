#pragma once
#include <chrono>
#include <functional>

namespace pg2ch::test {

// Polls `predicate` until it returns true (-> true) or `timeout` passes (-> false). The predicate
// runs at least once, and once more at the deadline. Exceptions from it propagate: a broken query
// should fail the test now, not after the timeout. So does a PipelineRunner that died unexpectedly
// (PipelineDied names it and its error).
// Use: ASSERT_TRUE(wait_until([&] { return db.ch_rows("SELECT count() FROM t") == Rows{{"3"}}; }, 30s));
bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(50));

}  // namespace pg2ch::test
