#include "runtime_dispatch.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/errors.h"
#include "core/python_choice.h"
#include "psleak/platform/replace_process.h"
#include "python/interpreter.h"

#ifndef PSLEAK_RUNTIME_DIR_FROM_BIN
#define PSLEAK_RUNTIME_DIR_FROM_BIN "../libexec/psleak"
#endif

namespace psleak::cli {
namespace fs = std::filesystem;
namespace {

// Set by the command for the runtime it runs: a runtime never hands over again, so a
// runtime that turns out to embed another version says so instead of looping.
constexpr const char* kHandedOverVariable = "PSLEAK_RUNTIME_OF";

// runtimes.txt's first entry: the Python the psleak command embeds itself.
constexpr const char* kFromCommand = "psleak";

// Where the runtimes are: next to the psleak command's directory, or this runtime's own.
fs::path runtimeDirectory() {
  const std::string self = platform::ownExecutablePath();
  if (self.empty()) return {};
  const fs::path own(self);
  if (own.filename().string().rfind("psleak-", 0) == 0) return own.parent_path();
  return (own.parent_path() / PSLEAK_RUNTIME_DIR_FROM_BIN).lexically_normal();
}

fs::path runtimeProgram(const std::string& version) {
  const fs::path dir = runtimeDirectory();
  return dir.empty() ? fs::path() : dir / ("psleak-" + version);
}

}  // namespace

std::string pythonOnCommandLine(int argc, char** argv) {
  bool commandSeen = false;
  std::string python;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (std::strcmp(arg, "--") == 0) break;
    if (std::strcmp(arg, "--python") == 0 && i + 1 < argc) {
      python = argv[++i];
    } else if (std::strncmp(arg, "--python=", 9) == 0) {
      python = arg + 9;
    } else if (arg[0] != '-' && !commandSeen) {
      commandSeen = true;
      // What follows `psleak python` is Python's own command line.
      if (std::strcmp(arg, "python") == 0) break;
    }
  }
  return python;
}

void runInChosenRuntime(int argc, char** argv) {
  if (const char* handedOver = std::getenv(kHandedOverVariable)) {
    (void)handedOver;
    ::unsetenv(kHandedOverVariable);
    return;
  }
  PythonChoice choice;
  try {
    choice = choosePython(pythonOnCommandLine(argc, argv), py::defaultPythonExecutable());
  } catch (const UsageError&) {
    return;  // the command reports it, in the form (text or JSON) asked for
  }
  if (choice.isDefault() || choice.version == py::embeddedPythonVersion()) return;

  const fs::path program = runtimeProgram(choice.version);
  std::error_code ec;
  if (program.empty() || !fs::exists(program, ec)) {
    std::string served;
    for (const RuntimeEntry& runtime : listRuntimes()) {
      if (runtime.present) served += (served.empty() ? "" : ", ") + runtime.version;
    }
    throw UsageError(choice.origin + ": is Python " + choice.version +
                     ", which this psleak has no runtime for (it runs Python " + served +
                     "); build psleak with -DPSLEAK_PYTHONS=" + choice.executable +
                     " (3.9 or later)");
  }
  ::setenv(kHandedOverVariable, choice.version.c_str(), 1);
  const std::vector<std::string> args(argv, argv + argc);
  const std::string failure = platform::replaceProcess(program.string(), args);
  ::unsetenv(kHandedOverVariable);
  throw InternalError("cannot run the Python " + choice.version + " runtime " + program.string() +
                      ": " + failure);
}

std::vector<RuntimeEntry> listRuntimes() {
  std::vector<RuntimeEntry> entries;
  const fs::path dir = runtimeDirectory();
  std::ifstream list(dir / "runtimes.txt");
  std::string line;
  while (!dir.empty() && std::getline(list, line)) {
    const std::size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    RuntimeEntry entry{line.substr(0, tab), line.substr(tab + 1), "", false};
    if (entries.empty()) {
      // The first line is the psleak command's own Python.
      entry.program = kFromCommand;
      entry.present = true;
    } else {
      entry.program = runtimeProgram(entry.version).string();
      std::error_code ec;
      entry.present = fs::exists(entry.program, ec);
    }
    entries.push_back(entry);
  }
  // No list (a runtime or command moved away from its directory): this one alone.
  if (entries.empty()) {
    entries.push_back({py::embeddedPythonVersion(), py::defaultPythonExecutable(),
                       platform::ownExecutablePath(), true});
  }
  return entries;
}

}  // namespace psleak::cli
