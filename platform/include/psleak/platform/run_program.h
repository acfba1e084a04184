#pragma once
// Running a helper program (a Python interpreter asked its version, addr2line) without a
// shell: the arguments go to the program as they are, so no path, quote or space in them
// can ever be read as a command.

#include <string>
#include <vector>

#include "psleak/platform/child_process.h"

namespace psleak::platform {

struct ProgramOutput {
  bool started = false;   // false: it could not be run at all (see `failure`)
  bool timedOut = false;  // killed (with its process group) after the timeout
  ExitStatus status;      // how it ended, when started and not timed out
  std::string output;     // what it wrote to stdout (stderr is discarded)
  std::string failure;    // why it could not be run, or how it failed, for messages

  // Started, ended by itself with exit code 0.
  bool succeeded() const { return started && !timedOut && status.exited && status.code == 0; }
};

// Runs argv[0] (searched on PATH when it has no '/') with `argv`, stdin from /dev/null,
// in a process group of its own, and collects its stdout. After `timeoutMs` the whole
// group is killed, so a program that never ends (or leaves a child holding the pipe)
// cannot hang psleak. Never throws for the program's faults; `failure` says what went
// wrong in words fit for a one-line error ("timed out after 10 s", "exited with 1").
ProgramOutput runProgram(const std::vector<std::string>& argv, int timeoutMs);

}  // namespace psleak::platform
