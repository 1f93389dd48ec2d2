# cmake --install: headers, the library, a CMake package (find_package(libipc))
# and a pkg-config file (pkg-config --cflags --libs libipc).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS ipc EXPORT libipcTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY libipc/include/ipc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The docs, laid out as in the source tree (README.md beside docs/), so that
# the README's links and the doc paths the headers cite ("docs/channels.md")
# hold in share/doc/libipc/ too. tests/install checks every cited path.
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs
        FILES_MATCHING PATTERN "*.md" PATTERN "*.png")
install(EXPORT libipcTargets NAMESPACE libipc:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/libipc)

configure_package_config_file(cmake/libipcConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/libipcConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/libipc)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/libipcConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/libipcConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/libipcConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/libipc)

# The .pc file locates the prefix relative to itself, so it stays right
# wherever `cmake --install --prefix` puts the tree.
file(RELATIVE_PATH IPC_PC_TO_PREFIX
  /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
configure_file(cmake/libipc.pc.in ${CMAKE_CURRENT_BINARY_DIR}/libipc.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/libipc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# ipcd's systemd units (with ExecStart at the installed binary), and the
# sysusers.d/tmpfiles.d entries that create its user and /run/ipcd. The
# service is filled in at install time, so that ExecStart= and
# Documentation= follow `cmake --install --prefix`.
if(TARGET ipcd)
  foreach(dir BINDIR DOCDIR)
    if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
      set(ipcd_unit_${dir} "${CMAKE_INSTALL_${dir}}")
    else()
      set(ipcd_unit_${dir} "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_${dir}}")
    endif()
  endforeach()
  install(CODE "
    set(CMAKE_INSTALL_FULL_BINDIR \"${ipcd_unit_BINDIR}\")
    set(CMAKE_INSTALL_FULL_DOCDIR \"${ipcd_unit_DOCDIR}/docs\")  # Documentation=: docs/ipcd.md
    configure_file(\"${PROJECT_SOURCE_DIR}/systemd/ipcd.service.in\"
                   \"${CMAKE_CURRENT_BINARY_DIR}/systemd/ipcd.service\" @ONLY)")
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/systemd/ipcd.service systemd/ipcd.socket
          DESTINATION lib/systemd/system)
  install(FILES systemd/ipcd.sysusers DESTINATION lib/sysusers.d RENAME ipcd.conf)
  install(FILES systemd/ipcd.tmpfiles DESTINATION lib/tmpfiles.d RENAME ipcd.conf)
endif()
