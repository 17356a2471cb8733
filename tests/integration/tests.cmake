# Integration tests: one CTest test per tests/integration/test_*.py, each starting the real ecsd binary.
# Included from the top-level CMakeLists.txt after the ecsd target exists:
#   include(tests/integration/tests.cmake)
# Run just these with: ctest -L integration
# They need python3 with boto3/botocore and the aws CLI on PATH (ECSD_PYTHON overrides the interpreter).

set(ECSD_PYTHON "python3" CACHE STRING "Python 3 interpreter (with boto3) for the integration tests")
set(ECSD_INTEGRATION_TIMEOUT 300 CACHE STRING "Per-test timeout in seconds for the integration tests")

file(GLOB _ecsd_integration_tests CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/test_*.py")
list(SORT _ecsd_integration_tests)

foreach(_ecsd_test IN LISTS _ecsd_integration_tests)
  get_filename_component(_ecsd_stem "${_ecsd_test}" NAME_WE)
  add_test(NAME integration.${_ecsd_stem}
           COMMAND ${ECSD_PYTHON} ${_ecsd_test}
           WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(integration.${_ecsd_stem} PROPERTIES
    ENVIRONMENT "ECSD_BIN=$<TARGET_FILE:ecsd>;PYTHONDONTWRITEBYTECODE=1;PYTHONUNBUFFERED=1"
    TIMEOUT ${ECSD_INTEGRATION_TIMEOUT}
    LABELS integration)
endforeach()

unset(_ecsd_integration_tests)
unset(_ecsd_stem)
unset(_ecsd_test)
