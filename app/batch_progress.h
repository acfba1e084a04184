#pragma once
// What `scan` and `run --targets` show while their targets are checked. When the table
// will be on the same terminal, a progress line ("scan: 5/16 targets checked"), so each
// target appears once, in the table; when stdout goes elsewhere, each target's row on
// stderr as it ends (with --json, nothing).

#include <cstddef>
#include <memory>

#include "progress_line.h"
#include "report/report.h"
#include "terminal_output.h"

namespace psleak::cli {

class BatchProgress {
 public:
  // `what` names the step on the progress line ("scan", "run").
  BatchProgress(const OutputOptions& output, const char* what);
  // The targets that will be checked are known.
  void planned(std::size_t targets);
  // A target's check ended (or its module could not be listed).
  void finished(const Report& result);

 private:
  const OutputOptions& output_;
  const char* what_;
  bool rows_;  // each target's row on stderr as it ends
  std::unique_ptr<ProgressLine> line_;
  bool planned_ = false;
  std::size_t finished_ = 0;
};

}  // namespace psleak::cli
