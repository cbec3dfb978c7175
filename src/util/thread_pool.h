// The library's one thread pool. Every call that spreads work over threads runs on it: Encoding's batches
// and encode_ordinary_parallel, Tokenizer's encode_batch and decode_batch, training's counting workers and
// the dataset writer's encoders. A process holds one set of workers however many calls run at once, and
// their thread-local piece caches (one budget for all, encoding.h) stay warm from one call to the next
// instead of being thrown away with per-call threads.
//
// Two shapes of work:
// - parallel_for(n, threads, fn): fork-join. The calling thread works too, taking indices from the same
//   counter as the workers, so the call finishes even when every worker is busy elsewhere (a batch called
//   from inside another batch's item cannot deadlock), and a pool that could not start a thread is only
//   slower. Each index runs exactly once, so results written by index do not depend on the thread count.
// - TaskGroup: tasks handed to workers while the caller goes on (the dataset writer's producer reads and
//   parses while its batches encode), then waited for. A task must not block on another task.
//
// Workers start on first use, as many as the largest request so far (at most kMaxWorkers), and live until
// the process ends. After fork() the child starts with an empty pool: the parent's workers do not exist
// there, and a lock one of them held would never be released.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "tokenmill/status.h"
#include "util/no_throw.h"

namespace tokenmill::util {

// Threads asked for by `threads` (0: one per hardware thread), at least 1.
unsigned resolve_threads(unsigned threads);

// fn(i) for every i in [0, n) on the calling thread and up to resolve_threads(threads) - 1 workers. An
// exception thrown by fn stops the handing out of indices and is rethrown here once all running items end.
// `worker_done`, if given, runs on each worker that ran items of this call, after its last one (to give
// back per-thread memory the items grew), before this call returns; it must not throw.
void parallel_for(size_t n, unsigned threads, const std::function<void(size_t)>& fn,
                  const std::function<void()>* worker_done = nullptr);

// The error of a parallel loop's first failing item by index, whatever order the threads fail in (so the same
// one whatever the thread count); only failures are kept.
class FirstFailure {
 public:
  explicit FirstFailure(size_t none) : none_(none), index_(none) {}
  void record(size_t i, Status s) {
    std::lock_guard<std::mutex> lock(m_);
    if (i < index_) {
      index_ = i;
      status_ = std::move(s);
    }
  }
  // After the loop: whether an item failed, and as "<item> <i>: ..." its error.
  bool failed() const { return index_ != none_; }
  Status named(const char* item) const {
    return Status(status_.code(), std::string(item) + " " + std::to_string(index_) + ": " + status_.message());
  }

 private:
  std::mutex m_;
  const size_t none_;
  size_t index_;
  Status status_;
};

// fn(i) -> Result<T> for every i in [0, n) over parallel_for: all values, or the error of the first failing
// item by index (so the same one whatever the thread count), named "<item> <i>: ...". An exception in fn
// becomes that item's error.
template <class T, class Fn>
Result<std::vector<T>> parallel_results(size_t n, unsigned threads, const char* item, Fn fn,
                                        const std::function<void()>* worker_done = nullptr) {
  std::vector<T> out(n);
  // Only failures are kept: a Status per item would be built, faulted in and destroyed on the calling thread
  // alone (51 MB for a batch of 1.28M lines).
  FirstFailure failure(n);
  parallel_for(
      n, threads,
      [&](size_t i) {
        try {
          auto r = fn(i);
          if (r.ok()) {
            out[i] = std::move(r).value();
          } else {
            failure.record(i, r.status());
          }
        } catch (...) {
          failure.record(i, current_exception_status({}));
        }
      },
      worker_done);
  if (failure.failed()) return failure.named(item);
  return out;
}

// Tasks run on the pool's workers, at most `parallel` of them at once whatever the pool's size; wait()
// returns when all have run. If no worker could ever be started, run() runs the task itself. The first
// exception a task throws is rethrown by wait(); the tasks after it still run.
class TaskGroup {
 public:
  explicit TaskGroup(unsigned parallel);
  ~TaskGroup();  // waits for the group's tasks (an exception not yet rethrown is dropped)
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  void run(std::function<void()> task);
  void wait();

 private:
  void drain();
  const unsigned parallel_;
  std::mutex m_;
  std::condition_variable idle_;
  std::deque<std::function<void()>> queue_;
  unsigned running_ = 0;  // drain() loops on workers
  size_t pending_ = 0;    // tasks queued or running
  std::exception_ptr error_;
};

inline constexpr unsigned kMaxWorkers = 256;

}  // namespace tokenmill::util
