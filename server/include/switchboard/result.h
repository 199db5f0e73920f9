#pragma once

// A value or the error that stands in its place, for operations whose failure is an ordinary
// outcome (bad input) rather than a defect. Defects throw.

#include <stdexcept>
#include <utility>
#include <variant>

namespace switchboard {

template <class T, class E>
class Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(E error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  /// The value. Throws std::logic_error when this holds an error: check ok() first.
  T& value() & { return std::get<0>(checked()); }
  const T& value() const& { return std::get<0>(checked()); }
  T&& value() && { return std::get<0>(std::move(checked())); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error. Throws std::logic_error when this holds a value.
  const E& error() const {
    if (ok()) {
      throw std::logic_error("Result::error() called on a value");
    }
    return std::get<1>(state_);
  }

 private:
  std::variant<T, E>& checked() {
    if (!ok()) {
      throw std::logic_error("Result::value() called on an error");
    }
    return state_;
  }
  const std::variant<T, E>& checked() const {
    if (!ok()) {
      throw std::logic_error("Result::value() called on an error");
    }
    return state_;
  }

  std::variant<T, E> state_;
};

} // namespace switchboard
