# Finds the TensorFlow Lite C API (tensorflow/lite/c/c_api.h and libtensorflowlite_c.so) that
# scripts/setup-tflite.sh installs; shims that wrap TFLite use the imported target TFLite::C.
#
# Inputs:  TFLite_ROOT (or env TFLITE_ROOT) pointing at a prefix with include/ and lib/, else the system paths
#          and the repository's .tools/tflite folder.
# Outputs: TFLite_FOUND, TFLite_INCLUDE_DIR, TFLite_LIBRARY, imported target TFLite::C.
include(FindPackageHandleStandardArgs)

if(NOT TFLite_ROOT AND DEFINED ENV{TFLITE_ROOT})
  set(TFLite_ROOT "$ENV{TFLITE_ROOT}")
endif()
get_filename_component(_tflite_repo_tools "${CMAKE_CURRENT_LIST_DIR}/../.tools/tflite" ABSOLUTE)

find_path(TFLite_INCLUDE_DIR tensorflow/lite/c/c_api.h
  HINTS ${TFLite_ROOT} "${_tflite_repo_tools}" PATH_SUFFIXES include)
find_library(TFLite_LIBRARY NAMES tensorflowlite_c tensorflow-lite
  HINTS ${TFLite_ROOT} "${_tflite_repo_tools}" PATH_SUFFIXES lib lib64 "lib/${CMAKE_LIBRARY_ARCHITECTURE}")

find_package_handle_standard_args(TFLite
  REQUIRED_VARS TFLite_LIBRARY TFLite_INCLUDE_DIR
  REASON_FAILURE_MESSAGE "run scripts/setup-tflite.sh (dotnet cake --target=Setup does) or set TFLite_ROOT")

if(TFLite_FOUND AND NOT TARGET TFLite::C)
  add_library(TFLite::C SHARED IMPORTED)
  set_target_properties(TFLite::C PROPERTIES
    IMPORTED_LOCATION "${TFLite_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${TFLite_INCLUDE_DIR}"
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${TFLite_INCLUDE_DIR}")
endif()
mark_as_advanced(TFLite_INCLUDE_DIR TFLite_LIBRARY)
