# How the psleak executable links the Python it embeds: psleak_python_embed, an interface
# target the default Python's parts link (lib/CMakeLists.txt).
#
# Debian's /usr/bin/python3 is linked with the static, position-dependent libpython
# (libpython3.X.a); the shared libpython3.X.so is position-independent code reached
# through the PLT and GOT. The same calls run measurably slower through the shared one
# (json.loads of 1,000 objects: ~10 % here), and a check is mostly calls. So psleak links
# the static archive too when the interpreter's installation has one, as a whole (an
# extension module may use any of the C API) into a non-PIE executable that exports it
# (extension modules resolve the C API against the executable, as they do under
# /usr/bin/python3).
#
# PSLEAK_STATIC_LIBPYTHON: AUTO (the archive if found, else the shared library), ON
# (the archive or a configure error), OFF (the shared library).

set(PSLEAK_STATIC_LIBPYTHON AUTO CACHE STRING
    "Link libpython statically into the psleak executable: AUTO, ON or OFF")
set_property(CACHE PSLEAK_STATIC_LIBPYTHON PROPERTY STRINGS AUTO ON OFF)

# The archive's path and the libraries its modules need, as sysconfig records them.
execute_process(
  COMMAND "${Python3_EXECUTABLE}" -c [=[
import os, sysconfig
v = sysconfig.get_config_var
path = os.path.join(v("LIBPL") or "", v("LIBRARY") or "")
libs = " ".join(v(k) or "" for k in ("LIBS", "SYSLIBS", "MODLIBS"))
print(path if os.path.isfile(path) and path.endswith(".a") else "")
print(" ".join(dict.fromkeys(libs.split())))
]=]
  OUTPUT_VARIABLE _psleak_static_query
  RESULT_VARIABLE _psleak_static_result
  OUTPUT_STRIP_TRAILING_WHITESPACE)
set(_psleak_static_archive "")
set(_psleak_static_libs "")
if(_psleak_static_result EQUAL 0)
  string(REPLACE "\n" ";" _psleak_static_lines "${_psleak_static_query}")
  list(LENGTH _psleak_static_lines _psleak_static_count)
  if(_psleak_static_count GREATER 0)
    list(GET _psleak_static_lines 0 _psleak_static_archive)
  endif()
  if(_psleak_static_count GREATER 1)
    list(GET _psleak_static_lines 1 _psleak_static_libs)
    separate_arguments(_psleak_static_libs UNIX_COMMAND "${_psleak_static_libs}")
  endif()
endif()

set(_psleak_static_use OFF)
if(PSLEAK_STATIC_LIBPYTHON STREQUAL "ON" OR PSLEAK_STATIC_LIBPYTHON STREQUAL "AUTO")
  if(_psleak_static_archive)
    set(_psleak_static_use ON)
  elseif(PSLEAK_STATIC_LIBPYTHON STREQUAL "ON")
    message(FATAL_ERROR "PSLEAK_STATIC_LIBPYTHON=ON, but ${Python3_EXECUTABLE} has no static "
                        "libpython (sysconfig's LIBPL/LIBRARY); install its -dev package or "
                        "configure with -DPSLEAK_STATIC_LIBPYTHON=OFF")
  endif()
elseif(NOT PSLEAK_STATIC_LIBPYTHON STREQUAL "OFF")
  message(FATAL_ERROR "PSLEAK_STATIC_LIBPYTHON is '${PSLEAK_STATIC_LIBPYTHON}': AUTO, ON or OFF")
endif()

add_library(psleak_python_embed INTERFACE)
if(_psleak_static_use)
  message(STATUS "psleak: linking the static ${_psleak_static_archive}")
  target_include_directories(psleak_python_embed INTERFACE ${Python3_INCLUDE_DIRS})
  target_link_libraries(psleak_python_embed INTERFACE
    -Wl,--whole-archive "${_psleak_static_archive}" -Wl,--no-whole-archive
    ${_psleak_static_libs} ${CMAKE_DL_LIBS})
  # Position-dependent code from the archive: the executable cannot be PIE.
  target_link_options(psleak_python_embed INTERFACE -no-pie)
else()
  message(STATUS "psleak: linking the shared libpython")
  target_link_libraries(psleak_python_embed INTERFACE Python3::Python)
endif()
