# ree_add_test(NAME name SOURCES a.cpp ... [LIBS lib ...] [LABELS l ...] [TIMEOUT s])
# A doctest executable registered with CTest. Labels: "gpu" tests skip
# (exit code 77 -> SKIP) when no GPU is visible; "slow" ones are still in CI.
include_guard(GLOBAL)
function(ree_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES} ${CMAKE_SOURCE_DIR}/tests/doctest_main.cpp)
  target_link_libraries(${T_NAME} PRIVATE ree_config doctest::doctest ${T_LIBS})
  target_include_directories(${T_NAME} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_compile_definitions(${T_NAME} PRIVATE
      REE_SOURCE_DIR="${CMAKE_SOURCE_DIR}" REE_BINARY_DIR="${CMAKE_BINARY_DIR}"
      REE_CLI="$<TARGET_FILE:ree>")
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} SKIP_RETURN_CODE 77
                       LABELS "${T_LABELS}")
endfunction()
