# Shared compiler settings for every AccelSdk shim: strict warnings treated as errors, hidden symbols by default
# (only ACCELSDK_API functions are exported), position-independent code and no undefined symbols at link time,
# so a missing dependency fails the build rather than the first P/Invoke call.
include_guard(GLOBAL)

set(CMAKE_C_STANDARD 11)
set(CMAKE_C_STANDARD_REQUIRED ON)
set(CMAKE_C_EXTENSIONS ON)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
set(CMAKE_C_VISIBILITY_PRESET hidden)
set(CMAKE_CXX_VISIBILITY_PRESET hidden)
set(CMAKE_VISIBILITY_INLINES_HIDDEN ON)

option(ACCELSDK_WARNINGS_AS_ERRORS "treat compiler warnings as errors" ON)

# Applies the warning set and link hardening to one target.
function(accelsdk_target_defaults target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Wformat=2 -Wundef)
  if(ACCELSDK_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  get_target_property(_type ${target} TYPE)
  if(_type STREQUAL "SHARED_LIBRARY" OR _type STREQUAL "MODULE_LIBRARY")
    target_link_options(${target} PRIVATE -Wl,--no-undefined -Wl,-z,relro,-z,now)
  endif()
endfunction()
