# Regenerate the seed corpus and compare it with the committed one.
#   cmake -DGEN=fuzz_seedgen -DCORPUS=corpus -DWORK=dir -P check_seeds.cmake
file(REMOVE_RECURSE "${WORK}")
execute_process(COMMAND "${GEN}" "${WORK}" RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "seed generator failed")
endif()
file(GLOB_RECURSE _gen RELATIVE "${WORK}" "${WORK}/*")
set(_n 0)
foreach(_f IN LISTS _gen)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${WORK}/${_f}" "${CORPUS}/${_f}"
                  RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "corpus/${_f} differs from what fuzz_seedgen writes (regenerate: "
                        "fuzz_seedgen corpus)")
  endif()
  math(EXPR _n "${_n} + 1")
endforeach()
message(STATUS "${_n} seeds regenerate byte for byte")
