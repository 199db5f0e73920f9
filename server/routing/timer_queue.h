#pragma once

// The engine's timers in time order (then the order they were set in), like one binary heap but
// cheaper for the common case. Most timers are set a fixed delay after "now" (an offer expires
// offerTimeout after it is made, wrap-up ends wrapUp after a contact), and "now" only grows, so
// the timers of one delay arrive already in order: each delay gets a FIFO lane, appended to and
// popped from the front in constant time. A timer that would break its lane's order (one set by a
// late call to advance(), say) and timers without a fixed delay go to a heap. The earliest timer
// is the earliest of the lane fronts and the heap top, so the order is exactly the heap's.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <vector>

namespace switchboard::routing {

/// Where a timer waits, for TimerQueue::change(): its lane and its place in the lane's order.
struct TimerHandle {
  static constexpr std::uint32_t kNoLane = 0xffffffffU;
  std::uint32_t lane = kNoLane; ///< kNoLane: in the heap, or no timer
  std::uint64_t place = 0;      ///< timers pushed to the lane before it
};

template <typename Timer>
class TimerQueue {
 public:
  /// No fixed delay: the timer goes to the heap.
  static constexpr std::int64_t kNoDelay = -1;

  using Handle = TimerHandle;

  /// Adds `timer`, set `delay` ms after the time it was set at (kNoDelay when it was not).
  /// Timers must be added in the order of their sequence numbers.
  Handle push(const Timer& timer, std::int64_t delay) {
    if (delay != kNoDelay) {
      for (std::uint32_t l = 0; l < lanes_.size(); ++l) {
        Lane& lane = lanes_[l];
        if (lane.delay == delay) {
          if (lane.timers.empty() || !(lane.timers.back() > timer)) {
            lane.timers.push_back(timer);
            return Handle{l, lane.popped + lane.timers.size() - 1};
          }
          heap_.push(timer);
          return Handle{};
        }
      }
      if (lanes_.size() < kMaxLanes) {
        lanes_.push_back(Lane{delay, {}, 0});
        lanes_.back().timers.push_back(timer);
        return Handle{static_cast<std::uint32_t>(lanes_.size() - 1), 0};
      }
    }
    heap_.push(timer);
    return Handle{};
  }

  /// Calls edit(timer) on the timer `handle` stands for while it waits in its lane, without
  /// changing its time or place (timers in the heap, and those gone, are left alone).
  template <typename Edit>
  void change(const Handle& handle, Edit&& edit) {
    if (handle.lane >= lanes_.size()) {
      return;
    }
    Lane& lane = lanes_[handle.lane];
    if (handle.place < lane.popped || handle.place - lane.popped >= lane.timers.size()) {
      return;
    }
    edit(lane.timers[static_cast<std::size_t>(handle.place - lane.popped)]);
  }

  bool empty() const {
    if (!heap_.empty()) {
      return false;
    }
    for (const Lane& lane : lanes_) {
      if (!lane.timers.empty()) {
        return false;
      }
    }
    return true;
  }

  /// The earliest timer; the queue must not be empty.
  const Timer& top() const {
    const Timer* best = heap_.empty() ? nullptr : &heap_.top();
    for (const Lane& lane : lanes_) {
      if (!lane.timers.empty() && (best == nullptr || *best > lane.timers.front())) {
        best = &lane.timers.front();
      }
    }
    return *best;
  }

  /// Removes the earliest timer; the queue must not be empty.
  void pop() {
    const Timer* best = heap_.empty() ? nullptr : &heap_.top();
    Lane* from = nullptr;
    for (Lane& lane : lanes_) {
      if (!lane.timers.empty() && (best == nullptr || *best > lane.timers.front())) {
        best = &lane.timers.front();
        from = &lane;
      }
    }
    if (from != nullptr) {
      from->timers.pop_front();
      ++from->popped;
    } else {
      heap_.pop();
    }
  }

 private:
  /// Past this many distinct delays, timers of new delays go to the heap.
  static constexpr std::size_t kMaxLanes = 8;

  struct Lane {
    std::int64_t delay = 0;
    std::deque<Timer> timers; ///< in (time, sequence) order
    std::uint64_t popped = 0; ///< timers taken from its front so far
  };

  std::vector<Lane> lanes_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> heap_;
};

} // namespace switchboard::routing
