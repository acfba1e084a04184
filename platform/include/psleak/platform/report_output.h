#pragma once
// psleak's report (run lines, verdict, table, JSON document) goes to the stdout psleak
// was started with through a descriptor of its own, and the target's fd 1 goes to
// stderr: whatever target code prints, closes or redirects cannot mix into the report
// or swallow it.

#include <string>
#include <string_view>

namespace psleak::platform {

// Duplicates fd 1 to a close-on-exec descriptor of psleak's own (numbered high, out of
// the way of a target that reuses low numbers) and points fd 1 at stderr. Call before
// any target code runs. Throws PlatformError.
void separateReportFromTargetOutput();

// Where the report goes: psleak's own copy of stdout once separated, else fd 1.
int reportFd() noexcept;

// Writes all of `text` to reportFd(). On failure returns false and sets `error` to the
// reason ("No space left on device", or that the target closed psleak's descriptor).
bool writeReport(std::string_view text, std::string& error);

// In a child process psleak forks for itself: closes psleak's copy of stdout, so that
// the child (and any helper process its target starts) does not hold it open; the child
// reports through its pipe.
void dropReportFdInChild() noexcept;

}  // namespace psleak::platform
