#pragma once

// The polling thread every mail source runs: poll, wait the interval (or until stopped), again.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace switchboard::email {

/// Calls `poll` on its own thread every `interval` between start() and stop(). stop() wakes the
/// wait at once and joins the thread; a poll in progress is finished first, and polls that take
/// many mails check stopping() between them. The poll must not throw.
class MailPoller {
 public:
  MailPoller(std::chrono::milliseconds interval, std::function<void()> poll)
      : interval_(interval), poll_(std::move(poll)) {}
  MailPoller(const MailPoller&) = delete;
  MailPoller& operator=(const MailPoller&) = delete;
  ~MailPoller() { stop(); }

  void start() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = false;
    }
    thread_ = std::thread([this] { run(); });
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  /// True while the started thread is being stopped (never for a poll called directly, as tests
  /// do without start()).
  bool stopping() {
    std::lock_guard lock(mutex_);
    return stopping_ && thread_.joinable();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      poll_();
      lock.lock();
      wake_.wait_for(lock, interval_, [this] { return stopping_; });
    }
  }

  std::chrono::milliseconds interval_;
  std::function<void()> poll_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace switchboard::email
