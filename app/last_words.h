#pragma once
// `psleak run` without --isolate: the target runs in psleak's own process and may end it
// (a crash, exit, os._exit). What psleak then says, kept up to date as the check goes
// on: one line on stderr, or with --json one document on stdout with the runs so far,
// both naming where the check was; the exit code is 5. See platform/last_words.h for
// how the way out is caught, and what cannot be.

#include <string>

#include "commands/run_command.h"
#include "terminal_output.h"

namespace psleak::cli {

class LastWords {
 public:
  // Arms the last words for the import of the target.
  LastWords(const RunOptions& options, const OutputOptions& output);

  // As each run ends / each step starts: the text now names it.
  void onRun(const RunDelta& run);
  void onPhase(const std::string& where);

 private:
  void arm();

  Report partial_;
  std::string where_;
  std::string targetText_;
  bool json_;
};

}  // namespace psleak::cli
