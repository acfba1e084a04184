// `psleak info`: allocator statistics, allocator hooks, interpreter, platform.

#include <cstdio>

#include "cli_commands.h"
#include "commands/info_command.h"
#include "core/errors.h"
#include "psleak/platform/allocation_counters.h"

namespace psleak::cli {
namespace {

class InfoCommand : public Command {
 public:
  InfoCommand(CLI::App& parent, GlobalOptions& global) {
    app_ = parent.add_subcommand(
        "info",
        "Show the allocator's statistics now, psleak's allocator hooks, the embedded "
        "interpreter and the platform");
    addInterpreterOptions(*app_, interpreter_);
    app_->add_flag("--no-hooks", noHooks_, "Show psleak with its allocation counters off");
    addOutputOptions(*app_, global.output);
  }

  CLI::App* app() const override { return app_; }

  int execute(const GlobalOptions& global) override {
    try {
      if (noHooks_) platform::stopAllocationCounting();
      const nlohmann::ordered_json info = collectInfo(interpreter_);
      if (global.output.json) {
        printJson(info);
      } else {
        writeStdout(formatInfo(info, global.output.rawBytes));
      }
      return static_cast<int>(ExitCode::Clean);
    } catch (const UsageError& e) {
      printUsageError("info", e.what(), global.output.json);
      return static_cast<int>(ExitCode::Usage);
    } catch (const std::exception& e) {
      if (global.output.json) {
        Report report;
        report.command = "info";
        report.verdict = errorVerdict("internal", e.what());
        printReport(report, global.output);
      } else {
        std::fprintf(stderr, "psleak: error: %s\n", e.what());
      }
      return static_cast<int>(ExitCode::Internal);
    }
  }

 private:
  CLI::App* app_ = nullptr;
  py::InterpreterOptions interpreter_;
  bool noHooks_ = false;
};

}  // namespace

std::unique_ptr<Command> addInfoCommand(CLI::App& parent, GlobalOptions& global) {
  return std::make_unique<InfoCommand>(parent, global);
}

}  // namespace psleak::cli
