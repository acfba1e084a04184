# One runtime per CPython version: PSLEAK_PYTHONS lists interpreters (paths, `;`-separated)
# to build a psleak runtime, the `psleak` extension module and the test fixtures for, on
# top of the default Python3_EXECUTABLE, which the psleak command itself embeds.
#
# FindPython3 finds one Python per directory, so the extra interpreters are asked
# directly (sysconfig) for what embedding needs: headers, the shared libpython, the
# extension suffix. Each becomes two interface targets:
#   psleak_python_headers_<tag>  headers only (extension modules: libpython is the host's)
#   psleak_python_embed_<tag>    headers and libpython (runtimes embed it)
# and PSLEAK_EXTRA_PYTHONS lists the tags ("3.12"), with per tag the variables
# PSLEAK_PYTHON_<tag>_EXECUTABLE and PSLEAK_PYTHON_<tag>_EXT_SUFFIX.

set(PSLEAK_PYTHONS "" CACHE STRING
    "Further Python interpreters (;-separated paths) to build psleak runtimes for")

set(_psleak_describe_python [=[
import sys, sysconfig
v = sysconfig.get_config_var
lib = (v('LIBDIR') or '') + '/' + (v('LDLIBRARY') or '')
print('%d.%d' % sys.version_info[:2])
print(sysconfig.get_paths()['include'])
print(lib)
print(v('EXT_SUFFIX') or '')
print(v('Py_ENABLE_SHARED') or 0)
print(v('LIBDIR') or '')
]=])

set(PSLEAK_EXTRA_PYTHONS)
foreach(_exe IN LISTS PSLEAK_PYTHONS)
  if(NOT EXISTS "${_exe}")
    message(FATAL_ERROR "PSLEAK_PYTHONS: ${_exe}: no such interpreter")
  endif()
  execute_process(COMMAND "${_exe}" -I -c "${_psleak_describe_python}"
                  OUTPUT_VARIABLE _out RESULT_VARIABLE _rc ERROR_VARIABLE _err
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "PSLEAK_PYTHONS: ${_exe} cannot be asked for its build settings: ${_err}")
  endif()
  string(REPLACE "\n" ";" _out "${_out}")
  list(GET _out 0 _version)
  list(GET _out 1 _include)
  list(GET _out 2 _library)
  list(GET _out 3 _suffix)
  list(GET _out 4 _shared)
  list(GET _out 5 _libdir)
  if(_version VERSION_LESS 3.9)
    message(FATAL_ERROR "PSLEAK_PYTHONS: ${_exe} is Python ${_version}; psleak needs 3.9 or later")
  endif()
  if(_version STREQUAL "${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}")
    message(STATUS "psleak: ${_exe} is Python ${_version}, which the psleak command "
                   "(${Python3_EXECUTABLE}) serves itself; no runtime of its own")
    continue()
  endif()
  if(_version IN_LIST PSLEAK_EXTRA_PYTHONS)
    message(FATAL_ERROR "PSLEAK_PYTHONS: ${_exe} and ${PSLEAK_PYTHON_${_version}_EXECUTABLE} "
                        "are both Python ${_version}; one runtime per version, list one of them")
  endif()
  if(NOT _shared OR NOT EXISTS "${_library}" OR NOT EXISTS "${_include}/Python.h")
    message(FATAL_ERROR "PSLEAK_PYTHONS: ${_exe} (Python ${_version}) cannot be embedded: "
                        "it has no shared libpython (${_library}) or no headers (${_include}); "
                        "build it with --enable-shared")
  endif()
  list(APPEND PSLEAK_EXTRA_PYTHONS ${_version})
  set(PSLEAK_PYTHON_${_version}_EXECUTABLE "${_exe}")
  set(PSLEAK_PYTHON_${_version}_EXT_SUFFIX "${_suffix}")
  set(PSLEAK_PYTHON_${_version}_LIBDIR "${_libdir}")
  add_library(psleak_python_headers_${_version} INTERFACE)
  target_include_directories(psleak_python_headers_${_version} INTERFACE "${_include}")
  add_library(psleak_python_embed_${_version} INTERFACE)
  target_link_libraries(psleak_python_embed_${_version} INTERFACE
                        psleak_python_headers_${_version} "${_library}")
  message(STATUS "psleak: runtime for Python ${_version} (${_exe})")
endforeach()

# An extension module for one Python: `name` + the interpreter's suffix, in `dir`.
function(psleak_add_extension target tag name dir)
  add_library(${target} MODULE ${ARGN})
  target_link_libraries(${target} PRIVATE psleak_python_headers_${tag})
  set_target_properties(${target} PROPERTIES
    PREFIX "" OUTPUT_NAME ${name} SUFFIX "${PSLEAK_PYTHON_${tag}_EXT_SUFFIX}"
    LIBRARY_OUTPUT_DIRECTORY "${dir}")
endfunction()
