#pragma once
// Each subcommand registers its options on the CLI11 app and, once parsed, runs.

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "python/interpreter.h"
#include "terminal_output.h"

namespace psleak::cli {

struct GlobalOptions {
  OutputOptions output;
};

class Command {
 public:
  virtual ~Command() = default;
  virtual CLI::App* app() const = 0;
  // Runs the parsed command; returns the exit code.
  virtual int execute(const GlobalOptions& global) = 0;
};

std::unique_ptr<Command> addRunCommand(CLI::App& parent, GlobalOptions& global);
std::unique_ptr<Command> addInfoCommand(CLI::App& parent, GlobalOptions& global);
std::unique_ptr<Command> addTestCommand(CLI::App& parent, GlobalOptions& global);
std::unique_ptr<Command> addScanCommand(CLI::App& parent, GlobalOptions& global);

// `psleak python` passes everything after it to Python untouched, so it is dispatched
// before CLI11 parses; it is described to CLI11 only for --help.
void describePythonCommand(CLI::App& parent);
// `python`: --python given before it (`psleak --python P python -m pytest`).
int runPythonCommand(const std::vector<std::string>& args, const std::string& python);

// The options every subcommand shares: --json, --bytes, -v.
void addOutputOptions(CLI::App& app, OutputOptions& output);
// The interpreter options: --python, --pymalloc.
void addInterpreterOptions(CLI::App& app, py::InterpreterOptions& interpreter);

}  // namespace psleak::cli
