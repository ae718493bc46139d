#pragma once
// The server's engine loop: one loaded model, one session holding a KV cache per slot, and
// one thread that advances every busy slot together. Each pass of the loop is one forward
// pass over the rows of all slots (continuous batching, as llama-server does): a decoding
// slot adds its one fed-back token, a slot reading its prompt adds as much of it as the
// batch has room for. So N concurrent streams cost one weight read per step, not N.
// Requests wait in a bounded queue for a free slot; a request whose client has gone is
// dropped at the next pass and its slot freed.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/inference_session.h"
#include "engine/token_stream.h"

namespace lp::serve {

using Clock = std::chrono::steady_clock;

// What one request came to, with Ollama's timings (TR125 reads them).
struct JobOutcome {
  std::vector<int32_t> tokens;
  std::vector<TokenLogprob> logprobs;
  std::string text, stop_reason;  // stop_reason: "eos", "stop_string", "length", "context", "cancelled"
  std::string error;              // non-empty: the request failed inside the engine
  int64_t prompt_tokens = 0;      // the whole prompt
  int64_t cached_tokens = 0;      // of those, already in the slot's cache (a shared prefix)
  double queue_seconds = 0.0;     // waiting for a free slot
  double prompt_seconds = 0.0;    // reading the uncached part of the prompt
  int64_t decoded_tokens = 0;     // forward passes of generated tokens fed back
  double decode_seconds = 0.0;
  double first_token_seconds = 0.0;  // from arrival
  double total_seconds = 0.0;        // from arrival
};

// A request as the HTTP thread and the engine loop share it: the loop appends text as it
// becomes final; the HTTP thread takes it (streaming) or waits for the end.
class Job {
 public:
  // reuse_prefix: a slot's cache may serve the start of the prompt (llama-server's
  // cache_prompt). The answer is the same in exact arithmetic; with 8-bit activations a prompt
  // read in different chunks rounds differently, so a greedy answer can change.
  Job(std::vector<int32_t> prompt, GenerationSettings settings, bool reuse_prefix = true)
      : prompt_(std::move(prompt)), settings_(std::move(settings)), reuse_prefix_(reuse_prefix), arrived_(Clock::now()) {}

  // Waits until there is new text or the job is done (or `timeout` passes); moves the new
  // text into `text`. Returns true once the job is done and all its text was taken.
  bool wait_for_text(std::string& text, std::chrono::milliseconds timeout);
  // Waits for the end.
  JobOutcome wait();
  // The client went away: the engine loop frees the slot at its next pass.
  void cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }

 private:
  friend class BatchScheduler;
  void append(const std::string& text);
  void complete(JobOutcome outcome);

  std::vector<int32_t> prompt_;
  GenerationSettings settings_;
  bool reuse_prefix_;
  Clock::time_point arrived_;
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string pending_;
  bool done_ = false;
  JobOutcome outcome_;
};

// Counters the metrics endpoint reads (updated by the engine loop).
struct SchedulerCounters {
  std::atomic<int64_t> prompt_tokens{0}, cached_prompt_tokens{0}, generated_tokens{0};
  std::atomic<int64_t> forward_passes{0}, batched_rows{0}, decode_rows{0};
  std::atomic<int64_t> completed{0}, cancelled{0}, failed{0};
};

class BatchScheduler {
 public:
  // `session` was made with one sequence per slot.
  BatchScheduler(InferenceSession& session, const Tokenizer& tokenizer, std::vector<int32_t> end_ids, size_t max_queue);
  ~BatchScheduler();
  BatchScheduler(const BatchScheduler&) = delete;
  BatchScheduler& operator=(const BatchScheduler&) = delete;

  // Queues the job; false when the queue is full (the caller answers 503).
  bool submit(const std::shared_ptr<Job>& job);
  // Finishes every job (queued ones with an error) and stops the loop.
  void stop();

  int64_t slots() const { return session_.sequences(); }
  int64_t busy_slots() const { return busy_.load(); }
  int64_t queued() const { return queued_.load(); }
  const SchedulerCounters& counters() const { return counters_; }

 private:
  struct Slot {
    std::shared_ptr<Job> job;
    std::unique_ptr<TokenStream> stream;
    std::vector<int32_t> cached;  // the tokens the slot's cache holds
    size_t prompt_done = 0;       // of job->prompt_, in the cache
    int32_t next_token = -1;      // sampled, to be fed back
    Clock::time_point started, prompt_started;
    JobOutcome outcome;
  };

  void loop();
  void admit_waiting_jobs();
  void drop_cancelled();
  void step();
  void finish(Slot& slot, const std::string& reason);
  void fail_active(const std::string& error);

  InferenceSession& session_;
  const Tokenizer& tokenizer_;
  std::vector<int32_t> end_ids_;
  size_t max_queue_;
  std::vector<Slot> slots_;
  std::vector<float> logits_;
  std::vector<SequenceRun> runs_;
  std::vector<int32_t> batch_tokens_;
  std::vector<size_t> run_slot_;

  std::mutex mutex_;  // guards waiting_ and stopping_
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> waiting_;
  bool stopping_ = false;
  std::atomic<int64_t> busy_{0}, queued_{0};
  SchedulerCounters counters_;
  std::thread thread_;
};

}  // namespace lp::serve
