# Adds a folder of the build (tests, benchmarks) only when it exists and every
# target it needs is part of this build, so turning a module off never breaks
# configuring the folders that exercise it.
function(grav_add_subdir_if_targets dir)
  foreach(needed IN LISTS ARGN)
    if(NOT TARGET ${needed})
      return()
    endif()
  endforeach()
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/CMakeLists.txt)
    add_subdirectory(${dir})
  endif()
endfunction()
