# Cross-compiles native/ for linux-arm64 with Debian's aarch64-linux-gnu toolchain
# (apt packages gcc-aarch64-linux-gnu g++-aarch64-linux-gnu, or crossbuild-essential-arm64).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(ACCELSDK_CROSS_TRIPLE aarch64-linux-gnu)
find_program(CMAKE_C_COMPILER ${ACCELSDK_CROSS_TRIPLE}-gcc)
find_program(CMAKE_CXX_COMPILER ${ACCELSDK_CROSS_TRIPLE}-g++)
if(NOT CMAKE_C_COMPILER OR NOT CMAKE_CXX_COMPILER)
  message(FATAL_ERROR "the linux-arm64 cross compiler is missing: apt-get install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu")
endif()

set(CMAKE_FIND_ROOT_PATH /usr/${ACCELSDK_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# CTest runs the arm64 test programs under qemu-user when it is installed (apt-get install qemu-user).
find_program(ACCELSDK_QEMU_AARCH64 qemu-aarch64)
if(ACCELSDK_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${ACCELSDK_QEMU_AARCH64};-L;/usr/${ACCELSDK_CROSS_TRIPLE}")
endif()
