#include "commands/info_command.h"

#include <fmt/format.h>

#include "core/version.h"
#include "psleak/platform/allocation_counters.h"
#include "psleak/platform/allocator_stats.h"
#include "psleak/platform/process_memory.h"
#include "psleak/platform/system_info.h"
#include "report/format.h"
#include "report/report.h"

namespace psleak {

nlohmann::ordered_json collectInfo(const py::InterpreterOptions& options) {
  py::Interpreter interpreter(options);
  const py::InterpreterInfo& python = interpreter.info();
  const platform::AllocatorStats stats = platform::readAllocatorStats();
  const platform::ProcessMemory memory = platform::readProcessMemory();
  const platform::SystemInfo system = platform::systemInfo();
  const std::optional<platform::AllocationCounters> counters = platform::readAllocationCounters();
  const std::string unwinder = platform::allocationTraceUnwinder();
  auto orNull = [&counters](std::int64_t platform::AllocationCounters::*field) {
    return counters ? nlohmann::ordered_json(*counters.*field) : nlohmann::ordered_json(nullptr);
  };
  return {
      {"schema_version", kJsonSchemaVersion},
      {"psleak_version", kPsleakVersion},
      {"command", "info"},
      {"allocator",
       {{"available", platform::allocatorStatsAvailable()},
        {"heap_used", stats.heapUsed},
        {"mmap_used", stats.mmapUsed},
        {"heap_total", stats.heapTotal}}},
      {"hooks",
       {{"counting", counters.has_value()},
        {"problem", platform::allocationCountingProblem().empty()
                        ? nlohmann::ordered_json(nullptr)
                        : nlohmann::ordered_json(platform::allocationCountingProblem())},
        {"live_blocks", orNull(&platform::AllocationCounters::liveBlocks)},
        {"live_bytes", orNull(&platform::AllocationCounters::liveBytes)},
        {"mapped_bytes", orNull(&platform::AllocationCounters::mappedBytes)},
        {"trace_unwinder",
         unwinder.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(unwinder)}}},
      {"process", {{"rss", memory.rss}, {"uss", memory.uss}, {"vms", memory.vms}}},
      {"interpreter",
       {{"version", python.version},
        {"executable", python.executable},
        {"prefix", python.prefix},
        {"allocator", python.allocator}}},
      {"platform",
       {{"system", system.system},
        {"release", system.release},
        {"machine", system.machine},
        {"libc", system.libc}}},
  };
}

std::string formatInfo(const nlohmann::ordered_json& info, bool rawBytes) {
  auto bytes = [&](const nlohmann::ordered_json& value) {
    return formatBytes(value.get<double>(), rawBytes, /*signed_=*/false);
  };
  const auto& allocator = info["allocator"];
  const auto& hooks = info["hooks"];
  const auto& process = info["process"];
  const auto& python = info["interpreter"];
  const auto& system = info["platform"];
  std::string text;
  text += fmt::format("psleak {}\n", info["psleak_version"].get<std::string>());
  text += "allocator:\n";
  if (allocator["available"].get<bool>()) {
    text += fmt::format("  heap_used:  {}\n", bytes(allocator["heap_used"]));
    text += fmt::format("  mmap_used:  {}\n", bytes(allocator["mmap_used"]));
    text += fmt::format("  heap_total: {}\n", bytes(allocator["heap_total"]));
  } else {
    text += "  (this C library has no statistics)\n";
  }
  text += "hooks:\n";
  if (hooks["counting"].get<bool>()) {
    text += fmt::format("  live_blocks:  {}\n  live_bytes:   {}\n  mapped_bytes: {}\n",
                        hooks["live_blocks"].get<std::int64_t>(), bytes(hooks["live_bytes"]),
                        bytes(hooks["mapped_bytes"]));
  } else if (!hooks["problem"].is_null()) {
    text += fmt::format("  (not counting: {}; measuring as with --no-hooks)\n",
                        hooks["problem"].get<std::string>());
  } else {
    text += "  (not counting: --no-hooks or PSLEAK_NO_HOOKS)\n";
  }
  if (!hooks["trace_unwinder"].is_null()) {
    text += fmt::format("  trace unwinder: {}\n", hooks["trace_unwinder"].get<std::string>());
  }
  text += fmt::format("process:\n  rss: {}\n  uss: {}\n  vms: {}\n", bytes(process["rss"]),
                      bytes(process["uss"]), bytes(process["vms"]));
  text += fmt::format("interpreter:\n  version:    {}\n  executable: {}\n  prefix:     {}\n  allocator:  {}\n",
                      python["version"].get<std::string>(), python["executable"].get<std::string>(),
                      python["prefix"].get<std::string>(), python["allocator"].get<std::string>());
  text += fmt::format("platform:\n  {} {} {}, {}\n", system["system"].get<std::string>(),
                      system["release"].get<std::string>(), system["machine"].get<std::string>(),
                      system["libc"].get<std::string>());
  return text;
}

}  // namespace psleak
