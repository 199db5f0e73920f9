#include "switchboard/store.h"

#include "group_commit_store.h"

namespace switchboard {

std::unique_ptr<Store> openStore(const StoreOptions& options) {
  return std::make_unique<store::GroupCommitStore>(options);
}

} // namespace switchboard
