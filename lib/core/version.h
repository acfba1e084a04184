#pragma once

namespace psleak {

#ifndef PSLEAK_VERSION
#error "PSLEAK_VERSION is set by CMake from the project version"
#endif
inline constexpr const char* kPsleakVersion = PSLEAK_VERSION;

}  // namespace psleak
