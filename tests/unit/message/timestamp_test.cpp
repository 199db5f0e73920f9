#include "switchboard/timestamp.h"

#include <gtest/gtest.h>

namespace switchboard {
namespace {

using namespace std::chrono;

Timestamp utc(int y, unsigned m, unsigned d, int h, int min, int s, int ms = 0) {
  return Timestamp{sys_days{year{y} / month{m} / day{d}} + hours{h} + minutes{min} + seconds{s} +
                   milliseconds{ms}};
}

TEST(Timestamp, ReadsUtcAndOffsets) {
  EXPECT_EQ(parseTimestamp("2026-11-21T13:45:00Z"), utc(2026, 11, 21, 13, 45, 0));
  EXPECT_EQ(parseTimestamp("2026-11-21T14:45:00+01:00"), utc(2026, 11, 21, 13, 45, 0));
  EXPECT_EQ(parseTimestamp("2026-11-21T08:15:00-05:30"), utc(2026, 11, 21, 13, 45, 0));
  EXPECT_EQ(parseTimestamp("2026-11-21T23:30:00-01:00"), utc(2026, 11, 22, 0, 30, 0));
}

TEST(Timestamp, KeepsMillisecondsAndDropsFinerDigits) {
  EXPECT_EQ(parseTimestamp("2026-11-21T13:45:00.250Z"), utc(2026, 11, 21, 13, 45, 0, 250));
  EXPECT_EQ(parseTimestamp("2026-11-21T13:45:00.5Z"), utc(2026, 11, 21, 13, 45, 0, 500));
  EXPECT_EQ(parseTimestamp("2026-11-21T13:45:00.123999999Z"), utc(2026, 11, 21, 13, 45, 0, 123));
}

TEST(Timestamp, ReadsEndOfDayAndLeapDays) {
  EXPECT_EQ(parseTimestamp("2026-11-21T24:00:00Z"), utc(2026, 11, 22, 0, 0, 0));
  EXPECT_EQ(parseTimestamp("2028-02-29T12:00:00Z"), utc(2028, 2, 29, 12, 0, 0));
}

TEST(Timestamp, RefusesTimesWithoutZoneOrOutOfRange) {
  for (std::string_view bad :
       {"2026-11-21T13:45:00", "2026-11-21 13:45:00Z", "2026-13-01T00:00:00Z",
        "2027-02-29T00:00:00Z", "2026-11-21T24:00:01Z", "2026-11-21T13:60:00Z",
        "2026-11-21T13:45:00.Z", "2026-11-21T13:45:00+1:00", "2026-11-21T13:45:00+15:00", "",
        "20261121T134500Z", "2026-11-21T13:45:00Zjunk"}) {
    EXPECT_FALSE(parseTimestamp(bad).has_value()) << bad;
  }
}

TEST(Timestamp, WritesUtcWithMillisecondsOnlyWhenPresent) {
  EXPECT_EQ(formatTimestamp(utc(2026, 11, 21, 13, 45, 0)), "2026-11-21T13:45:00Z");
  EXPECT_EQ(formatTimestamp(utc(2026, 1, 2, 3, 4, 5, 7)), "2026-01-02T03:04:05.007Z");
  EXPECT_EQ(formatTimestamp(Timestamp{}), "1970-01-01T00:00:00Z");
}

TEST(Timestamp, WrittenTimesReadBackUnchanged) {
  for (Timestamp time : {utc(1999, 12, 31, 23, 59, 59, 999), utc(2026, 6, 30, 0, 0, 0, 1),
                         utc(9999, 12, 31, 23, 59, 59, 999), utc(1, 1, 1, 0, 0, 0)}) {
    EXPECT_EQ(parseTimestamp(formatTimestamp(time)), time) << formatTimestamp(time);
  }
}

TEST(Timestamp, ClampsYearsTheFormatCannotHold) {
  EXPECT_EQ(formatTimestamp(utc(10000, 1, 1, 0, 0, 0)), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(formatTimestamp(utc(-1, 1, 1, 0, 0, 0)), "0000-01-01T00:00:00Z");
}

} // namespace
} // namespace switchboard
