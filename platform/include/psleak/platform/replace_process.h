#pragma once
// Handing the process over to another program: how the psleak command runs the runtime
// of another Python with the same command line.

#include <string>
#include <vector>

namespace psleak::platform {

// The running executable's own path (not argv[0], which may be a bare name or a link).
// Empty when the system cannot tell.
std::string ownExecutablePath();

// Replaces this process with `program` run with `argv` (argv[0] included) and the
// current environment, without a shell. Returns only on failure, with the reason
// ("No such file or directory").
std::string replaceProcess(const std::string& program, const std::vector<std::string>& argv);

}  // namespace psleak::platform
