#pragma once
// One psleak for every Python: the psleak command embeds one Python; each further
// version has a runtime of its own (the whole psleak built against that Python, in
// <bindir>/../libexec/psleak/psleak-X.Y). Before parsing anything, the command works out
// which Python the check is for and, when that is not its own, hands the process over
// to the runtime that embeds it, with the same command line.

#include <string>
#include <vector>

namespace psleak::cli {

// --python's value when it comes before the command's own arguments end (`psleak
// --python P python ...`, `psleak run --python P ...`); empty when absent.
std::string pythonOnCommandLine(int argc, char** argv);

// Returns when this process serves the chosen Python (or the choice is bad: the command
// reports that as usual); otherwise replaces the process with the runtime of that version.
// Throws UsageError when no runtime of that version was built.
void runInChosenRuntime(int argc, char** argv);

struct RuntimeEntry {
  std::string version;  // "3.12"
  std::string python;   // the interpreter it was built against
  std::string program;  // the runtime executable; "psleak" for the command's own Python
  bool present = false; // the runtime executable is there
};

// This psleak's runtimes: its own Python first, then each runtime it was built with.
std::vector<RuntimeEntry> listRuntimes();

}  // namespace psleak::cli
