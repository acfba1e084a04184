// `psleak test PATH...` and `psleak python ARGS...`: the user's Python run inside
// psleak's interpreter.

#include <cstdio>

#include "cli_commands.h"
#include "commands/python_commands.h"
#include "core/errors.h"
#include "core/option_parsing.h"

namespace psleak::cli {
namespace {

// Runs `body`, turning psleak's own errors into one line and the documented code.
template <typename Body>
int guarded(const char* command, Body body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "psleak: error: %s\n", e.what());
    return static_cast<int>(ExitCode::Usage);
  } catch (const TargetError& e) {
    std::fprintf(stderr, "psleak: error: %s\n%s", e.what(), e.details().c_str());
    return static_cast<int>(ExitCode::Target);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "psleak: error: %s: %s\n", command, e.what());
    return static_cast<int>(ExitCode::Internal);
  }
}

class TestCommand : public Command {
 public:
  TestCommand(CLI::App& parent, GlobalOptions&) {
    app_ = parent.add_subcommand(
        "test", "Run unittest discovery over files and folders, with `import psleak` available");
    app_->add_option("paths", paths_, "Test files or folders")->required();
    app_->add_flag("-v,--verbose", verbose_, "One line per test (unittest verbosity 2)");
    app_->add_flag("-q,--quiet", quiet_, "Only the summary (unittest verbosity 0)");
    CLI::Option* leaks = app_->add_flag(
        "--leaks", leaks_.enabled,
        "Run each test that passes again and again under psleak's checks; a test that "
        "leaks fails");
    app_->add_option("--leaks-json", leaks_.jsonPath, "With --leaks: write the results as JSON to FILE")
        ->type_name("FILE")
        ->needs(leaks);
    app_->add_option_function<std::string>(
            "--leaks-budget",
            [this](const std::string& text) {
              // parseSeconds' own message offers 0 as "no limit", which a budget is not.
              const std::string notABudget =
                  "--leaks-budget: " + text + " is not a number of seconds above 0";
              try {
                leaks_.budgetSeconds = parseSeconds(text, "--leaks-budget");
              } catch (const UsageError&) {
                throw CLI::ValidationError(notABudget);  // taken by main as a usage error
              }
              if (leaks_.budgetSeconds <= 0) {
                throw CLI::ValidationError(notABudget);
              }
            },
            "With --leaks: stop checking tests once the checks took this long")
        ->type_name("SECONDS")
        ->needs(leaks);
    addInterpreterOptions(*app_, interpreter_);
  }
  CLI::App* app() const override { return app_; }
  int execute(const GlobalOptions&) override {
    const int verbosity = quiet_ ? 0 : (verbose_ ? 2 : 1);
    return guarded("test", [&] { return runTestPaths(paths_, verbosity, interpreter_, leaks_); });
  }

 private:
  CLI::App* app_ = nullptr;
  std::vector<std::string> paths_;
  bool verbose_ = false;
  bool quiet_ = false;
  LeakRepeatOptions leaks_;
  py::InterpreterOptions interpreter_;
};

}  // namespace

std::unique_ptr<Command> addTestCommand(CLI::App& parent, GlobalOptions& global) {
  return std::make_unique<TestCommand>(parent, global);
}

void describePythonCommand(CLI::App& parent) {
  parent.add_subcommand("python",
                        "Run python with these arguments (script, -c, -m module) inside psleak")
      ->prefix_command()
      ->allow_extras();
}

int runPythonCommand(const std::vector<std::string>& args) {
  return guarded("python", [&] { return runPythonMain(args, py::InterpreterOptions{}); });
}

}  // namespace psleak::cli
