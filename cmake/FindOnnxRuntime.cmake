# Finds ONNX Runtime's C API headers and shared library inside its NuGet package (Microsoft.ML.OnnxRuntime), the
# same binaries the C# backend loads, so custom operators are built against exactly that ABI.
#
# Inputs:  OnnxRuntime_VERSION_WANTED (default 1.31.1), ACCELSDK_RID, env NUGET_PACKAGES (default ~/.nuget/packages),
#          or OnnxRuntime_ROOT pointing at an extracted package.
# Outputs: OnnxRuntime_FOUND, OnnxRuntime_INCLUDE_DIR, OnnxRuntime_LIBRARY (may be absent when cross-building for a
#          RID the package lacks) and the imported targets OnnxRuntime::Headers and OnnxRuntime::OnnxRuntime.
include(FindPackageHandleStandardArgs)

if(NOT OnnxRuntime_VERSION_WANTED)
  set(OnnxRuntime_VERSION_WANTED "1.31.1")
endif()

if(NOT OnnxRuntime_ROOT)
  if(DEFINED ENV{NUGET_PACKAGES})
    set(_ort_nuget "$ENV{NUGET_PACKAGES}")
  else()
    set(_ort_nuget "$ENV{HOME}/.nuget/packages")
  endif()
  set(OnnxRuntime_ROOT "${_ort_nuget}/microsoft.ml.onnxruntime/${OnnxRuntime_VERSION_WANTED}")
endif()

find_path(OnnxRuntime_INCLUDE_DIR onnxruntime_c_api.h
  PATHS "${OnnxRuntime_ROOT}/build/native/include"
  NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
find_library(OnnxRuntime_LIBRARY NAMES onnxruntime
  PATHS "${OnnxRuntime_ROOT}/runtimes/${ACCELSDK_RID}/native"
  NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)

find_package_handle_standard_args(OnnxRuntime
  REQUIRED_VARS OnnxRuntime_INCLUDE_DIR
  REASON_FAILURE_MESSAGE "restore the NuGet package Microsoft.ML.OnnxRuntime ${OnnxRuntime_VERSION_WANTED} (dotnet cake --target=Native does) or set OnnxRuntime_ROOT (looked in ${OnnxRuntime_ROOT})")

if(OnnxRuntime_FOUND AND NOT TARGET OnnxRuntime::Headers)
  add_library(OnnxRuntime::Headers INTERFACE IMPORTED)
  set_target_properties(OnnxRuntime::Headers PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${OnnxRuntime_INCLUDE_DIR}")
  # The package's headers are not ours to fix: keep them out of our warnings.
  set_target_properties(OnnxRuntime::Headers PROPERTIES INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${OnnxRuntime_INCLUDE_DIR}")
endif()
if(OnnxRuntime_FOUND AND OnnxRuntime_LIBRARY AND NOT TARGET OnnxRuntime::OnnxRuntime)
  # The package ships libonnxruntime.so whose SONAME is libonnxruntime.so.1, a file the package lacks: link through
  # a folder of the build tree that has both names, so test programs find it at run time through their RPATH.
  set(_ort_link_dir "${CMAKE_BINARY_DIR}/onnxruntime-${ACCELSDK_RID}")
  file(MAKE_DIRECTORY "${_ort_link_dir}")
  file(CREATE_LINK "${OnnxRuntime_LIBRARY}" "${_ort_link_dir}/libonnxruntime.so" SYMBOLIC)
  file(CREATE_LINK "${OnnxRuntime_LIBRARY}" "${_ort_link_dir}/libonnxruntime.so.1" SYMBOLIC)
  add_library(OnnxRuntime::OnnxRuntime SHARED IMPORTED)
  set_target_properties(OnnxRuntime::OnnxRuntime PROPERTIES
    IMPORTED_LOCATION "${_ort_link_dir}/libonnxruntime.so"
    INTERFACE_LINK_LIBRARIES OnnxRuntime::Headers)
endif()
mark_as_advanced(OnnxRuntime_INCLUDE_DIR OnnxRuntime_LIBRARY)
