#pragma once
// --junit FILE: JUnit XML as the test reporters of GitLab, Jenkins and GitHub read it.
//
//   <testsuites name="psleak" tests= failures= errors= skipped= time=>
//     <testsuite name="psleak scan" ...>
//       <properties> psleak version, command, modules, platform, Python, settings </properties>
//       <testcase classname="psleak.MODULE" name="MODULE:FUNC" time=>   one per target:
//         nothing inside when clean;
//         <failure message=VERDICT type=KIND> the run table and findings (a leak);
//         <error message=VERDICT type=KIND> the message, traceback and runs so far
//           (usage, target, internal, crash, timeout, interrupted);
//       <testcase ...><skipped message=REASON/></testcase>   a callable a scan skipped,
//         only with options.listSkipped (--junit-skipped); the property
//         psleak.skipped_callables counts them either way
//
// Pure: returns the document; the caller writes it.

#include <string>

#include "report/format.h"
#include "report/report.h"
#include "report/scan_report.h"

namespace psleak {

std::string toJUnitXml(const ScanReport& scan, const TextOptions& options = {});

// One `psleak run`: a scan of one target.
std::string toJUnitXml(const Report& report, const TextOptions& options = {});

}  // namespace psleak
