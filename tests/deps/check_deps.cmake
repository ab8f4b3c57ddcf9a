# The dependency rules:
#   1. src/ includes only src/ (never model/, fuzz/ or tests/), and nothing
#      outside tools/ includes Python's headers;
#   2. a public header (src/include/tornstack/*.h) includes only public
#      headers and system headers: never an internal one;
#   3. the internal headers (src/internal/*.h, "internal/NAME.h") are
#      included only from src/, model/, fuzz/ and tests/;
#   4. a folder's private header (src/DIR/*.h, e.g. src/tasks/tasks_int.h)
#      is included only from that folder, and from tests/ (white-box unit
#      tests of that folder).
#   cmake -DROOT=<source dir> -P check_deps.cmake
cmake_minimum_required(VERSION 3.25)
file(GLOB_RECURSE _src "${ROOT}/src/*.c" "${ROOT}/src/*.h" "${ROOT}/src/*.inc")
file(GLOB _model_headers RELATIVE "${ROOT}/model" "${ROOT}/model/*.h")
file(GLOB _public RELATIVE "${ROOT}/src/include/tornstack" "${ROOT}/src/include/tornstack/*.h")
file(GLOB _internal RELATIVE "${ROOT}/src/internal" "${ROOT}/src/internal/*.h")
set(_bad "")

# The #include lines of a file, as a list.
function(ts_includes _file _out)
  file(STRINGS "${_file}" _incs REGEX "^[ \t]*#[ \t]*include")
  set(${_out} "${_incs}" PARENT_SCOPE)
endfunction()

# 1. src/ stays on its own
foreach(_f IN LISTS _src)
  ts_includes("${_f}" _incs)
  foreach(_i IN LISTS _incs)
    if(_i MATCHES "model/|fuzz/|tests/|Python\\.h|pycore_")
      list(APPEND _bad "${_f}: ${_i}")
    endif()
    foreach(_h IN LISTS _model_headers)
      if(_i MATCHES "\"${_h}\"")
        list(APPEND _bad "${_f}: ${_i}")
      endif()
    endforeach()
  endforeach()
endforeach()

# 2. public headers include public headers only
foreach(_h IN LISTS _public)
  ts_includes("${ROOT}/src/include/tornstack/${_h}" _incs)
  foreach(_i IN LISTS _incs)
    if(_i MATCHES "<[^>]+>")
      continue()
    endif()
    if(NOT _i MATCHES "\"tornstack/([A-Za-z0-9_]+\\.h)\"")
      list(APPEND _bad "public header ${_h} includes a non-public header: ${_i}")
      continue()
    endif()
    set(_name "${CMAKE_MATCH_1}")
    if(NOT _name IN_LIST _public)
      list(APPEND _bad "public header ${_h} includes a non-public header: ${_i}")
    endif()
  endforeach()
endforeach()

# 3. internal headers only from src/, model/, fuzz/, tests/
file(GLOB_RECURSE _others "${ROOT}/*.c" "${ROOT}/*.h" "${ROOT}/*.cc" "${ROOT}/*.cpp")
foreach(_f IN LISTS _others)
  file(RELATIVE_PATH _rel "${ROOT}" "${_f}")
  if(_rel MATCHES "^(src|model|fuzz|tests|build[^/]*|out)/")
    continue()
  endif()
  ts_includes("${_f}" _incs)
  foreach(_i IN LISTS _incs)
    foreach(_h IN LISTS _internal)
      if(_i MATCHES "\"internal/${_h}\"")
        list(APPEND _bad "${_rel} uses an internal header: ${_i}")
      endif()
    endforeach()
  endforeach()
endforeach()

# 4. a folder's private header stays in its folder
file(GLOB _dirs LIST_DIRECTORIES true RELATIVE "${ROOT}/src" "${ROOT}/src/*")
set(_all_users ${_src})
file(GLOB_RECURSE _more "${ROOT}/model/*.[ch]" "${ROOT}/fuzz/*.[ch]")
list(APPEND _all_users ${_more})
foreach(_d IN LISTS _dirs)
  if(_d STREQUAL "include" OR _d STREQUAL "internal" OR NOT IS_DIRECTORY "${ROOT}/src/${_d}")
    continue()
  endif()
  file(GLOB _private RELATIVE "${ROOT}/src/${_d}" "${ROOT}/src/${_d}/*.h")
  foreach(_f IN LISTS _all_users)
    get_filename_component(_fd "${_f}" DIRECTORY)
    if(_fd STREQUAL "${ROOT}/src/${_d}")
      continue()
    endif()
    ts_includes("${_f}" _incs)
    foreach(_i IN LISTS _incs)
      foreach(_h IN LISTS _private)
        if(_i MATCHES "[\"/]${_h}\"")
          list(APPEND _bad "${_f} uses ${_d}/'s private header: ${_i}")
        endif()
      endforeach()
    endforeach()
  endforeach()
endforeach()

list(LENGTH _src _n)
list(LENGTH _public _np)
list(LENGTH _internal _ni)
if(_bad)
  string(REPLACE ";" "\n" _bad "${_bad}")
  message(FATAL_ERROR "the dependency rules are broken:\n${_bad}")
endif()
message(STATUS "dependency rules hold: ${_n} files of src/, ${_np} public and ${_ni} internal headers")
