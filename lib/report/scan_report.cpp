#include "report/scan_report.h"

namespace psleak {

int ScanReport::count(VerdictStatus status) const {
  int n = 0;
  for (const Report& r : results) n += r.verdict.status == status ? 1 : 0;
  return n;
}

int ScanReport::exitCode() const {
  if (!outputError.empty()) return static_cast<int>(ExitCode::Internal);
  if (interrupted) return static_cast<int>(terminated ? ExitCode::Terminated : ExitCode::Interrupted);
  // Nothing checked (a typo in --include?): that must not pass CI.
  if (results.empty()) return static_cast<int>(ExitCode::Usage);
  for (const Report& r : results) {
    if (r.verdict.status == VerdictStatus::Leak) return static_cast<int>(ExitCode::Leak);
  }
  for (const Report& r : results) {
    if (r.verdict.exitCode() == ExitCode::Crashed) return static_cast<int>(ExitCode::Crashed);
  }
  for (const Report& r : results) {
    if (r.verdict.status == VerdictStatus::Error) return static_cast<int>(r.verdict.exitCode());
  }
  return static_cast<int>(ExitCode::Clean);
}

int ScanListing::exitCode() const {
  if (interrupted) return static_cast<int>(ExitCode::Interrupted);
  if (!moduleErrors.empty()) return static_cast<int>(moduleErrors.front().verdict.exitCode());
  if (targets.empty()) return static_cast<int>(ExitCode::Usage);
  return static_cast<int>(ExitCode::Clean);
}

}  // namespace psleak
