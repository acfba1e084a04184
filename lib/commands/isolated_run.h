#pragma once
// A check in a child process of its own (`psleak run --isolate`, and every target of a
// scan): a target that crashes or hangs ends its own process, and the parent still
// reports what was measured, the signal, and the run it happened in.

#include "commands/run_command.h"
#include "report/report.h"

namespace psleak {

// Runs runCommand(options) in a child process. Each run is passed to `onRun` as the child
// reports it. A child killed by a signal gives a "crash" verdict, one still running after
// `timeoutSeconds` (0: no limit) is killed and gives "timeout"; both keep the runs so far.
// Ctrl-C (after installInterruptHandler) is passed on to the child, whose report says
// "interrupted". Never throws for what the target does.
Report runIsolated(const RunOptions& options, const RunCallback& onRun, double timeoutSeconds);

}  // namespace psleak
