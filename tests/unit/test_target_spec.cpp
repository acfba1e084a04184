// MODULE:ATTR target specs and NAME=EXPR keyword arguments, parsed without Python.

#include "core/target_spec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/errors.h"

namespace psleak {
namespace {

std::string usageErrorOf(const std::string& spec) {
  try {
    TargetSpec::parse(spec);
  } catch (const UsageError& error) {
    return error.what();
  }
  return "";
}

TEST(TargetSpec, ModuleAndFunction) {
  const TargetSpec spec = TargetSpec::parse("json:dumps");
  EXPECT_EQ(spec.module, "json");
  EXPECT_EQ(spec.attrPath, (std::vector<std::string>{"dumps"}));
  EXPECT_EQ(spec.text, "json:dumps");
}

TEST(TargetSpec, DottedModuleAndAttributePath) {
  const TargetSpec spec = TargetSpec::parse("pkg.mod:Class.method");
  EXPECT_EQ(spec.module, "pkg.mod");
  EXPECT_EQ(spec.attrPath, (std::vector<std::string>{"Class", "method"}));
  EXPECT_EQ(spec.text, "pkg.mod:Class.method");
}

TEST(TargetSpec, UnderscoresDigitsAndNonAsciiNames) {
  const TargetSpec spec = TargetSpec::parse("_priv2.m_3:f_1");
  EXPECT_EQ(spec.module, "_priv2.m_3");
  EXPECT_EQ(spec.attrPath, (std::vector<std::string>{"f_1"}));
  EXPECT_EQ(TargetSpec::parse("m\xc3\xb3" "dulo:f").module, "m\xc3\xb3" "dulo");
}

TEST(TargetSpec, NoColon) {
  const std::string message = usageErrorOf("json.dumps");
  EXPECT_NE(message.find("no ':'"), std::string::npos) << message;
  EXPECT_NE(message.find("'json.dumps'"), std::string::npos) << message;
}

TEST(TargetSpec, TwoColons) {
  const std::string message = usageErrorOf("a:b:c");
  EXPECT_NE(message.find("more than one ':'"), std::string::npos) << message;
}

TEST(TargetSpec, BadModuleNames) {
  for (const char* bad : {":f", "1mod:f", "pkg..mod:f", ".mod:f", "mod.:f", "my-mod:f", " json:dumps"}) {
    const std::string message = usageErrorOf(bad);
    EXPECT_NE(message.find("bad module name"), std::string::npos) << "'" << bad << "': " << message;
  }
}

TEST(TargetSpec, BadAttributeNames) {
  for (const char* bad : {"json:", "a:b..c", "a:.b", "a:b.", "a:1f", "a:f()", "json:dumps "}) {
    const std::string message = usageErrorOf(bad);
    EXPECT_NE(message.find("bad attribute name"), std::string::npos) << "'" << bad << "': " << message;
  }
}

TEST(KeywordArgument, NameAndExpression) {
  EXPECT_EQ(parseKeywordArgument("level=9"), (std::pair<std::string, std::string>{"level", "9"}));
  EXPECT_EQ(parseKeywordArgument("_x1=a == b"),
            (std::pair<std::string, std::string>{"_x1", "a == b"}));
  EXPECT_EQ(parseKeywordArgument("data=b'='"),
            (std::pair<std::string, std::string>{"data", "b'='"}));
}

TEST(KeywordArgument, NameMustBeAnIdentifier) {
  for (const char* bad : {"level", "=9", "9x=1", "a-b=1", "a.b=1", " a=1"}) {
    EXPECT_THROW(parseKeywordArgument(bad), UsageError) << bad;
  }
}

}  // namespace
}  // namespace psleak
