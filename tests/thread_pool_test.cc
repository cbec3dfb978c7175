// util/thread_pool.h: every index once, nesting without deadlock, the task group's bound, exceptions, and
// a forked child's own pool.
#include "util/thread_pool.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace tokenmill::util {
namespace {

TEST(ParallelFor, RunsEveryIndexExactlyOnce) {
  // 100003: indices are taken in blocks (up to 256) once there are many, the last block a partial one.
  for (size_t n : {0, 1, 2, 3, 1000, 100003}) {
    for (unsigned threads : {0u, 1u, 2u, 8u, 300u}) {
      std::vector<std::atomic<int>> runs(n);
      parallel_for(n, threads, [&](size_t i) { runs[i].fetch_add(1); });
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(runs[i].load(), 1) << n << " " << threads << " " << i;
    }
  }
}

TEST(ParallelFor, UsesMoreThanOneThreadWhenAsked) {
  // Items that wait for each other: each sees the other start only if two threads run them at once.
  std::atomic<int> seen{0};
  parallel_for(2, 2, [&](size_t) {
    seen.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (seen.load() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    EXPECT_EQ(seen.load(), 2) << "the two items did not run at the same time";
  });
}

TEST(ParallelFor, NestedCallsAndConcurrentCallersFinish) {
  // Every worker busy in an outer item that itself fans out: the callers' own threads finish the inner work.
  std::atomic<size_t> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back(
        [&] { parallel_for(16, 4, [&](size_t) { parallel_for(50, 4, [&](size_t j) { total.fetch_add(j); }); }); });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), size_t(4) * 16 * (49 * 50 / 2));
}

TEST(ParallelFor, WorkerDoneRunsOnceOnEachWorkerThatHelpedBeforeTheCallReturns) {
  std::mutex m;
  std::set<std::thread::id> helpers, finished;
  const std::thread::id caller = std::this_thread::get_id();
  const std::function<void()> done = [&] {
    std::lock_guard<std::mutex> lock(m);
    EXPECT_TRUE(finished.insert(std::this_thread::get_id()).second) << "twice on one worker";
  };
  parallel_for(
      200, 4,
      [&](size_t) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        std::lock_guard<std::mutex> lock(m);
        if (std::this_thread::get_id() != caller) helpers.insert(std::this_thread::get_id());
      },
      &done);
  std::lock_guard<std::mutex> lock(m);
  EXPECT_FALSE(helpers.empty());
  EXPECT_EQ(finished, helpers);  // every helper, not the caller, and all of them before the return
}

TEST(ParallelFor, RethrowsTheItemsException) {
  std::atomic<int> ran{0};
  EXPECT_THROW(parallel_for(1000, 4,
                            [&](size_t i) {
                              ran.fetch_add(1);
                              if (i == 37) throw std::runtime_error("item 37");
                            }),
               std::runtime_error);
  EXPECT_GE(ran.load(), 38 / 4);
  // The pool still works afterwards.
  std::atomic<int> after{0};
  parallel_for(100, 4, [&](size_t) { after.fetch_add(1); });
  EXPECT_EQ(after.load(), 100);
}

TEST(ParallelResults, ValuesByIndexOrTheLowestFailingIndexWhateverTheThreads) {
  for (unsigned threads : {1u, 2u, 8u}) {
    auto squares = parallel_results<uint64_t>(50000, threads, "item", [](size_t i) { return Result<uint64_t>(i * i); });
    ASSERT_TRUE(squares.ok()) << squares.error();
    for (size_t i = 0; i < squares->size(); ++i) ASSERT_EQ((*squares)[i], uint64_t(i) * i) << threads;
    // Items 777, 20000 and 40000 fail (the last by throwing): always 777's error, named by its index.
    auto failed = parallel_results<int>(50000, threads, "item", [](size_t i) -> Result<int> {
      if (i == 40000) throw std::runtime_error("thrown");
      if (i == 777 || i == 20000) return Status(ErrorCode::kInvalidArgument, "bad " + std::to_string(i));
      return int(i);
    });
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(failed.error(), "item 777: bad 777") << threads;
  }
}

TEST(TaskGroup, RunsEveryTaskAtMostParallelAtOnce) {
  for (unsigned parallel : {1u, 2u, 3u}) {
    std::atomic<int> running{0}, most{0}, done{0};
    {
      TaskGroup group(parallel);
      for (int i = 0; i < 60; ++i) {
        group.run([&] {
          int now = running.fetch_add(1) + 1;
          for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
          }
          std::this_thread::sleep_for(std::chrono::microseconds(300));
          running.fetch_sub(1);
          done.fetch_add(1);
        });
      }
      group.wait();
      EXPECT_EQ(done.load(), 60);
    }
    EXPECT_LE(most.load(), int(parallel));
    EXPECT_GE(most.load(), 1);
  }
}

TEST(TaskGroup, WaitRethrowsTheFirstExceptionAndTheRestStillRun) {
  TaskGroup group(2);
  std::atomic<int> done{0};
  for (int i = 0; i < 20; ++i) {
    group.run([&, i] {
      if (i == 3) throw std::runtime_error("task 3");
      done.fetch_add(1);
    });
  }
  EXPECT_THROW(group.wait(), std::runtime_error);
  EXPECT_EQ(done.load(), 19);
  group.run([&] { done.fetch_add(1); });
  group.wait();  // the exception was reported once
  EXPECT_EQ(done.load(), 20);
}

TEST(ThreadPool, AForkedChildHasAPoolOfItsOwn) {
  // The parent's workers exist; the child's copy of the pool would hand tasks to workers that are not there.
  parallel_for(8, 4, [](size_t) {});
  {
    TaskGroup warm(2);
    warm.run([] {});
    warm.wait();
  }
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(20);  // a child that hangs dies of SIGALRM, which the parent sees
    std::atomic<int> done{0};
    TaskGroup group(2);
    for (int i = 0; i < 10; ++i) group.run([&] { done.fetch_add(1); });
    group.wait();
    std::atomic<int> items{0};
    parallel_for(100, 4, [&](size_t) { items.fetch_add(1); });
    _exit(done.load() == 10 && items.load() == 100 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the child was killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace tokenmill::util
