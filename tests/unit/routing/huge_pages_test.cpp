// The engine's large arrays (HugePageAllocator): they hold what is put in them like any vector,
// and the whole huge pages inside a large one are given to transparent huge pages, which the
// kernel shows as THPeligible in the array's mapping.

#include "huge_pages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>

namespace switchboard::routing {
namespace {

/// The kernel's transparent huge page mode: "always", "madvise", "never", or "" if unknown.
std::string transparentHugePages() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(in, line);
  const auto open = line.find('[');
  const auto close = line.find(']');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    return "";
  }
  return line.substr(open + 1, close - open - 1);
}

/// The THPeligible field of the mapping (in /proc/self/smaps) that holds `address`; -1 if none.
int thpEligible(std::uintptr_t address) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t start = 0;
    std::uintptr_t end = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> start >> dash >> end && dash == '-') {
      inside = address >= start && address < end;
      continue;
    }
    if (inside && line.rfind("THPeligible:", 0) == 0) {
      return std::stoi(line.substr(12));
    }
  }
  return -1;
}

TEST(HugePages, ALargeVectorHoldsItsElementsAsAnyVector) {
  LargeVector<std::uint64_t> small(1000);
  std::iota(small.begin(), small.end(), 0);
  LargeVector<std::uint64_t> large(3 * kHugePage / sizeof(std::uint64_t) + 17);
  std::iota(large.begin(), large.end(), 0);
  large.push_back(7); // grows: the elements move to a new block
  EXPECT_EQ(small[999], 999U);
  EXPECT_EQ(large[large.size() - 2], large.size() - 2);
  EXPECT_EQ(large.back(), 7U);
  const LargeVector<std::uint64_t> copy = large;
  EXPECT_EQ(copy, large);
}

TEST(HugePages, TheWholeHugePagesOfALargeArrayAreAdvised) {
  const std::string mode = transparentHugePages();
  if (mode != "madvise" && mode != "always") {
    GTEST_SKIP() << "transparent huge pages are '" << mode << "' on this machine";
  }
  LargeVector<char> array(5 * kHugePage, 1);
  const auto address = reinterpret_cast<std::uintptr_t>(array.data());
  const std::uintptr_t firstWhole = (address + kHugePage - 1) & ~(kHugePage - 1);
  EXPECT_EQ(thpEligible(firstWhole), 1);
  EXPECT_EQ(thpEligible(firstWhole + 3 * kHugePage), 1);
}

TEST(HugePages, ASmallArrayIsLeftAsItIs) {
  if (transparentHugePages() != "madvise") {
    GTEST_SKIP() << "only with transparent huge pages on request is the difference seen";
  }
  // Below one huge page nothing is advised: a block of 64 KB from the ordinary heap stays in a
  // mapping that is not eligible.
  LargeVector<char> array(64 * 1024, 1);
  EXPECT_EQ(thpEligible(reinterpret_cast<std::uintptr_t>(array.data())), 0);
}

} // namespace
} // namespace switchboard::routing
