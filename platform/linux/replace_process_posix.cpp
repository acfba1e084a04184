// ownExecutablePath from /proc/self/exe; replaceProcess with execv.

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "psleak/platform/replace_process.h"

namespace psleak::platform {

std::string ownExecutablePath() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : self.string();
}

std::string replaceProcess(const std::string& program, const std::vector<std::string>& argv) {
  std::vector<char*> pointers;
  for (const std::string& arg : argv) pointers.push_back(const_cast<char*>(arg.c_str()));
  pointers.push_back(nullptr);
  ::execv(program.c_str(), pointers.data());
  return std::strerror(errno);
}

}  // namespace psleak::platform
