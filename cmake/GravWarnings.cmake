# Warnings as errors on project code only (never on third-party headers,
# which are included as SYSTEM by their imported targets).
function(grav_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror
                                           -Wshadow -Wnon-virtual-dtor -Wold-style-cast
                                           -Wcast-align -Woverloaded-virtual)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    # clang's check is local and exact; GCC 12's flow-based one fires inside
    # inlined libstdc++/CLI11/optional code at -O3 (false positives), so the
    # sanitizer phase (clang) carries it.
    target_compile_options(${target} PRIVATE -Wnull-dereference)
  else()
    # GCC 12 bug 105329: -Wrestrict false positives in std::string's inlined
    # memcpy at -O3 (Release builds of the tool and the LAN harness).
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
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
