#include "serve/batch_scheduler.h"

#include <algorithm>

namespace lp::serve {
namespace {

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

}  // namespace

bool Job::wait_for_text(std::string& text, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return !pending_.empty() || done_; });
  text = std::move(pending_);
  pending_.clear();
  return done_;
}

JobOutcome Job::wait() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return done_; });
  return outcome_;
}

void Job::append(const std::string& text) {
  {
    std::lock_guard lock(mutex_);
    pending_ += text;
  }
  changed_.notify_all();
}

void Job::complete(JobOutcome outcome) {
  {
    std::lock_guard lock(mutex_);
    outcome_ = std::move(outcome);
    done_ = true;
  }
  changed_.notify_all();
}

BatchScheduler::BatchScheduler(InferenceSession& session, const Tokenizer& tokenizer, std::vector<int32_t> end_ids,
                               size_t max_queue)
    : session_(session), tokenizer_(tokenizer), end_ids_(std::move(end_ids)), max_queue_(max_queue),
      slots_(static_cast<size_t>(session.sequences())),
      logits_(static_cast<size_t>(session.sequences() * session.vocab_size())) {
  std::sort(end_ids_.begin(), end_ids_.end());
  thread_ = std::thread([this] { loop(); });
}

BatchScheduler::~BatchScheduler() { stop(); }

bool BatchScheduler::submit(const std::shared_ptr<Job>& job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    // Requests that find a free slot start at once; the queue holds only those that wait.
    const auto free_slots = static_cast<size_t>(std::max<int64_t>(0, slots() - busy_.load()));
    if (waiting_.size() >= max_queue_ + free_slots) return false;
    waiting_.push_back(job);
    queued_ = static_cast<int64_t>(waiting_.size());
  }
  wake_.notify_one();
  return true;
}

void BatchScheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BatchScheduler::loop() {
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !waiting_.empty() || busy_.load() > 0; });
      if (stopping_) break;
    }
    admit_waiting_jobs();
    drop_cancelled();
    if (busy_.load() == 0) continue;
    try {
      step();
    } catch (const std::exception& e) {
      fail_active(e.what());
    }
  }
  fail_active("the server is shutting down");
  std::lock_guard lock(mutex_);
  for (auto& job : waiting_) {
    JobOutcome outcome;
    outcome.error = "the server is shutting down";
    job->complete(std::move(outcome));
  }
  waiting_.clear();
  queued_ = 0;
}

// Each waiting job takes the free slot whose cache shares the longest prefix with its prompt
// (a conversation's next turn finds its earlier turns still there); at least the prompt's
// last token is evaluated again, for its logits.
void BatchScheduler::admit_waiting_jobs() {
  std::lock_guard lock(mutex_);
  while (!waiting_.empty()) {
    size_t best = slots_.size(), best_shared = 0;
    const auto& prompt = waiting_.front()->prompt_;
    const bool reuse = waiting_.front()->reuse_prefix_;
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].job) continue;
      const auto& cached = slots_[i].cached;
      size_t shared = 0;
      while (reuse && shared < cached.size() && shared + 1 < prompt.size() && cached[shared] == prompt[shared]) ++shared;
      if (best == slots_.size() || shared > best_shared) {
        best = i;
        best_shared = shared;
      }
    }
    if (best == slots_.size()) break;
    Slot& slot = slots_[best];
    slot.job = std::move(waiting_.front());
    waiting_.pop_front();
    session_.rewind(static_cast<int64_t>(best), static_cast<int64_t>(best_shared));
    slot.cached.resize(best_shared);
    slot.prompt_done = best_shared;
    slot.next_token = -1;
    slot.started = Clock::now();
    slot.prompt_started = Clock::time_point{};
    slot.outcome = JobOutcome{};
    slot.outcome.prompt_tokens = static_cast<int64_t>(slot.job->prompt_.size());
    slot.outcome.cached_tokens = static_cast<int64_t>(best_shared);
    slot.outcome.queue_seconds = seconds_between(slot.job->arrived_, slot.started);
    slot.stream = std::make_unique<TokenStream>(tokenizer_, end_ids_, slot.job->settings_, slot.job->prompt_);
    ++busy_;
  }
  queued_ = static_cast<int64_t>(waiting_.size());
}

void BatchScheduler::drop_cancelled() {
  for (Slot& slot : slots_) {
    if (slot.job && slot.job->cancelled()) finish(slot, "cancelled");
  }
}

// One forward pass: every decoding slot's fed-back token first (so a long prompt never holds
// up the streams already running), then prompts in chunks that fill the batch.
void BatchScheduler::step() {
  runs_.clear();
  batch_tokens_.clear();
  run_slot_.clear();
  int64_t room = session_.batch_size();
  for (size_t i = 0; i < slots_.size() && room > 0; ++i) {
    if (!slots_[i].job || slots_[i].next_token < 0) continue;
    runs_.push_back({static_cast<int64_t>(i), 1});
    batch_tokens_.push_back(slots_[i].next_token);
    run_slot_.push_back(i);
    --room;
  }
  const auto decode_rows = static_cast<int64_t>(runs_.size());
  for (size_t i = 0; i < slots_.size() && room > 0; ++i) {
    Slot& slot = slots_[i];
    if (!slot.job || slot.next_token >= 0) continue;
    const auto& prompt = slot.job->prompt_;
    const auto count = std::min<int64_t>(room, static_cast<int64_t>(prompt.size() - slot.prompt_done));
    if (count <= 0) continue;
    if (slot.prompt_started == Clock::time_point{}) slot.prompt_started = Clock::now();
    runs_.push_back({static_cast<int64_t>(i), count});
    batch_tokens_.insert(batch_tokens_.end(), prompt.begin() + static_cast<std::ptrdiff_t>(slot.prompt_done),
                         prompt.begin() + static_cast<std::ptrdiff_t>(slot.prompt_done + static_cast<size_t>(count)));
    run_slot_.push_back(i);
    room -= count;
  }
  if (runs_.empty()) return;

  const auto t0 = Clock::now();
  session_.eval_sequences(runs_, batch_tokens_, logits_);
  const auto t1 = Clock::now();
  counters_.forward_passes += 1;
  counters_.batched_rows += static_cast<int64_t>(batch_tokens_.size());
  counters_.decode_rows += decode_rows;

  const auto vocab = static_cast<size_t>(session_.vocab_size());
  size_t offset = 0;
  for (size_t r = 0; r < runs_.size(); ++r) {
    Slot& slot = slots_[run_slot_[r]];
    const auto count = static_cast<size_t>(runs_[r].count);
    slot.cached.insert(slot.cached.end(), batch_tokens_.begin() + static_cast<std::ptrdiff_t>(offset),
                       batch_tokens_.begin() + static_cast<std::ptrdiff_t>(offset + count));
    offset += count;
    if (slot.next_token >= 0) {
      slot.outcome.decode_seconds += seconds_between(t0, t1);
      ++slot.outcome.decoded_tokens;
    } else {
      slot.prompt_done += count;
      if (slot.prompt_done < slot.job->prompt_.size()) continue;  // more of the prompt to read first
      slot.outcome.prompt_seconds = seconds_between(slot.prompt_started, t1);
      counters_.prompt_tokens += slot.outcome.prompt_tokens;
      counters_.cached_prompt_tokens += slot.outcome.cached_tokens;
    }
    const std::span<const float> row(logits_.data() + r * vocab, vocab);
    const std::optional<int32_t> next = slot.stream->next(row, session_.n_past(runs_[r].sequence), session_.ctx_size());
    if (slot.outcome.first_token_seconds == 0.0) slot.outcome.first_token_seconds = seconds_between(slot.job->arrived_, Clock::now());
    if (std::string text = slot.stream->take_text(); !text.empty()) slot.job->append(text);
    if (!next) {
      finish(slot, slot.stream->stop_reason());
      continue;
    }
    slot.next_token = *next;
  }
}

void BatchScheduler::finish(Slot& slot, const std::string& reason) {
  slot.stream->finish(reason);
  JobOutcome& o = slot.outcome;
  o.tokens = slot.stream->tokens();
  o.logprobs = slot.stream->logprobs();
  o.text = slot.stream->text();
  o.stop_reason = slot.stream->stop_reason();
  o.total_seconds = seconds_between(slot.job->arrived_, Clock::now());
  counters_.generated_tokens += static_cast<int64_t>(o.tokens.size());
  (reason == "cancelled" ? counters_.cancelled : counters_.completed) += 1;
  slot.job->complete(std::move(o));
  slot.job.reset();
  slot.stream.reset();
  slot.next_token = -1;
  --busy_;
}

// After an engine error the slots' caches are in an unknown state: they start over.
void BatchScheduler::fail_active(const std::string& error) {
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& slot = slots_[i];
    if (!slot.job) continue;
    JobOutcome outcome;
    outcome.error = error;
    slot.job->complete(std::move(outcome));
    slot.job.reset();
    slot.stream.reset();
    slot.next_token = -1;
    slot.cached.clear();
    session_.rewind(static_cast<int64_t>(i), 0);
    counters_.failed += 1;
    --busy_;
  }
}

}  // namespace lp::serve
