# Regenerate one layout table from a CPython's headers and compare it with
# the committed one, byte for byte.
#   cmake -DCC=cc -DINCLUDE=<python include dir> [-DDEFINES=-D_Py_X=1,-D_Py_Y]
#         -DGEN=tools/layoutgen.c -DTABLE=src/layouts/layout_py3XX.inc
#         -DWORK=<scratch dir> -P check_layout.cmake
# DEFINES: the interpreter's own -D_Py_* build macros (comma-separated),
# which change layouts but are not in pyconfig.h.  INCLUDE/.. is searched
# too, for Debian's multiarch pyconfig.h outside /usr/include.
foreach(_v CC INCLUDE GEN TABLE WORK)
  if(NOT DEFINED ${_v})
    message(FATAL_ERROR "check_layout.cmake: -D${_v}= is required")
  endif()
endforeach()
set(_defs "")
if(DEFINED DEFINES AND NOT DEFINES STREQUAL "")
  string(REPLACE "," ";" _defs "${DEFINES}")
endif()
file(MAKE_DIRECTORY "${WORK}")
execute_process(
  COMMAND "${CC}" -w ${_defs} -I "${INCLUDE}" -I "${INCLUDE}/.." "${GEN}" -o "${WORK}/layoutgen"
  RESULT_VARIABLE _rc ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "cannot compile the layout generator against ${INCLUDE}:\n${_err}")
endif()
execute_process(COMMAND "${WORK}/layoutgen" OUTPUT_FILE "${WORK}/generated.inc"
                RESULT_VARIABLE _rc ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "layout generator failed (${_rc}):\n${_err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${WORK}/generated.inc" "${TABLE}"
                RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  execute_process(COMMAND diff -u "${TABLE}" "${WORK}/generated.inc" OUTPUT_VARIABLE _diff)
  message(FATAL_ERROR "${TABLE} differs from what the headers in ${INCLUDE} give:\n${_diff}")
endif()
message(STATUS "layout table ${TABLE} matches the headers in ${INCLUDE}")
