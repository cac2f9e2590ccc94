// OrderedPipeline: runs jobs on worker threads and delivers their results in the order
// they were submitted. The encoder and decoder use it to compress, decompress and hash
// blocks in parallel while the container and the output stay strictly sequential, so
// that what is written does not depend on the number of threads.
//
// Thread safety: Submit() and Finish() are called by one thread (the producer).
// `process` runs on the workers concurrently, each call with the index of its worker
// (0 .. workers-1), so a worker can keep per-thread state; `deliver` runs on one thread
// at a time, in submission order.
#ifndef REDUCTO_UTIL_ORDERED_PIPELINE_H_
#define REDUCTO_UTIL_ORDERED_PIPELINE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "reducto/status.h"

namespace reducto {

// The thread count to use for `requested` (0 = one per core), at least 1.
inline int ResolveThreadCount(int requested) {
  if (requested > 0) return requested;
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<int>(cores);
}

template <typename Job>
class OrderedPipeline {
 public:
  using Process = std::function<Status(Job& job, int worker)>;
  using Deliver = std::function<Status(Job& job)>;

  // `threads` counts the producer: with threads <= 1 there are no workers and Submit()
  // processes and delivers each job itself; otherwise threads - 1 workers run, and at
  // most `max_in_flight` jobs (0: threads + 1) are queued, being processed or waiting for
  // delivery at once (the memory bound).
  OrderedPipeline(int threads, Process process, Deliver deliver, size_t max_in_flight = 0)
      : process_(std::move(process)), deliver_(std::move(deliver)),
        max_in_flight_(threads <= 1         ? 1
                       : max_in_flight > 0 ? max_in_flight
                                           : static_cast<size_t>(threads + 1)) {
    for (int i = 0; i + 1 < threads; ++i) workers_.emplace_back([this, i] { Work(i); });
  }
  OrderedPipeline(const OrderedPipeline&) = delete;
  OrderedPipeline& operator=(const OrderedPipeline&) = delete;

  ~OrderedPipeline() { (void)Finish(); }

  int workers() const { return static_cast<int>(workers_.size()); }

  // A delivered job to fill again, or a new one: its buffers keep their capacity, so
  // that a block's buffers are not allocated (and their pages faulted in) once per
  // block. Producer only.
  Job Recycled() {
    std::lock_guard lock(mutex_);
    if (recycled_.empty()) return Job();
    Job job = std::move(recycled_.back());
    recycled_.pop_back();
    return job;
  }

  // Waits until Submit would not wait: a producer that fills a job only after this
  // holds no job of its own while the pipeline is full (memory: max_in_flight jobs,
  // not one more). Returns the pipeline's error, as Submit.
  Status WaitForSpace() {
    if (workers_.empty()) return error_;
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return slots_.size() < max_in_flight_ || !error_.ok(); });
    return error_;
  }

  // Queues `job`, waiting while the pipeline is full. Returns the error of the first
  // job (in submission order) that failed; once a job failed, it and later jobs are
  // not delivered, and jobs not yet started are not processed. Which error comes first
  // does not depend on the threads' timing.
  Status Submit(Job job) {
    if (workers_.empty()) return SubmitInline(job);
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return slots_.size() < max_in_flight_ || !error_.ok(); });
    if (!error_.ok()) return error_;
    slots_.emplace_back();
    slots_.back().job = std::move(job);
    work_.notify_one();
    return Status::Ok();
  }

  // Waits until every submitted job has been delivered (or the pipeline failed), stops
  // the workers, and returns the first error. Later calls return the same.
  Status Finish() {
    {
      std::unique_lock lock(mutex_);
      space_.wait(lock, [&] { return slots_.empty() || !error_.ok(); });
      stopping_ = true;
    }
    work_.notify_all();
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
    return error_;
  }

 private:
  enum class State { kQueued, kRunning, kDone };
  struct Slot {
    Job job;
    State state = State::kQueued;
    Status status;  // Of process_, once done.
  };

  Status SubmitInline(Job& job) {
    if (!error_.ok()) return error_;
    Status s = process_(job, 0);
    if (s.ok()) s = deliver_(job);
    if (!s.ok()) error_ = s;
    if (recycled_.empty()) recycled_.push_back(std::move(job));
    return s;
  }

  void Work(int worker) {
    std::unique_lock lock(mutex_);
    for (;;) {
      Slot* slot = nullptr;
      work_.wait(lock, [&] {
        slot = NextQueued();
        return slot != nullptr || stopping_ || !error_.ok();
      });
      if (slot == nullptr) return;
      slot->state = State::kRunning;
      lock.unlock();
      Status s = process_(slot->job, worker);
      lock.lock();
      slot->state = State::kDone;
      slot->status = std::move(s);
      DeliverReady(lock);
    }
  }

  Slot* NextQueued() {
    if (!error_.ok()) return nullptr;
    for (Slot& slot : slots_) {
      if (slot.state == State::kQueued) return &slot;
    }
    return nullptr;
  }

  // Delivers finished jobs from the front, one thread at a time; a job whose process_
  // failed fails the pipeline instead. Slots stay in the deque until delivered, so the
  // pointers that workers hold remain valid (a deque keeps references on push_back and
  // pop_front).
  void DeliverReady(std::unique_lock<std::mutex>& lock) {
    while (!delivering_ && error_.ok() && !slots_.empty() &&
           slots_.front().state == State::kDone) {
      if (!slots_.front().status.ok()) return Fail(slots_.front().status);
      delivering_ = true;
      Job& job = slots_.front().job;
      lock.unlock();
      Status s = deliver_(job);
      lock.lock();
      delivering_ = false;
      // A producer that takes its jobs from Recycled() makes a new one only when none
      // is there, so it never has more than max_in_flight_ + 1: keeping that many
      // drops none (keeping fewer dropped one now and then, to be made again).
      if (recycled_.size() <= max_in_flight_) recycled_.push_back(std::move(job));
      slots_.pop_front();
      if (!s.ok()) Fail(s);
      space_.notify_all();
    }
  }

  // REQUIRES: mutex_ held.
  void Fail(const Status& status) {
    if (error_.ok()) error_ = status;
    space_.notify_all();
    work_.notify_all();
  }

  Process process_;
  Deliver deliver_;
  const size_t max_in_flight_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable work_;   // A job was queued, or the pipeline stops.
  std::condition_variable space_;  // A slot was freed, or the pipeline failed.
  std::deque<Slot> slots_;         // In submission order: queued, running, done.
  std::vector<Job> recycled_;      // Delivered, for Recycled(); at most max_in_flight_ + 1.
  bool delivering_ = false;
  bool stopping_ = false;
  Status error_;
};

}  // namespace reducto

#endif  // REDUCTO_UTIL_ORDERED_PIPELINE_H_
