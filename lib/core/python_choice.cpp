#include "core/python_choice.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>

#include "core/errors.h"
#include "psleak/platform/run_program.h"

namespace psleak {
namespace fs = std::filesystem;
namespace {

// The major.minor of a virtual environment, from its pyvenv.cfg, if `executable` is in one.
std::optional<std::string> venvVersion(const fs::path& executable) {
  for (const fs::path& dir : {executable.parent_path(), executable.parent_path().parent_path()}) {
    std::ifstream cfg(dir / "pyvenv.cfg");
    if (!cfg) continue;
    static const std::regex versionLine(R"(^\s*version(_info)?\s*=\s*(\d+)\.(\d+))");
    std::string line;
    while (std::getline(cfg, line)) {
      std::smatch m;
      if (std::regex_search(line, m, versionLine)) return m[2].str() + "." + m[3].str();
    }
    return std::string();  // a venv whose version is not written down
  }
  return std::nullopt;
}

// Seconds a --python interpreter may take to say its version (a cold start on a busy
// machine takes well under one).
constexpr int kVersionQuestionTimeoutMs = 10000;

// The major.minor that `executable` reports when run, asked without a shell: the path
// is passed as it is, whatever quotes or spaces it holds. -I (isolated): the working
// directory is not on its sys.path, so a linecache.py there, which 3.13's
// start-up would import, cannot break the question. Throws UsageError (naming `origin`)
// when it cannot be run, fails, hangs or answers nonsense.
std::string askVersion(const fs::path& executable, const std::string& origin) {
  const platform::ProgramOutput answer = platform::runProgram(
      {executable.string(), "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"},
      kVersionQuestionTimeoutMs);
  if (!answer.succeeded()) {
    throw UsageError(origin + ": cannot tell which Python version this is (asked for it, it " +
                     answer.failure + ")");
  }
  static const std::regex versionText(R"(^(\d+\.\d+)\s*$)");
  std::smatch m;
  if (!std::regex_match(answer.output, m, versionText)) {
    throw UsageError(origin + ": cannot tell which Python version this is (it did not answer as Python does)");
  }
  return m[1].str();
}

}  // namespace

PythonChoice choosePython(const std::string& explicitPython, const std::string& defaultPython) {
  PythonChoice choice;
  if (!explicitPython.empty()) {
    choice.executable = explicitPython;
    choice.origin = "--python " + explicitPython;
  } else if (const char* venv = std::getenv("VIRTUAL_ENV"); venv && *venv) {
    choice.executable = (fs::path(venv) / "bin" / "python").string();
    choice.origin = std::string("VIRTUAL_ENV=") + venv;
  } else if (const char* python = std::getenv("PSLEAK_PYTHON"); python && *python) {
    choice.executable = python;
    choice.origin = std::string("PSLEAK_PYTHON=") + python;
  } else {
    choice.executable = defaultPython;
    return choice;
  }

  std::error_code ec;
  fs::path path = fs::absolute(choice.executable, ec);
  if (ec || !fs::exists(path, ec)) throw UsageError(choice.origin + ": no such python executable");
  if (::access(path.c_str(), X_OK) != 0) throw UsageError(choice.origin + ": not an executable file");

  std::optional<std::string> version = venvVersion(path);
  if (!version || version->empty()) version = askVersion(path, choice.origin);
  choice.version = *version;
  // Keep the venv's own path (not the symlink target): that is how Python finds pyvenv.cfg.
  choice.executable = path.lexically_normal().string();
  return choice;
}

}  // namespace psleak
