#include "batch_progress.h"

#include <unistd.h>

#include <cstdio>

#include "psleak/platform/report_output.h"
#include "report/format.h"

namespace psleak::cli {

BatchProgress::BatchProgress(const OutputOptions& output, const char* what)
    : output_(output), what_(what) {
  const bool tableOnTerminal = ::isatty(platform::reportFd()) != 0;
  rows_ = !output.json && !tableOnTerminal;
  if (!output.json && tableOnTerminal) line_ = ProgressLine::create(output);
}

void BatchProgress::planned(std::size_t targets) {
  planned_ = true;
  if (line_) line_->step(what_, 0, static_cast<std::int64_t>(targets), "targets checked");
}

void BatchProgress::finished(const Report& result) {
  if (planned_) ++finished_;  // not the modules that could not be listed
  if (line_ && planned_) line_->advance(static_cast<std::int64_t>(finished_));
  if (rows_) std::fprintf(stderr, "%s\n", formatScanRow(result, output_.rawBytes).c_str());
}

}  // namespace psleak::cli
