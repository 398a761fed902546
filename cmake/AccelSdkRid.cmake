# Maps the CMake target platform to the .NET runtime identifier (RID) whose runtimes/<rid>/native folder
# the built shims are installed into, so NuGet packs and the C# loader agree on one layout.
include_guard(GLOBAL)

if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
  message(FATAL_ERROR "AccelSdk native shims target Linux only (CMAKE_SYSTEM_NAME=${CMAKE_SYSTEM_NAME})")
endif()

string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" _accelsdk_processor)
if(_accelsdk_processor MATCHES "^(x86_64|amd64)$")
  set(ACCELSDK_RID "linux-x64")
elseif(_accelsdk_processor MATCHES "^(aarch64|arm64)$")
  set(ACCELSDK_RID "linux-arm64")
else()
  message(FATAL_ERROR "no .NET RID is known for processor '${CMAKE_SYSTEM_PROCESSOR}'")
endif()
set(ACCELSDK_RID "${ACCELSDK_RID}" CACHE STRING "the .NET runtime identifier the shims are built for" FORCE)
message(STATUS "AccelSdk: building native shims for ${ACCELSDK_RID}")
