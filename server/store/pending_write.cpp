#include "pending_write.h"

#include <exception>

namespace switchboard::store {

namespace {

template <class Write>
void complete(Write& write) {
  if constexpr (std::is_same_v<Write, ArrivalWrite>) {
    if (write.callback) {
      write.callback(write.outcome, {});
    } else {
      write.done.set_value(write.outcome);
    }
  } else if constexpr (std::is_same_v<Write, DeadLetterWrite>) {
    write.done.set_value(write.id);
  } else if constexpr (std::is_same_v<Write, ResponseWrite>) {
    if (write.callback) {
      write.callback(std::nullopt);
    } else {
      write.done.set_value();
    }
  } else {
    write.done.set_value();
  }
}

} // namespace

void PendingWrite::succeed() {
  if (refusal) {
    fail(*refusal);
    return;
  }
  std::visit([](auto& write) { complete(write); }, body);
}

void PendingWrite::fail(const std::string& reason) {
  if (auto* arrival = std::get_if<ArrivalWrite>(&body); arrival != nullptr && arrival->callback) {
    arrival->callback(std::nullopt, reason);
    return;
  }
  if (auto* answer = std::get_if<ResponseWrite>(&body); answer != nullptr && answer->callback) {
    answer->callback(reason);
    return;
  }
  auto error = std::make_exception_ptr(StoreError(reason));
  std::visit([&](auto& write) { write.done.set_exception(error); }, body);
}

} // namespace switchboard::store
