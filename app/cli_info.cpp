// `psleak info`: allocator statistics, allocator hooks, interpreter, platform.

#include <cstdio>

#include "cli_commands.h"
#include "commands/info_command.h"
#include "core/errors.h"
#include "psleak/platform/allocation_counters.h"
#include "runtime_dispatch.h"

namespace psleak::cli {
namespace {

// Every Python this psleak serves: the one it embeds and its runtimes. `allocator` is
// what a check in each would use (the same options apply to all).
nlohmann::ordered_json describeRuntimes(const std::string& allocator) {
  nlohmann::ordered_json runtimes = nlohmann::ordered_json::array();
  for (const RuntimeEntry& runtime : listRuntimes()) {
    runtimes.push_back({{"version", runtime.version},
                        {"python", runtime.python},
                        {"program", runtime.program},
                        {"present", runtime.present},
                        {"allocator", allocator}});
  }
  return runtimes;
}

std::string formatRuntimes(const nlohmann::ordered_json& runtimes) {
  std::string text = "runtimes:\n";
  for (const auto& runtime : runtimes) {
    text += "  " + runtime["version"].get<std::string>() + "  " + runtime["python"].get<std::string>() +
            "  (" + runtime["allocator"].get<std::string>() + ")" +
            (runtime["present"].get<bool>() ? "" : "  (not built: " + runtime["program"].get<std::string>() + ")") +
            "\n";
  }
  return text;
}

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
      nlohmann::ordered_json info = collectInfo(interpreter_);
      info["runtimes"] = describeRuntimes(interpreter_.pymalloc ? "pymalloc" : "malloc");
      if (global.output.json) {
        printJson(info);
      } else {
        writeStdout(formatInfo(info, global.output.rawBytes) + formatRuntimes(info["runtimes"]));
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
