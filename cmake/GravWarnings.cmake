# Warnings as errors on project code only (never on third-party headers,
# which are included as SYSTEM by their imported targets).
function(grav_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror
                                           -Wshadow -Wnon-virtual-dtor -Wold-style-cast
                                           -Wcast-align -Woverloaded-virtual -Wnull-dereference)
  # GCC's flow-based -Wmaybe-uninitialized gives false positives in libstdc++
  # (<regex>, std::function) once sanitizer instrumentation is inlined; the
  # plain build keeps the warning.
  if(GRAV_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
  # clang's -Wmismatched-tags (struct vs class in a declaration) only matters
  # for the Microsoft ABI, which grav does not target.
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(${target} PRIVATE -Wno-mismatched-tags)
  endif()
endfunction()
