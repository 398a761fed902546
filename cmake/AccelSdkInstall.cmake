# Install rules: every shim goes to <prefix>/runtimes/<rid>/native, the layout NuGet packages and the C# loader
# (AccelSdk.Native) use, and its public headers to <prefix>/include for the binding generator.
include_guard(GLOBAL)
include(AccelSdkRid)

set(ACCELSDK_NATIVE_INSTALL_DIR "runtimes/${ACCELSDK_RID}/native")

function(accelsdk_install_shim target)
  set_target_properties(${target} PROPERTIES
    INSTALL_RPATH "$ORIGIN")
  install(TARGETS ${target}
    LIBRARY DESTINATION "${ACCELSDK_NATIVE_INSTALL_DIR}"
    RUNTIME DESTINATION "${ACCELSDK_NATIVE_INSTALL_DIR}")
  get_target_property(_headers ${target} ACCELSDK_PUBLIC_HEADERS)
  if(_headers)
    install(FILES ${_headers} DESTINATION include)
  endif()
endfunction()
