# Install rules: headers, libraries, a CMake package (find_package(grav)) and
# a pkg-config file per module.
include(CMakePackageConfigHelpers)

set(GRAV_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/grav)

install(EXPORT gravTargets NAMESPACE grav:: DESTINATION ${GRAV_CMAKE_DIR})
configure_package_config_file(cmake/gravConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/gravConfig.cmake INSTALL_DESTINATION ${GRAV_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/gravConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/gravConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/gravConfigVersion.cmake
        DESTINATION ${GRAV_CMAKE_DIR})

configure_file(cmake/grav.pc.in ${CMAKE_CURRENT_BINARY_DIR}/grav.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/grav.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
