# Find the CPython interpreters (with headers) that the live and layout tests
# run against.  Result: TORNSTACK_PY_LIST, a list of
# "minor|version|exe|include|defines" entries, one per distinct interpreter
# (defines: the interpreter's own -D_Py_* build macros, comma-separated; they
# are not in pyconfig.h but change structure layouts).
#
# Discovery when TORNSTACK_PYTHONS is empty: every pyenv version 3.11-3.15
# (pyenv root from `pyenv root`, $PYENV_ROOT or ~/.pyenv), python3.11 to
# python3.15 on PATH and in /usr/bin, /usr/local/bin, and Debian's 3.14 and
# 3.15 unpacked by scripts/pythons.sh (its cache: $TORNSTACK_PYTHONS_CACHE,
# else <source>/.cache/pythons).  Nothing is hard-coded to one machine; pass
# -DTORNSTACK_PYTHONS=/path/a;/path/b to choose.

set(_ts_cands ${TORNSTACK_PYTHONS})
if(NOT _ts_cands)
  set(_ts_roots "")
  find_program(_ts_pyenv pyenv)
  if(_ts_pyenv)
    execute_process(COMMAND ${_ts_pyenv} root OUTPUT_VARIABLE _ts_root
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    list(APPEND _ts_roots "${_ts_root}")
  endif()
  if(DEFINED ENV{PYENV_ROOT})
    list(APPEND _ts_roots "$ENV{PYENV_ROOT}")
  endif()
  if(DEFINED ENV{HOME})
    list(APPEND _ts_roots "$ENV{HOME}/.pyenv")
  endif()
  foreach(_r IN LISTS _ts_roots)
    foreach(_m 11 12 13 14 15)
      file(GLOB _g "${_r}/versions/3.${_m}.*/bin/python3.${_m}")
      list(APPEND _ts_cands ${_g})
    endforeach()
  endforeach()
  if(DEFINED ENV{TORNSTACK_PYTHONS_CACHE})
    set(_ts_cache "$ENV{TORNSTACK_PYTHONS_CACHE}")
  else()
    set(_ts_cache "${PROJECT_SOURCE_DIR}/.cache/pythons")
  endif()
  foreach(_m 11 12 13 14 15)
    foreach(_d /usr/bin /usr/local/bin "${_ts_cache}/bin")
      if(EXISTS "${_d}/python3.${_m}")
        list(APPEND _ts_cands "${_d}/python3.${_m}")
      endif()
    endforeach()
  endforeach()
endif()

set(TORNSTACK_PY_LIST "")
set(_ts_seen "")
set(_ts_minors "")
foreach(_py IN LISTS _ts_cands)
  get_filename_component(_real "${_py}" REALPATH)
  if(_real IN_LIST _ts_seen)
    continue()
  endif()
  list(APPEND _ts_seen "${_real}")
  execute_process(
    COMMAND "${_py}" -c "import sys, sysconfig, os\ninc = sysconfig.get_paths()['include']\nft = bool(sysconfig.get_config_var('Py_GIL_DISABLED'))\ndefs = ','.join(w for w in (sysconfig.get_config_var('PY_CORE_CFLAGS') or '').split() if w.startswith('-D_Py_'))\nprint('%d.%d|%s|%s|%d|%s' % (sys.version_info[0], sys.version_info[1], sys.version.split()[0], inc if os.path.exists(os.path.join(inc, 'Python.h')) else '', ft, defs))"
    OUTPUT_VARIABLE _out OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _res ERROR_QUIET)
  if(NOT _res EQUAL 0)
    continue()
  endif()
  string(REPLACE "|" ";" _f "${_out}")
  list(GET _f 0 _minor)
  list(GET _f 1 _ver)
  list(GET _f 2 _inc)
  list(GET _f 3 _ft)
  list(LENGTH _f _nf)
  set(_defs "")
  if(_nf GREATER 4)
    list(GET _f 4 _defs)
  endif()
  if(NOT _minor MATCHES "^3\\.1[1-5]$" OR _ft STREQUAL "1")
    continue()
  endif()
  if(NOT _inc)
    message(STATUS "tornstack: ${_py} (${_ver}) has no headers; skipped")
    continue()
  endif()
  list(APPEND TORNSTACK_PY_LIST "${_minor}|${_ver}|${_real}|${_inc}|${_defs}")
  list(APPEND _ts_minors "${_minor}")
  message(STATUS "tornstack: CPython ${_ver} at ${_real} (headers ${_inc})")
endforeach()

foreach(_need IN LISTS TORNSTACK_REQUIRE_PYTHONS)
  if(NOT _need IN_LIST _ts_minors)
    message(FATAL_ERROR
      "tornstack: CPython ${_need} with headers is required (TORNSTACK_REQUIRE_PYTHONS) "
      "but was not found. 3.14 and 3.15: run scripts/pythons.sh (Debian's builds). "
      "Others: install it (pyenv, or Debian's python${_need}-dev) or pass "
      "-DTORNSTACK_PYTHONS=/path/to/python${_need}.")
  endif()
endforeach()

# Remembered for scripts (scripts/demo.sh reads it from CMakeCache.txt).
set(TORNSTACK_PY_LIST "${TORNSTACK_PY_LIST}" CACHE INTERNAL "Discovered CPython interpreters")
