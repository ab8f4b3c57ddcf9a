# Prove the layout check has teeth: a copy of a committed table with one
# byte changed must be refused, and the unchanged copy accepted.
#   cmake -DCC= -DINCLUDE= [-DDEFINES=] -DGEN= -DTABLE= -DWORK= -P check_layout_edit.cmake
file(MAKE_DIRECTORY "${WORK}")
file(READ "${TABLE}" _text)
string(FIND "${_text}" ".frame_owner = " _at)
if(_at LESS 0)
  message(FATAL_ERROR "no .frame_owner in ${TABLE}")
endif()
math(EXPR _digit "${_at} + 15")
string(SUBSTRING "${_text}" ${_digit} 1 _old)
if(_old STREQUAL "9")
  set(_new "8")
else()
  set(_new "9")
endif()
string(SUBSTRING "${_text}" 0 ${_digit} _head)
math(EXPR _rest "${_digit} + 1")
string(SUBSTRING "${_text}" ${_rest} -1 _tail)
file(WRITE "${WORK}/edited.inc" "${_head}${_new}${_tail}")
file(WRITE "${WORK}/same.inc" "${_text}")
foreach(_case same edited)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -DCC=${CC} -DINCLUDE=${INCLUDE} "-DDEFINES=${DEFINES}" -DGEN=${GEN}
            -DTABLE=${WORK}/${_case}.inc -DWORK=${WORK}/${_case}
            -P ${CMAKE_CURRENT_LIST_DIR}/check_layout.cmake
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  set(_rc_${_case} ${_rc})
  set(_err_${_case} "${_err}")
endforeach()
if(NOT _rc_same EQUAL 0)
  message(FATAL_ERROR "the unedited table was refused:\n${_err_same}")
endif()
if(_rc_edited EQUAL 0 OR NOT _err_edited MATCHES "differs")
  message(FATAL_ERROR "a one-byte edit (frame_owner ${_old} -> ${_new}) was not detected")
endif()
message(STATUS "one-byte edit of ${TABLE} (frame_owner ${_old} -> ${_new}) is detected")
