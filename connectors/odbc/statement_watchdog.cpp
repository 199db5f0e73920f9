#include "statement_watchdog.h"

#include <sqlext.h>

namespace switchboard::odbc {

using namespace std::chrono;

StatementWatchdog::StatementWatchdog(milliseconds tick)
    : tick_(tick.count() > 0 ? tick : milliseconds(1)) {}

StatementWatchdog::~StatementWatchdog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

StatementWatchdog::Ticket StatementWatchdog::arm(SQLHSTMT statement,
                                                 steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { run(); });
  }
  // Entries are list nodes moved between the two lists, not allocated per statement.
  if (spare_.empty()) {
    spare_.emplace_back();
  }
  const Ticket ticket = spare_.begin();
  entries_.splice(entries_.end(), spare_, ticket);
  *ticket = Entry{statement, deadline};
  lastArmed_ = steady_clock::now();
  if (idle_) {
    idle_ = false;
    lock.unlock();
    wake_.notify_one();
  }
  return ticket;
}

bool StatementWatchdog::disarm(Ticket ticket) {
  std::unique_lock lock(mutex_);
  cancelled_.wait(lock, [&] { return !ticket->cancelling; });
  const bool fired = ticket->fired;
  if (fired) {
    overdue_.fetch_sub(1);
  }
  spare_.splice(spare_.end(), entries_, ticket);
  return fired;
}

void StatementWatchdog::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = steady_clock::now();
    for (auto entry = entries_.begin(); entry != entries_.end(); ++entry) {
      if (entry->fired || entry->deadline > now) {
        continue;
      }
      entry->fired = true;
      entry->cancelling = true;
      overdue_.fetch_add(1);
      // Outside the lock: a cancel may take a round trip (PostgreSQL's cancel request opens a
      // connection of its own), and other arrivals arm and disarm meanwhile. The entry stays:
      // its owner waits in disarm() until the cancel is over.
      lock.unlock();
      SQLCancel(entry->statement);
      lock.lock();
      entry->cancelling = false;
      cancelled_.notify_all();
    }
    if (entries_.empty() && steady_clock::now() - lastArmed_ > seconds(1)) {
      idle_ = true;
      wake_.wait(lock, [&] { return stopping_ || !idle_; });
    } else {
      wake_.wait_for(lock, tick_, [&] { return stopping_; });
    }
  }
}

} // namespace switchboard::odbc
