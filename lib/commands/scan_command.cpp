#include "commands/scan_command.h"

#include <fnmatch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "commands/isolated_run.h"
#include "core/errors.h"
#include "core/utf8_text.h"
#include "psleak/platform/child_process.h"
#include "psleak/platform/interrupt.h"
#include "python/python_error.h"
#include "report/json_report.h"

namespace psleak {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::ordered_json;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---------------------------------------------------------------------------------
// Listing a module's callables, in a child process.

struct ModuleListing {
  std::vector<std::string> targets;
  std::vector<SkippedCallable> skipped;
  std::string error;    // the module could not be imported or listed
  std::string details;  // its traceback
};

// The texts of a Python list or tuple of str (each made valid UTF-8 by toString).
std::vector<std::string> textsOf(PyObject* sequence) {
  py::PyRef items = py::PyRef::steal(PySequence_Fast(sequence, "the listing holds a non-list"));
  if (!items) py::throwInternalError("reading the listing");
  std::vector<std::string> texts;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(items.get()); ++i) {
    texts.push_back(py::toString(PySequence_Fast_GET_ITEM(items.get(), i)));
  }
  return texts;
}

PyObject* listingPart(PyObject* listing, const char* key) {
  PyObject* part =
      PyDict_Check(listing) ? PyDict_GetItemString(listing, key) : nullptr;  // borrowed
  if (!part) throw InternalError(std::string("the listing has no '") + key + "'");
  return part;
}

// _scan_candidates' {"targets": [spec], "skipped": [[spec, why]]}, read in C++ rather
// than through Python's json module, which the scanned module may have replaced.
json listingToJson(PyObject* listing) {
  json skipped = json::array();
  py::PyRef entries =
      py::PyRef::steal(PySequence_Fast(listingPart(listing, "skipped"), "skipped is not a list"));
  if (!entries) py::throwInternalError("reading the listing");
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(entries.get()); ++i) {
    skipped.push_back(textsOf(PySequence_Fast_GET_ITEM(entries.get(), i)));
  }
  return {{"targets", textsOf(listingPart(listing, "targets"))}, {"skipped", skipped}};
}

int listInChild(const std::string& module, const py::InterpreterOptions& interpreterOptions,
                int writeFd) {
  json out;
  try {
    py::Interpreter interpreter(interpreterOptions);
    interpreter.abandon();
    py::PyRef psleak = py::PyRef::steal(PyImport_ImportModule("psleak"));
    py::PyRef listing = psleak ? py::PyRef::steal(PyObject_CallMethod(
                                     psleak.get(), "_scan_candidates", "s", module.c_str()))
                               : py::PyRef();
    if (!listing) {
      const py::PythonException error = py::fetchException();
      out = {{"error", "cannot import module '" + module + "': " + error.summary()},
             {"details", error.traceback}};
    } else {
      out = listingToJson(listing.get());
    }
  } catch (const std::exception& e) {
    out = {{"error", std::string("cannot list module '") + module + "': " + e.what()}};
  }
  platform::writeAll(writeFd, jsonText(out) + "\n");
  return 0;
}

ModuleListing listModule(const std::string& module, const py::InterpreterOptions& interpreter,
                         double timeoutSeconds) {
  ModuleListing listing;
  platform::ChildProcess child = platform::ChildProcess::start(
      [&](int writeFd) { return listInChild(module, interpreter, writeFd); },
      /*stdoutToStderr=*/true);
  std::string buffer;
  const auto start = Clock::now();
  // The listing is one line; a helper process the import started may keep the pipe
  // open after the child ended, so stop at the line or at the child's end.
  while (buffer.find('\n') == std::string::npos) {
    int waitMs = child.exitFd() >= 0 ? -1 : 200;
    if (timeoutSeconds > 0) {
      const double left = timeoutSeconds - secondsSince(start);
      if (left <= 0) break;
      const int leftMs = static_cast<int>(left * 1000) + 1;
      waitMs = waitMs < 0 ? leftMs : std::min(waitMs, leftMs);
    }
    std::vector<int> fds = {child.readFd()};
    if (child.exitFd() >= 0) fds.push_back(child.exitFd());
    platform::waitReadable(fds, waitMs);
    if (!child.readAvailable(buffer) || platform::interruptRequested()) break;
    if (child.hasExited()) {
      child.readAvailable(buffer);
      break;
    }
  }
  // The child ends once it has written its line; what is left of its group is the import's.
  child.waitForExit(2000);
  child.killProcessGroup();
  const platform::ExitStatus status = child.wait();
  const json out = json::parse(buffer, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded() || !out.is_object()) {
    listing.error = !status.exited
                        ? "importing module '" + module + "' crashed the process: " +
                              platform::signalName(status.signal)
                        : "importing module '" + module + "' gave no listing (hung or exited)";
    return listing;
  }
  if (out.contains("error")) {
    listing.error = out["error"].get<std::string>();
    listing.details = out.value("details", std::string());
    return listing;
  }
  listing.targets = out["targets"].get<std::vector<std::string>>();
  for (const json& entry : out["skipped"]) {
    listing.skipped.push_back({entry[0].get<std::string>(), entry[1].get<std::string>(),
                               entry.size() > 2 ? entry[2].get<std::string>() : std::string()});
  }
  return listing;
}

bool matchesAny(const std::vector<std::string>& globs, const std::string& spec) {
  const std::string name = spec.substr(spec.find(':') + 1);
  for (const std::string& glob : globs) {
    if (::fnmatch(glob.c_str(), spec.c_str(), 0) == 0 || ::fnmatch(glob.c_str(), name.c_str(), 0) == 0) {
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------
// --targets FILE

// The per-target options of `psleak run`, from the words of one line.
RunOptions targetFromWords(const std::vector<std::string>& words, const RunOptions& base,
                           const std::string& where) {
  RunOptions options = base;
  options.targetText.clear();
  options.target = {};
  options.kwargTexts.clear();
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::string word = words[i];
    std::string value;
    bool hasValue = false;
    if (word.rfind("--", 0) == 0 && word.find('=') != std::string::npos) {
      value = word.substr(word.find('=') + 1);
      word = word.substr(0, word.find('='));
      hasValue = true;
    }
    auto next = [&]() -> std::string {
      if (hasValue) return value;
      if (i + 1 >= words.size()) throw UsageError(where + ": " + word + " needs a value");
      return words[++i];
    };
    if (word == "--args") {
      options.target.args.push_back(next());
    } else if (word == "--kwarg") {
      options.kwargTexts.push_back(next());
    } else if (word == "-s" || word == "--setup") {
      options.target.setup.push_back(next());
    } else if (word == "-e" || word == "--expr") {
      options.target.expression = next();
    } else if (word == "--expect-exception") {
      options.target.expectException = next();
    } else if (!word.empty() && word[0] == '-') {
      throw UsageError(where + ": unknown option " + word +
                       " (a line takes MODULE:ATTR and --args, --kwarg, -s, -e, --expect-exception)");
    } else if (options.targetText.empty()) {
      options.targetText = word;
    } else {
      throw UsageError(where + ": a second target '" + word + "' (one target per line)");
    }
  }
  return options;
}

RunOptions targetFromJsonChecked(const json& entry, const RunOptions& base);

RunOptions targetFromJson(const json& entry, const RunOptions& base, const std::string& where) {
  if (!entry.is_object()) throw UsageError(where + ": each entry must be an object");
  static const char* const kKeys[] = {"target", "expr", "setup", "args", "kwargs", "expect_exception"};
  for (const auto& [key, value] : entry.items()) {
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
      throw UsageError(where + ": unknown key '" + key +
                       "' (known: target, expr, setup, args, kwargs, expect_exception)");
    }
  }
  try {
    return targetFromJsonChecked(entry, base);
  } catch (const json::exception& e) {
    throw UsageError(where + ": " + e.what() +
                     " (target/expr/expect_exception are strings, setup/args arrays of strings, "
                     "kwargs an object of strings)");
  }
}

RunOptions targetFromJsonChecked(const json& entry, const RunOptions& base) {
  RunOptions options = base;
  options.targetText = entry.value("target", std::string());
  options.target = {};
  options.kwargTexts.clear();
  options.target.expression = entry.value("expr", std::string());
  options.target.setup = entry.value("setup", std::vector<std::string>{});
  options.target.args = entry.value("args", std::vector<std::string>{});
  options.target.expectException = entry.value("expect_exception", std::string());
  if (entry.contains("kwargs")) {
    for (const auto& [name, expression] : entry["kwargs"].items()) {
      options.kwargTexts.push_back(name + "=" + expression.get<std::string>());
    }
  }
  return options;
}

// The file's text without a UTF-8 byte-order mark (editors on Windows write one).
// Throws UsageError when it is not UTF-8 text: a binary file, or another encoding.
std::string targetsFileText(std::string content, const std::string& path) {
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  if (std::string_view(content).substr(0, kByteOrderMark.size()) == kByteOrderMark) {
    content.erase(0, kByteOrderMark.size());
  }
  std::size_t bad = content.find('\0');
  bad = std::min(bad, firstInvalidUtf8(content));
  if (bad != std::string::npos) {
    const auto line =
        1 + std::count(content.begin(), content.begin() + static_cast<std::ptrdiff_t>(bad), '\n');
    throw UsageError("--targets " + path + ":" + std::to_string(line) +
                     ": not UTF-8 text (a binary file, or another encoding?)");
  }
  return content;
}

}  // namespace

// ---------------------------------------------------------------------------------

std::vector<std::string> splitShellWords(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool inWord = false;
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote == '\'') {
      if (c == '\'') quote = 0; else word += c;
    } else if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else if (c == '\\' && i + 1 < line.size() && std::string("\"\\$`").find(line[i + 1]) != std::string::npos) {
        word += line[++i];
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      inWord = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      inWord = true;
    } else if (c == '#' && !inWord) {
      break;  // a word that starts with '#' starts a comment, as in a shell
    } else if (c == ' ' || c == '\t') {
      if (inWord) words.push_back(word);
      word.clear();
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw UsageError(std::string("unterminated ") + quote + " quote");
  if (inWord) words.push_back(word);
  return words;
}

std::vector<RunOptions> readTargetsFile(const std::string& path, const RunOptions& base) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw UsageError("--targets " + path + ": is a directory, not a file of targets");
  }
  std::ifstream file(path);
  if (!file) throw UsageError("--targets " + path + ": cannot read the file");
  std::stringstream content;
  content << file.rdbuf();
  const std::string text = targetsFileText(content.str(), path);
  std::vector<RunOptions> targets;

  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {
    const json entries = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (entries.is_discarded() || !entries.is_array()) {
      throw UsageError("--targets " + path + ": not valid JSON (expected an array of targets)");
    }
    for (std::size_t i = 0; i < entries.size(); ++i) {
      targets.push_back(targetFromJson(entries[i], base, path + " entry " + std::to_string(i + 1)));
    }
  } else {
    std::istringstream lines(text);
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
      if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF line endings
      const std::string where = path + ":" + std::to_string(number);
      std::vector<std::string> words;
      try {
        words = splitShellWords(line);
      } catch (const UsageError& e) {
        throw UsageError(where + ": " + e.what());
      }
      if (words.empty()) continue;
      targets.push_back(targetFromWords(words, base, where));
    }
  }
  if (targets.empty()) throw UsageError("--targets " + path + ": no targets in the file");
  return targets;
}

ScanReport runBatch(const std::vector<RunOptions>& targets, const BatchOptions& batch,
                    const ResultCallback& onResult) {
  const auto start = Clock::now();
  ScanReport report;
  report.results.resize(targets.size());
  std::vector<bool> done(targets.size(), false);

  struct Running {
    std::size_t index;
    std::unique_ptr<IsolatedCheck> check;
  };
  std::vector<Running> running;
  std::size_t next = 0;
  const std::size_t jobs = static_cast<std::size_t>(std::max(1, batch.jobs));

  while (next < targets.size() || !running.empty()) {
    const bool interrupted = platform::interruptRequested();
    while (!interrupted && next < targets.size() && running.size() < jobs) {
      running.push_back({next, std::make_unique<IsolatedCheck>(targets[next], batch.timeoutSeconds)});
      ++next;
    }
    if (running.empty()) break;  // interrupted before the rest started
    std::vector<int> fds;
    int waitMs = -1;
    for (const Running& r : running) {
      if (interrupted) r.check->interrupt();
      for (int fd : r.check->fds()) fds.push_back(fd);
      const int left = r.check->pollMilliseconds();
      if (left >= 0 && (waitMs < 0 || left < waitMs)) waitMs = left;
    }
    platform::waitReadable(fds, waitMs);
    for (std::size_t i = 0; i < running.size();) {
      if (running[i].check->pump({})) {
        ++i;
        continue;
      }
      const std::size_t index = running[i].index;
      report.results[index] = running[i].check->finish();
      done[index] = true;
      if (onResult) onResult(report.results[index]);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  // Keep what ended, in the order given; targets never started are left out.
  std::vector<Report> results;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (done[i]) results.push_back(std::move(report.results[i]));
  }
  report.results = std::move(results);
  report.interrupted = platform::interruptRequested();
  report.terminated = platform::terminationRequested();
  report.durationSeconds = secondsSince(start);
  return report;
}

ScanListing listScan(const ScanOptions& options, const ResultCallback& onModuleError) {
  ScanListing plan;
  plan.modules = options.modules;
  for (const std::string& module : options.modules) {
    if (platform::interruptRequested()) {
      plan.interrupted = true;
      break;
    }
    const ModuleListing listing =
        listModule(module, options.base.interpreter, options.batch.timeoutSeconds);
    if (!listing.error.empty()) {
      RunOptions failed = options.base;
      failed.targetText = module;
      Report report = describeRun(failed);
      report.verdict = errorVerdict("target", listing.error, listing.details);
      if (onModuleError) onModuleError(report);
      plan.moduleErrors.push_back(std::move(report));
      continue;
    }
    for (const std::string& spec : listing.targets) {
      if (!options.include.empty() && !matchesAny(options.include, spec)) continue;
      if (matchesAny(options.exclude, spec)) continue;
      plan.targets.push_back(spec);
    }
    for (const SkippedCallable& s : listing.skipped) {
      if (!options.include.empty() && !matchesAny(options.include, s.target)) continue;
      if (matchesAny(options.exclude, s.target)) continue;
      plan.skipped.push_back(s);
    }
  }
  plan.interrupted = plan.interrupted || platform::interruptRequested();
  return plan;
}

ScanReport runScan(const ScanOptions& options, const ResultCallback& onResult,
                   const std::function<void(std::size_t targets)>& onPlanned) {
  const auto start = Clock::now();
  ScanListing plan = listScan(options, onResult);
  std::vector<RunOptions> targets;
  for (const std::string& spec : plan.targets) {
    RunOptions target = options.base;
    target.targetText = spec;
    targets.push_back(std::move(target));
  }
  if (onPlanned) onPlanned(targets.size());
  ScanReport report = runBatch(targets, options.batch, onResult);
  report.command = "scan";
  report.modules = options.modules;
  report.results.insert(report.results.begin(), plan.moduleErrors.begin(), plan.moduleErrors.end());
  report.skipped = std::move(plan.skipped);
  report.durationSeconds = secondsSince(start);
  return report;
}

}  // namespace psleak
