# Install rules: the export set gravTargets as a CMake package (find_package(grav)
# with components core, security, zmq, discovery, lan, nats, metrics) and a relocatable pkg-config file per
# library (grav.pc for the core, grav-<module>.pc for each optional module).
# Modules add themselves with install(TARGETS grav_<module> EXPORT gravTargets ...).
include(CMakePackageConfigHelpers)

set(GRAV_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/grav)
set(GRAV_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# Optional library modules actually built (their folders may not exist yet).
# pkg-config packages each one requires besides grav:
set(grav_pc_requires_zmq "cppzmq grav-security")
set(grav_pc_requires_discovery "grav-security")  # secure beacons
set(grav_pc_requires_lan "grav-zmq grav-discovery")
set(grav_pc_requires_security "libsodium")
set(grav_pc_requires_nats "libnats")
set(grav_pc_requires_metrics "prometheus-cpp-pull")
set(GRAV_INSTALLED_MODULES "")
foreach(module security zmq discovery lan nats metrics)
  if(TARGET grav::${module})
    list(APPEND GRAV_INSTALLED_MODULES ${module})
  endif()
endforeach()

install(EXPORT gravTargets NAMESPACE grav:: DESTINATION ${GRAV_CMAKE_DIR})
configure_package_config_file(cmake/gravConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/gravConfig.cmake INSTALL_DESTINATION ${GRAV_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/gravConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/gravConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/gravConfigVersion.cmake
        DESTINATION ${GRAV_CMAKE_DIR})

# pkg-config files find their prefix from their own location (${pcfiledir}),
# so `cmake --install --prefix ANYWHERE` gives working files.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(GRAV_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH grav_pc_up "/${GRAV_PC_DIR}" "/")
  string(REGEX REPLACE "/$" "" grav_pc_up "${grav_pc_up}")
  set(GRAV_PC_PREFIX "\${pcfiledir}/${grav_pc_up}")
endif()

configure_file(cmake/grav.pc.in ${CMAKE_CURRENT_BINARY_DIR}/grav.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/grav.pc DESTINATION ${GRAV_PC_DIR})

foreach(module IN LISTS GRAV_INSTALLED_MODULES)
  get_target_property(grav_pc_target grav::${module} ALIASED_TARGET)
  if(NOT grav_pc_target)
    set(grav_pc_target grav::${module})
  endif()
  get_target_property(GRAV_PC_LIBNAME ${grav_pc_target} OUTPUT_NAME)
  if(NOT GRAV_PC_LIBNAME)
    set(GRAV_PC_LIBNAME ${grav_pc_target})
  endif()
  set(GRAV_PC_MODULE ${module})
  set(GRAV_PC_REQUIRES "grav ${grav_pc_requires_${module}}")
  configure_file(cmake/grav-module.pc.in ${CMAKE_CURRENT_BINARY_DIR}/grav-${module}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/grav-${module}.pc DESTINATION ${GRAV_PC_DIR})
endforeach()
