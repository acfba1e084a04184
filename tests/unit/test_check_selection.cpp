// The checks `psleak run` makes and their --checks/--skip selection.

#include "checks/check_kind.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/errors.h"

namespace psleak {
namespace {

using Names = std::vector<std::string>;

const Names kEvery = {"memory", "fd", "thread", "pythread", "gc", "refcount"};

std::string usageErrorOf(const Names& checks, const Names& skip) {
  try {
    CheckSelection::fromOptions(checks, skip);
  } catch (const UsageError& error) {
    return error.what();
  }
  return "";
}

TEST(CheckKind, NamesRoundTrip) {
  ASSERT_EQ(kAllChecks.size(), kEvery.size());
  for (std::size_t i = 0; i < kAllChecks.size(); ++i) {
    EXPECT_EQ(checkName(kAllChecks[i]), kEvery[i]);
    EXPECT_EQ(checkFromName(kEvery[i]), kAllChecks[i]);
  }
  EXPECT_EQ(checkFromName("FD"), std::nullopt);
  EXPECT_EQ(checkFromName(""), std::nullopt);
}

TEST(CheckSelection, EverythingByDefault) {
  EXPECT_EQ(CheckSelection().names(), kEvery);
  EXPECT_EQ(CheckSelection::fromOptions({}, {}).names(), kEvery);
}

TEST(CheckSelection, ChecksKeepsOnlyThoseInCanonicalOrder) {
  EXPECT_EQ(CheckSelection::fromOptions({"thread,fd"}, {}).names(), (Names{"fd", "thread"}));
  EXPECT_EQ(CheckSelection::fromOptions({"fd", "memory"}, {}).names(), (Names{"memory", "fd"}));
  EXPECT_EQ(CheckSelection::fromOptions({"gc,,gc,"}, {}).names(), (Names{"gc"}));
  const CheckSelection selection = CheckSelection::fromOptions({"refcount"}, {});
  EXPECT_TRUE(selection.enabled(CheckKind::Refcount));
  EXPECT_FALSE(selection.enabled(CheckKind::Memory));
}

TEST(CheckSelection, SkipRemovesFromTheSelection) {
  EXPECT_EQ(CheckSelection::fromOptions({}, {"gc,refcount"}).names(),
            (Names{"memory", "fd", "thread", "pythread"}));
  EXPECT_EQ(CheckSelection::fromOptions({"fd,gc"}, {"gc"}).names(), (Names{"fd"}));
  EXPECT_EQ(CheckSelection::fromOptions({}, {"memory", "fd"}).names(),
            (Names{"thread", "pythread", "gc", "refcount"}));
}

TEST(CheckSelection, UnknownCheckIsUsageErrorNamingItAndTheOption) {
  const std::string checks = usageErrorOf({"fd,bogus"}, {});
  EXPECT_NE(checks.find("--checks"), std::string::npos) << checks;
  EXPECT_NE(checks.find("'bogus'"), std::string::npos) << checks;
  EXPECT_NE(checks.find("refcount"), std::string::npos) << checks;  // lists the known ones
  const std::string skip = usageErrorOf({}, {"threads"});
  EXPECT_NE(skip.find("--skip"), std::string::npos) << skip;
  EXPECT_NE(skip.find("'threads'"), std::string::npos) << skip;
}

TEST(CheckSelection, NothingLeftToCheckIsUsageError) {
  EXPECT_NE(usageErrorOf({"fd"}, {"fd"}).find("nothing to check"), std::string::npos);
  EXPECT_THROW(CheckSelection::fromOptions({}, {"memory,fd,thread,pythread,gc,refcount"}),
               UsageError);
}

}  // namespace
}  // namespace psleak
