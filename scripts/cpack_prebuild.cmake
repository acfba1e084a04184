# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS, top-level CMakeLists.txt): runs after
# CPack has installed psleak into its staging directory, before the .deb is made.
#   - checks that the Python module is where Debian's python3 looks for it;
#   - gzips the man page (Debian policy 12.1), reproducibly (gzip -n: no name or time).
# The CPACK_* variables come from CPackConfig.cmake.

set(_root "${CPACK_TEMPORARY_DIRECTORY}${CPACK_PACKAGING_INSTALL_PREFIX}")

# Python module: only a build configured with -DCMAKE_INSTALL_PREFIX=/usr installs it to
# lib/python3/dist-packages (lib/CMakeLists.txt); otherwise python3 would not find it.
if(CPACK_GENERATOR STREQUAL "DEB" AND CPACK_PACKAGING_INSTALL_PREFIX STREQUAL "/usr"
   AND NOT CPACK_PSLEAK_PYTHON_INSTALL_DIR STREQUAL "lib/python3/dist-packages")
  message(FATAL_ERROR
    "psleak: the Python module would be packaged in "
    "${CPACK_PACKAGING_INSTALL_PREFIX}/${CPACK_PSLEAK_PYTHON_INSTALL_DIR}, which python3 does "
    "not search. Configure the build with -DCMAKE_INSTALL_PREFIX=/usr (see "
    "scripts/package_deb.sh).")
endif()
file(GLOB _module "${_root}/${CPACK_PSLEAK_PYTHON_INSTALL_DIR}/psleak*.so")
if(NOT _module)
  message(FATAL_ERROR "psleak: no Python module in ${_root}/${CPACK_PSLEAK_PYTHON_INSTALL_DIR}")
endif()

# Man page.
set(_man "${_root}/${CPACK_PSLEAK_MAN_PAGE}")
if(EXISTS "${_man}")
  find_program(_gzip gzip REQUIRED)
  file(REMOVE "${_man}.gz")
  execute_process(COMMAND "${_gzip}" -9n "${_man}" RESULT_VARIABLE _status)
  if(NOT _status EQUAL 0)
    message(FATAL_ERROR "psleak: gzip ${_man} failed (${_status})")
  endif()
else()
  message(FATAL_ERROR "psleak: the man page was not installed: ${_man}")
endif()
