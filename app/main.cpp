// psleak: find native memory and resource leaks in Python callables.
// main parses the command line, runs one subcommand and maps the outcome to the exit code.

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <vector>

#include "cli_commands.h"
#include "pymodule/psleak_module.h"
#include "python/interpreter.h"
#include "runtime_dispatch.h"
#include "core/errors.h"
#include "core/version.h"

namespace psleak::cli {

void addOutputOptions(CLI::App& app, OutputOptions& output) {
  app.add_flag("--json", output.json, "Print one JSON document on stdout (also on errors)");
  app.add_flag("--bytes", output.rawBytes, "Print sizes as raw byte counts");
  app.add_flag("-v,--verbose", output.verbosity, "Log progress to stderr (-vv: debug)");
  app.add_option("--color", output.color,
                 "Colour verdicts: auto (on a terminal, unless NO_COLOR or CI is set), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
}

void addInterpreterOptions(CLI::App& app, py::InterpreterOptions& interpreter) {
  app.add_option("--python", interpreter.pythonExecutable,
                 "Adopt this python's sys.path (e.g. a venv's bin/python; same version)");
  app.add_flag("--pymalloc", interpreter.pymalloc,
               "Keep pymalloc instead of forcing malloc (small leaks may hide)");
}

namespace {

bool wantsJson(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) return true;
  }
  return false;
}

// The subcommand named on the command line, for error documents.
std::string commandName(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    for (const char* name : {"run", "scan", "info", "test"}) {
      if (std::strcmp(argv[i], name) == 0) return name;
    }
  }
  return "psleak";
}

// `psleak --python P COMMAND ...`: the option moved after the command, where every
// command that starts Python takes it (`python` gets it separately: its arguments are
// Python's).
struct CommandLine {
  std::vector<std::string> args;
  std::string leadingPython;
};

CommandLine moveLeadingPython(int argc, char** argv) {
  CommandLine line;
  line.args.assign(argv, argv + argc);
  std::size_t i = 1;
  while (i < line.args.size()) {
    const std::string& arg = line.args[i];
    if (arg == "--python" && i + 1 < line.args.size()) {
      line.leadingPython = line.args[i + 1];
      line.args.erase(line.args.begin() + i, line.args.begin() + i + 2);
    } else if (arg.rfind("--python=", 0) == 0) {
      line.leadingPython = arg.substr(9);
      line.args.erase(line.args.begin() + i);
    } else {
      break;
    }
  }
  if (!line.leadingPython.empty() && i < line.args.size() && line.args[i] != "python") {
    line.args.insert(line.args.begin() + i + 1, {"--python", line.leadingPython});
  }
  return line;
}

// `psleak --json run ...`: whether argv[1] is an option that belongs after `command`
// (CLI11 would only say it was not expected).
bool optionBeforeCommand(int argc, char** argv, const std::string& command) {
  if (argc < 3 || argv[1][0] != '-' || command == "psleak") return false;
  for (const char* early : {"--help", "-h", "--version"}) {
    if (std::strcmp(argv[1], early) == 0) return false;
  }
  return true;
}

int runMain(int argc, char** argv) {
  try {
    runInChosenRuntime(argc, argv);
  } catch (const UsageError& e) {
    printUsageError(commandName(argc, argv), e.what(), wantsJson(argc, argv));
    return static_cast<int>(ExitCode::Usage);
  }
  CommandLine line = moveLeadingPython(argc, argv);
  std::vector<char*> pointers;
  for (std::string& arg : line.args) pointers.push_back(arg.data());
  argc = static_cast<int>(pointers.size());
  argv = pointers.data();

  CLI::App app("psleak: find native memory and resource leaks in Python callables", "psleak");
  app.set_version_flag("--version", kPsleakVersion);
  app.require_subcommand(1);
  app.fallthrough(false);

  GlobalOptions global;
  std::vector<std::unique_ptr<Command>> commands;
  commands.push_back(addRunCommand(app, global));
  commands.push_back(addInfoCommand(app, global));
  commands.push_back(addScanCommand(app, global));
  commands.push_back(addTestCommand(app, global));
  describePythonCommand(app);

  if (argc >= 2 && std::strcmp(argv[1], "python") == 0) {
    setUpLogging(0);  // MemoryLeakTestCase logs through spdlog: to stderr, warnings only
    checkAllocationHooks();
    return runPythonCommand(std::vector<std::string>(argv + 2, argv + argc), line.leadingPython);
  }

  if (const std::string command = commandName(argc, argv); optionBeforeCommand(argc, argv, command)) {
    const std::string option = argv[1];
    printUsageError(command, "'" + option + "' goes after the command: psleak " + command + " " +
                                 option + " ... (only --help, --version and --python go before it)",
                    wantsJson(argc, argv));
    return static_cast<int>(ExitCode::Usage);
  }
  // CLI11 would only say that a subcommand is required.
  if (argc >= 2 && argv[1][0] != '-') {
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands({})) known = known || sub->get_name() == argv[1];
    if (!known) {
      printUsageError("psleak", std::string("unknown command '") + argv[1] +
                                    "' (commands: run, scan, info, test, python; see psleak --help)",
                      wantsJson(argc, argv));
      return static_cast<int>(ExitCode::Usage);
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help, --version
      const int code = app.exit(e);
      std::cout.flush();
      if (!std::cout) {
        std::fprintf(stderr, "psleak: error: cannot write to stdout: %s\n", std::strerror(errno));
        return static_cast<int>(ExitCode::Internal);
      }
      return code;
    }
    printUsageError(commandName(argc, argv), e.what(), wantsJson(argc, argv));
    return static_cast<int>(ExitCode::Usage);
  }

  setUpLogging(global.output.verbosity);
  checkAllocationHooks();
  for (const auto& command : commands) {
    if (command->app()->parsed()) return command->execute(global);
  }
  return static_cast<int>(ExitCode::Usage);
}

}  // namespace
}  // namespace psleak::cli

int main(int argc, char** argv) {
  int code = static_cast<int>(psleak::ExitCode::Internal);
  try {
    // The psleak Python module, built into this executable: `import psleak` in every
    // interpreter psleak starts (psleak test, psleak python, scan's listing).
    psleak::py::registerBuiltinModule({"psleak", PyInit_psleak, psleak::pymodule::setEmbeddedAllocator});
    code = psleak::cli::runMain(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "psleak: internal error: %s\n", e.what());
  }
  psleak::cli::exitNow(code);
}
