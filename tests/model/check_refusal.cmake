# A fabricated process whose debug blocks are doctored is refused by
# `tornstack verify --fabricate` with the exit status and the sentence a
# live target gets (docs/cli.md): free-threaded 9 (unsupported_build),
# a mismatched field 7 (debug_offsets_mismatch).
#   cmake -DVERIFY=tornstack-verify -DPY=3.14 -DWORD=free_threaded -DVALUE=1
#         -DEXPECT=9 -DNEEDLE=free-threaded -DWORK=dir -P check_refusal.cmake
file(MAKE_DIRECTORY "${WORK}")
set(_desc "${WORK}/doctored-${PY}-${WORD}.txt")
string(JOIN "\n" _text
  "loop\tmain\t/app/main.py\t3"
  "task\tt1\tone"
  "frame\tco\t/app/main.py\t10"
  "doctor\t${WORD}\t${VALUE}"
  "")
file(WRITE "${_desc}" "${_text}")
execute_process(COMMAND "${VERIFY}" --fabricate "${_desc}" --python "${PY}"
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
file(REMOVE "${_desc}")
if(NOT _rc EQUAL EXPECT)
  message(FATAL_ERROR "${PY}, ${WORD}=${VALUE}: exit ${_rc}, expected ${EXPECT}: ${_err}")
endif()
string(FIND "${_err}" "${NEEDLE}" _at)
if(_at LESS 0)
  message(FATAL_ERROR "${PY}, ${WORD}=${VALUE}: the message does not name '${NEEDLE}': ${_err}")
endif()
if(NOT _out STREQUAL "")
  message(FATAL_ERROR "${PY}, ${WORD}=${VALUE}: refused, yet printed a dump")
endif()
message(STATUS "${PY}, ${WORD}=${VALUE}: refused with exit ${_rc}: ${_err}")
