#include "last_words.h"

#include "progress_line.h"

#include "psleak/platform/last_words.h"
#include "psleak/platform/report_output.h"
#include "report/json_report.h"

namespace psleak::cli {
namespace {

// Stands for the cause in the JSON document: the platform writes it in its place. Found
// with its key, which no escaped string in the document (the target's text) can imitate.
constexpr const char* kCause = "@@CAUSE@@";
constexpr const char* kCauseInDocument = "\"message\": \"@@CAUSE@@";
constexpr std::size_t kWhereCapacity = 128;

}  // namespace

LastWords::LastWords(const RunOptions& options, const OutputOptions& output)
    : partial_(describeRun(options)),
      where_(kImportPhase),
      targetText_(options.targetText.empty() ? "-e " + options.target.expression : options.targetText),
      json_(output.json) {
  // Kept between runs: room reserved now, so that they do not grow while memory is
  // measured.
  partial_.runs.reserve(static_cast<std::size_t>(options.check.detector.retries) + 1);
  where_.reserve(kWhereCapacity);
  arm();
}

void LastWords::onRun(const RunDelta& run) {
  partial_.runs.push_back(run);
  arm();
}

void LastWords::onPhase(const std::string& where) {
  where_ = where;
  arm();
}

void LastWords::arm() {
  const std::string rest =
      " while checking " + targetText_ + ", " + where_ + "; run with --isolate to keep the report";
  if (!json_) {
    // Over the progress line, if one may be on the screen.
    platform::setLastWords(2, progressLineActive() ? "\r\033[Kpsleak: error: " : "psleak: error: ",
                           rest + "\n");
    return;
  }
  Report report = partial_;
  for (int attempt = 0; attempt < 2; ++attempt) {
    report.verdict = errorVerdict("crash", kCause + rest);
    const std::string document = jsonText(toJson(report), 2) + "\n";
    const std::size_t key = document.find(kCauseInDocument);
    const std::size_t at = key + std::char_traits<char>::length(kCauseInDocument) -
                           std::char_traits<char>::length(kCause);
    if (key != std::string::npos &&
        platform::setLastWords(platform::reportFd(), document.substr(0, at),
                               document.substr(at + std::char_traits<char>::length(kCause)))) {
      return;
    }
    // Too long to keep (a huge --setup, many runs): the document without them.
    report.runs.clear();
    report.target.reset();
  }
}

}  // namespace psleak::cli
