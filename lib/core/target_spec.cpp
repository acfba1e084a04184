#include "core/target_spec.h"

#include <cctype>

#include "core/errors.h"

namespace psleak {
namespace {

bool isIdentifier(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '_' || u >= 0x80)) return false;
  }
  return true;
}

std::vector<std::string> splitDotted(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = text.find('.', start);
    parts.push_back(text.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

}  // namespace

TargetSpec TargetSpec::parse(const std::string& text) {
  const std::string example = " (expected MODULE:ATTR, e.g. json:dumps or pkg.mod:Class.method)";
  const std::size_t colon = text.find(':');
  if (colon == std::string::npos) {
    throw UsageError("target '" + text + "' has no ':'" + example);
  }
  if (text.find(':', colon + 1) != std::string::npos) {
    throw UsageError("target '" + text + "' has more than one ':'" + example);
  }
  TargetSpec spec;
  spec.text = text;
  spec.module = text.substr(0, colon);
  spec.attrPath = splitDotted(text.substr(colon + 1));
  for (const std::string& part : splitDotted(spec.module)) {
    if (!isIdentifier(part)) throw UsageError("target '" + text + "': bad module name '" + spec.module + "'" + example);
  }
  for (const std::string& part : spec.attrPath) {
    if (!isIdentifier(part)) {
      throw UsageError("target '" + text + "': bad attribute name '" + text.substr(colon + 1) + "'" + example);
    }
  }
  return spec;
}

std::pair<std::string, std::string> parseKeywordArgument(const std::string& text) {
  const std::size_t equals = text.find('=');
  if (equals == std::string::npos || !isIdentifier(text.substr(0, equals))) {
    throw UsageError("--kwarg '" + text + "': expected NAME=EXPR, e.g. --kwarg level=9");
  }
  return {text.substr(0, equals), text.substr(equals + 1)};
}

}  // namespace psleak
