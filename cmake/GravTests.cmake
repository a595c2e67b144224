# grav_discover_tests(target [TIMEOUT seconds] [LABELS label...] [SERIAL])
#
# gtest_discover_tests with labels and RUN_SERIAL that really apply. CMake
# 3.25's gtest_discover_tests flattens list-valued PROPERTIES: LABELS "a;b"
# became LABELS=a plus a stray property named b, which also swallowed a
# RUN_SERIAL given after it. So the labels are set from an include file that
# ctest reads after the discovered tests (TEST_INCLUDE_FILES), on the list
# of names discovery stores in <target>_TESTS.
function(grav_discover_tests target)
    cmake_parse_arguments(T "SERIAL" "TIMEOUT" "LABELS" ${ARGN})
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 60)
    endif()
    set(serial FALSE)
    if(T_SERIAL)
        set(serial TRUE)
    endif()
    gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 TEST_LIST ${target}_TESTS
                         PROPERTIES TIMEOUT ${T_TIMEOUT} RUN_SERIAL ${serial})
    if(T_LABELS)
        set(file "${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake")
        file(WRITE "${file}"
             "if(${target}_TESTS)\n"
             "  set_tests_properties(\${${target}_TESTS} PROPERTIES LABELS \"${T_LABELS}\")\n"
             "endif()\n")
        set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${file}")
    endif()
endfunction()
