# A command given bad input is refused with its exit status and a message
# naming the reason (a refusal by any status, or a crash under a sanitizer
# that exits non-zero, would pass a bare WILL_FAIL):
#   cmake -DCMD="bin;arg;..." -DEXPECT=2 -DNEEDLE=text -P check_refused.cmake
execute_process(COMMAND ${CMD} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
if(NOT _rc EQUAL EXPECT)
  message(FATAL_ERROR "${CMD}: exit ${_rc}, expected ${EXPECT}: ${_err}")
endif()
string(FIND "${_err}" "${NEEDLE}" _at)
if(_at LESS 0)
  message(FATAL_ERROR "${CMD}: the message does not name '${NEEDLE}': ${_err}")
endif()
message(STATUS "${CMD}: refused with exit ${_rc}: ${_err}")
