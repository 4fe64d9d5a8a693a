#include "pipeline/insert_budget.h"

namespace pg2ch::pipeline {

namespace {

// One second's worth of tokens, at least one: a burst after a quiet second, and the most debt.
double burst(double per_second) { return std::max(1.0, per_second); }

}  // namespace

InsertBudget::InsertBudget(double per_second, Clock::time_point now)
    : per_second_(per_second), tokens_(burst(per_second)), refilled_at_(now) {}

void InsertBudget::set_rate(double per_second, Clock::time_point now) {
  refill(now);
  per_second_ = per_second;
  tokens_ = std::min(tokens_, burst(per_second));
}

void InsertBudget::refill(Clock::time_point now) {
  if (now <= refilled_at_) return;
  const double elapsed = std::chrono::duration<double>(now - refilled_at_).count();
  refilled_at_ = now;
  if (per_second_ > 0) tokens_ = std::min(burst(per_second_), tokens_ + elapsed * per_second_);
}

bool InsertBudget::try_take(Clock::time_point now) {
  if (!limited()) return true;
  refill(now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

void InsertBudget::charge(Clock::time_point now) {
  if (!limited()) return;
  refill(now);
  tokens_ = std::max(-burst(per_second_), tokens_ - 1.0);
}

InsertBudget::Clock::time_point InsertBudget::next_token_at(Clock::time_point now) {
  if (!limited()) return now;
  refill(now);
  if (tokens_ >= 1.0) return now;
  const auto wait = std::chrono::duration<double>((1.0 - tokens_) / per_second_);
  return now + std::chrono::ceil<Clock::duration>(wait);
}

double InsertBudget::tokens(Clock::time_point now) {
  refill(now);
  return tokens_;
}

}  // namespace pg2ch::pipeline
