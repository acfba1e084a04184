# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS, top-level CMakeLists.txt): runs after
# CPack has installed psleak into its staging directory, before the .deb is made.
#   - checks that the Python module is where Debian's python3 looks for it;
#   - removes the .comment section from the stripped binaries;
#   - gzips the man page (Debian policy 12.1), reproducibly (gzip -n: no name or time);
#   - adds /usr/share/doc/psleak: changelog.gz, and copyright (BSD-3-Clause, from LICENSE).
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

# CPack has stripped the binaries (CPACK_STRIP_FILES); like dh_strip, drop the compiler's
# version strings as well.
find_program(_objcopy objcopy)
if(_objcopy)
  foreach(_elf "${_root}/bin/psleak" ${_module})
    execute_process(COMMAND "${_objcopy}" --remove-section=.comment "${_elf}"
                    RESULT_VARIABLE _status)
    if(NOT _status EQUAL 0)
      message(FATAL_ERROR "psleak: objcopy --remove-section=.comment ${_elf} failed")
    endif()
  endforeach()
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

# /usr/share/doc/psleak: the changelog Debian requires of a native package, one entry
# for this version (string(TIMESTAMP) honours SOURCE_DATE_EPOCH), and the copyright
# file made from the source tree's LICENSE.
set(_doc "${_root}/share/doc/${CPACK_DEBIAN_PACKAGE_NAME}")
file(MAKE_DIRECTORY "${_doc}")
file(CHMOD "${_root}/share/doc" "${_doc}" DIRECTORY_PERMISSIONS
     OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
string(TIMESTAMP _date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE "${_doc}/changelog"
"${CPACK_DEBIAN_PACKAGE_NAME} (${CPACK_PACKAGE_VERSION}) unstable; urgency=medium

  * psleak ${CPACK_PACKAGE_VERSION}, packaged with CPack (scripts/package_deb.sh).

 -- ${CPACK_DEBIAN_PACKAGE_MAINTAINER}  ${_date}
")
file(REMOVE "${_doc}/changelog.gz")
execute_process(COMMAND "${_gzip}" -9n "${_doc}/changelog" RESULT_VARIABLE _status)
if(NOT _status EQUAL 0)
  message(FATAL_ERROR "psleak: gzip ${_doc}/changelog failed (${_status})")
endif()
# The copyright file in Debian's machine-readable format (copyright-format 1.0): the
# licence's name and holder, then LICENSE itself as the licence's text (each line
# indented by one space, an empty line written " .").
set(_license "${CPACK_PSLEAK_SOURCE_DIR}/LICENSE")
if(NOT EXISTS "${_license}")
  message(FATAL_ERROR "psleak: no LICENSE in ${CPACK_PSLEAK_SOURCE_DIR} for the copyright file")
endif()
file(READ "${_license}" _license_text)
string(REGEX REPLACE "\n+$" "" _license_text "${_license_text}")
string(REPLACE "\n" "\n " _license_text " ${_license_text}\n")
# An empty line is " ." (twice: two empty lines in a row share a newline).
string(REPLACE "\n \n" "\n .\n" _license_text "${_license_text}")
string(REPLACE "\n \n" "\n .\n" _license_text "${_license_text}")
file(WRITE "${_doc}/copyright"
"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: psleak

Files: *
Copyright: 2026 the psleak authors
License: BSD-3-Clause
${_license_text}")
foreach(_file "${_man}.gz" "${_doc}/changelog.gz" "${_doc}/copyright")
  if(EXISTS "${_file}")
    file(CHMOD "${_file}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
endforeach()
