#include "support/pipeline_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "support/wait.h"

namespace pg2ch::test {
namespace {

std::mutex g_mutex;
std::vector<const PipelineRunner*> g_live;

}  // namespace

PipelineRunner::PipelineRunner(config::Config cfg) : cfg_(std::move(cfg)) {
  {
    std::lock_guard lock(g_mutex);
    g_live.push_back(this);
  }
  capture::RunOptions options;
  options.on_ready = [this] { ready_ = true; };
  thread_ = std::thread([this, options] {
    try {
      service::run_pipeline(cfg_, stop_, options);
    } catch (const std::exception& e) {
      error_text_ = e.what();
      error_ = std::current_exception();
      failed_ = true;
    } catch (...) {
      error_text_ = "unknown exception";
      error_ = std::current_exception();
      failed_ = true;
    }
  });
}

PipelineRunner::~PipelineRunner() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(g_mutex);
  g_live.erase(std::remove(g_live.begin(), g_live.end(), this), g_live.end());
}

void PipelineRunner::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (error_) std::rethrow_exception(error_);
}

std::string PipelineRunner::describe() const {
  std::string s = fmt::format("mode {} (pipeline {}, sink {})", cfg_.mode, cfg_.name, cfg_.sink);
  if (failed_) s += " failed: " + error_text_;
  else if (!ready_) s += " is still starting (never reported ready)";
  return s;
}

void PipelineRunner::wait_ready(std::chrono::milliseconds timeout) {
  if (wait_until([&] { return ready_.load() || failed_.load(); }, timeout, std::chrono::milliseconds(10)) && ready_)
    return;
  throw PipelineDied("pipeline under test " + describe());
}

void PipelineRunner::throw_if_any_died() {
  std::lock_guard lock(g_mutex);
  for (const auto* r : g_live) {
    if (r->failed_ && !r->expect_failure_) throw PipelineDied("pipeline under test died: " + r->describe());
  }
}

}  // namespace pg2ch::test
