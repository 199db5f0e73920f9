#pragma once

// Cancels ODBC statements that run past their deadline, from a thread of its own (SQLCancel is
// the one ODBC call meant to be made on a statement another thread is executing). This is what
// lets a lookup run on the arriving thread and still give up at lookupTimeout, where ODBC's own
// query timeout counts whole seconds.
//
// Arming and disarming take a mutex and never wake the watchdog while it is ticking: it looks at
// its deadlines every `tick` while statements have been armed in the last second, and sleeps
// until the next arm once none have.

#include <sql.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <list>
#include <mutex>
#include <thread>

namespace switchboard::odbc {

class StatementWatchdog {
 public:
  struct Entry {
    SQLHSTMT statement = SQL_NULL_HSTMT;
    std::chrono::steady_clock::time_point deadline;
    bool fired = false;      ///< SQLCancel was called (or is being called)
    bool cancelling = false; ///< the watchdog is inside SQLCancel for it right now
  };
  using Ticket = std::list<Entry>::iterator;

  /// `tick`: how often deadlines are checked while statements run (a lookup may overrun its
  /// deadline by up to one tick before it is cancelled).
  explicit StatementWatchdog(std::chrono::milliseconds tick);
  ~StatementWatchdog();
  StatementWatchdog(const StatementWatchdog&) = delete;
  StatementWatchdog& operator=(const StatementWatchdog&) = delete;

  /// Watches `statement` until disarm(): past `deadline` it is cancelled. Starts the thread on
  /// first use. Throws std::system_error when the thread cannot be started.
  Ticket arm(SQLHSTMT statement, std::chrono::steady_clock::time_point deadline);
  /// Stops watching; waits for a cancel of this statement in progress, so that the caller may
  /// free the statement when it returns. Returns true when the statement was cancelled.
  bool disarm(Ticket ticket);
  /// Statements past their deadline that have not returned yet (cancelled, or being cancelled).
  std::size_t overdue() const { return overdue_.load(std::memory_order_relaxed); }

 private:
  void run();

  const std::chrono::milliseconds tick_;
  std::mutex mutex_;
  std::condition_variable wake_;      ///< the watchdog: something was armed, or stop
  std::condition_variable cancelled_; ///< disarm(): a cancel in progress finished
  std::list<Entry> entries_;
  std::list<Entry> spare_; ///< nodes for the next arm()
  std::chrono::steady_clock::time_point lastArmed_{};
  bool idle_ = false; ///< the watchdog sleeps until the next arm
  bool stopping_ = false;
  std::atomic<std::size_t> overdue_{0};
  std::thread thread_;
};

} // namespace switchboard::odbc
