# Warnings as errors on project code only (never on third-party headers,
# which are included as SYSTEM by their imported targets).
function(grav_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror
                                           -Wshadow -Wnon-virtual-dtor -Wold-style-cast
                                           -Wcast-align -Woverloaded-virtual -Wnull-dereference)
endfunction()
