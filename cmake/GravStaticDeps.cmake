# GRAV_STATIC_DEPS: fully static programs, for a small resident footprint.
#
# Why: an idle node with one peer maps mostly shared-library pages, not its
# own memory. The kernel's fault-around maps 64 KB around every touched page
# of a library that sits in the page cache, so each library loaded costs
# hundreds of kB of VmRSS whether its code runs or not (libc 1.6 MB,
# libstdc++ 1.5 MB, libzmq 0.7 MB, and libzmq's optional transports and
# mechanisms: krb5/gssapi 0.6 MB, norm, pgm, sodium, bsd, libm...). Linked
# from static archives, only the object files actually referenced are in the
# program, and --gc-sections drops unreferenced functions of our own code.
# A static program's resident code is then nearly all of its text (fault-
# around again), so its size is what counts: MinSizeRel lowers it further.
# Measured on Debian 12, idle node with one peer, VmRSS (`zmq_bench --only
# idle`; `grav sub` dialling another `grav sub`):
#   zmq_bench grav-idle: 7196 kB dynamic, 3584 kB ON, 3272 kB ON + MinSizeRel
#   grav sub:            7820 kB dynamic, 4120 kB ON, 3428 kB ON + MinSizeRel
#
# ON: libzmq and libsodium are linked from their archives in every target
# that uses them (one imported target each, created here before any module
# looks them up); the executables given to grav_static_deps() (the grav tool,
# the samples, zmq_bench) are linked with -static (glibc, libstdc++ too).
# OFF (default): nothing changes, grav_static_deps() does nothing.
#
# Limits of a static glibc program: getaddrinfo still reads /etc/hosts and
# DNS itself (files and dns are built into glibc 2.34+), but other NSS
# modules listed in /etc/nsswitch.conf (mdns, resolve...) are loaded only if
# the glibc installed at run time is the one linked in.
option(GRAV_STATIC_DEPS "Link the grav tool, samples and zmq_bench fully statically (small idle RSS)" OFF)

# grav_static_deps(target): link the executable `target` fully statically
# when GRAV_STATIC_DEPS is ON; nothing otherwise.
function(grav_static_deps target)
  if(NOT GRAV_STATIC_DEPS)
    return()
  endif()
  # libzmq is created at the top level (below), so it is visible here; a
  # dynamic libzmq would fail the -static link with a less clear message.
  get_target_property(zmq_location libzmq IMPORTED_LOCATION)
  if(NOT zmq_location STREQUAL GRAV_STATIC_LIBZMQ)
    message(FATAL_ERROR "GRAV_STATIC_DEPS: libzmq resolves to '${zmq_location}', not the archive "
                        "'${GRAV_STATIC_LIBZMQ}' (was cppzmq found before cmake/GravStaticDeps.cmake?)")
  endif()
  target_link_options(${target} PRIVATE -static -Wl,--gc-sections)
endfunction()

if(NOT GRAV_STATIC_DEPS)
  return()
endif()

if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
  message(FATAL_ERROR "GRAV_STATIC_DEPS: written for Linux with glibc and Debian's static archives")
endif()
if(GRAV_SANITIZE)
  message(FATAL_ERROR "GRAV_STATIC_DEPS: sanitizer runtimes cannot be linked into -static programs; "
                      "turn one of GRAV_STATIC_DEPS and GRAV_SANITIZE off")
endif()

# Every archive the static link needs, with the Debian package providing it.
# libzmq.a references libpgm (pgm://), libnorm (norm://, which needs
# libprotokit) and libbsd (strlcpy, which needs libmd), whether or not grav
# uses those transports. The linker confirms that nothing else is needed:
# pkg-config --static also lists libxml2 and ICU for libprotokit, but no
# object of libprotokit.a that libnorm uses references them.
set(_grav_static_archives
  LIBZMQ    zmq       libzmq3-dev
  LIBSODIUM sodium    libsodium-dev
  LIBPGM    pgm       libpgm-dev
  LIBNORM   norm      libnorm-dev
  PROTOKIT  protokit  libnorm-dev
  LIBBSD    bsd       libbsd-dev
  LIBMD     md        libmd-dev)
while(_grav_static_archives)
  list(POP_FRONT _grav_static_archives var name package)
  find_library(GRAV_STATIC_${var} NAMES lib${name}.a)
  if(NOT GRAV_STATIC_${var})
    message(FATAL_ERROR "GRAV_STATIC_DEPS: lib${name}.a not found (Debian: apt install ${package}), "
                        "or configure with -DGRAV_STATIC_DEPS=OFF")
  endif()
endwhile()
# -static takes glibc and libstdc++ from their archives: ask the compiler.
foreach(archive libc.a libstdc++.a)
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=${archive}
                  OUTPUT_VARIABLE path OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT IS_ABSOLUTE "${path}" OR NOT EXISTS "${path}")
    message(FATAL_ERROR "GRAV_STATIC_DEPS: ${CMAKE_CXX_COMPILER} has no ${archive} "
                        "(Debian: libc6-dev, libstdc++-12-dev), or configure with -DGRAV_STATIC_DEPS=OFF")
  endif()
endforeach()

# libzmq.a is built with GSSAPI, but MIT krb5 ships no static archives:
# GravNoGssapi.c stands in for the eleven gss_* symbols libzmq references.
# grav never selects the GSSAPI mechanism (NULL or CURVE only), so they are
# never called; if a socket were set to GSSAPI, its handshake would fail.
include(CheckIncludeFile)
check_include_file(gssapi/gssapi.h GRAV_HAVE_GSSAPI_H)
if(NOT GRAV_HAVE_GSSAPI_H)
  message(FATAL_ERROR "GRAV_STATIC_DEPS: gssapi/gssapi.h not found (Debian: libkrb5-dev)")
endif()
add_library(grav_no_gssapi STATIC ${CMAKE_CURRENT_LIST_DIR}/GravNoGssapi.c)

# The imported targets the modules would otherwise create from the shared
# libraries. Both find modules keep a target that already exists: cppzmq's
# pkg-config fallback creates `libzmq` only if NOT TARGET libzmq, and
# pkg_check_modules creates PkgConfig::<prefix> only if it does not exist.
# Created here, in the top directory, they are what every module links.
find_path(GRAV_STATIC_ZMQ_INCLUDE_DIR zmq.h REQUIRED)
add_library(libzmq STATIC IMPORTED)
set_target_properties(libzmq PROPERTIES
  IMPORTED_LOCATION "${GRAV_STATIC_LIBZMQ}"
  INTERFACE_INCLUDE_DIRECTORIES "${GRAV_STATIC_ZMQ_INCLUDE_DIR}"
  # What libzmq.a's objects reference, dependents after what they need.
  INTERFACE_LINK_LIBRARIES "${GRAV_STATIC_LIBSODIUM};${GRAV_STATIC_LIBPGM};${GRAV_STATIC_LIBNORM};${GRAV_STATIC_PROTOKIT};${GRAV_STATIC_LIBBSD};${GRAV_STATIC_LIBMD};grav_no_gssapi;Threads::Threads;rt;m")

find_package(PkgConfig REQUIRED)
pkg_check_modules(sodium REQUIRED IMPORTED_TARGET GLOBAL libsodium)
set_target_properties(PkgConfig::sodium PROPERTIES INTERFACE_LINK_LIBRARIES "${GRAV_STATIC_LIBSODIUM}")

# Our own code in one section per function and object, so that the
# executables' --gc-sections can drop what they do not call.
add_compile_options(-ffunction-sections -fdata-sections)

message(STATUS "GRAV_STATIC_DEPS: static libzmq ${GRAV_STATIC_LIBZMQ}, fully static executables")
