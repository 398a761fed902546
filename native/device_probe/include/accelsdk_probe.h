/*
 * AccelSdk device probe: a C ABI that tells what this machine can compute with.
 * CPU facts come from cpuid (x86) or getauxval (arm64) plus /proc and sysfs; OpenCL and CUDA are opened with
 * dlopen at call time, so the library has no link-time dependency on either.
 *
 * Every string field is NUL-terminated UTF-8 and truncated to its buffer. Every function is thread-safe and
 * returns ACCELSDK_PROBE_OK or a negative accelsdk_probe_status.
 * The C# P/Invoke declarations are generated from this header by tools/AccelSdk.BindingGen.
 */
#ifndef ACCELSDK_PROBE_H
#define ACCELSDK_PROBE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(ACCELSDK_PROBE_BUILD)
#define ACCELSDK_PROBE_API __attribute__((visibility("default")))
#else
#define ACCELSDK_PROBE_API
#endif

/* Bumped whenever a struct layout or a signature below changes. */
#define ACCELSDK_PROBE_ABI_VERSION 1

typedef enum accelsdk_probe_status {
    ACCELSDK_PROBE_OK = 0,
    ACCELSDK_PROBE_INVALID_ARGUMENT = -1,
    /* The API's library could not be loaded or initialised; accelsdk_api_status.message says why. */
    ACCELSDK_PROBE_UNAVAILABLE = -2,
    /* The library loaded but a call into it failed; accelsdk_api_status.message names the call and its code. */
    ACCELSDK_PROBE_API_ERROR = -3
} accelsdk_probe_status;

/* Bits of accelsdk_cpu_info.features. x86 bits are set only when the OS also saves the register state (XCR0). */
typedef enum accelsdk_cpu_feature {
    ACCELSDK_CPU_SSE2 = 0,
    ACCELSDK_CPU_SSE3 = 1,
    ACCELSDK_CPU_SSSE3 = 2,
    ACCELSDK_CPU_SSE4_1 = 3,
    ACCELSDK_CPU_SSE4_2 = 4,
    ACCELSDK_CPU_POPCNT = 5,
    ACCELSDK_CPU_AVX = 6,
    ACCELSDK_CPU_F16C = 7,
    ACCELSDK_CPU_FMA = 8,
    ACCELSDK_CPU_BMI1 = 9,
    ACCELSDK_CPU_BMI2 = 10,
    ACCELSDK_CPU_AVX2 = 11,
    ACCELSDK_CPU_AVX_VNNI = 12,
    ACCELSDK_CPU_AVX512F = 13,
    ACCELSDK_CPU_AVX512CD = 14,
    ACCELSDK_CPU_AVX512BW = 15,
    ACCELSDK_CPU_AVX512DQ = 16,
    ACCELSDK_CPU_AVX512VL = 17,
    ACCELSDK_CPU_AVX512_IFMA = 18,
    ACCELSDK_CPU_AVX512_VBMI = 19,
    ACCELSDK_CPU_AVX512_VNNI = 20,
    ACCELSDK_CPU_AVX512_BF16 = 21,
    ACCELSDK_CPU_AVX512_FP16 = 22,
    ACCELSDK_CPU_AMX_TILE = 23,
    ACCELSDK_CPU_AMX_INT8 = 24,
    ACCELSDK_CPU_AMX_BF16 = 25,
    ACCELSDK_CPU_NEON = 32,
    ACCELSDK_CPU_ARM_FP16 = 33,
    ACCELSDK_CPU_ARM_DOTPROD = 34,
    ACCELSDK_CPU_ARM_I8MM = 35,
    ACCELSDK_CPU_ARM_BF16 = 36,
    ACCELSDK_CPU_SVE = 37,
    ACCELSDK_CPU_SVE2 = 38
} accelsdk_cpu_feature;

typedef struct accelsdk_cpu_info {
    char architecture[16];   /* "x86_64" or "aarch64" */
    char vendor[64];         /* cpuid vendor ("GenuineIntel", "AuthenticAMD") or the ARM implementer's name */
    char model[128];         /* brand string or /proc/cpuinfo "model name"; ARM: "implementer 0x41 part 0xd0c" */
    uint64_t features;       /* bit (1 << accelsdk_cpu_feature) per feature */
    int32_t logical_cores;   /* online logical processors */
    int32_t physical_cores;  /* distinct (package, core) pairs; equals logical_cores without SMT */
    int32_t packages;        /* sockets */
    int32_t numa_nodes;      /* online NUMA nodes; 1 when the kernel exposes none */
    int64_t l1d_cache_bytes; /* per instance, as seen by cpu0; 0 when unknown */
    int64_t l1i_cache_bytes;
    int64_t l2_cache_bytes;
    int64_t l3_cache_bytes;
    int32_t l2_cache_instances; /* how many distinct L2 caches serve the online cpus */
    int32_t l3_cache_instances;
} accelsdk_cpu_info;

/* What happened when the probe opened an accelerator API. */
typedef struct accelsdk_api_status {
    int32_t available;        /* 1 when the library loaded and initialised */
    int32_t version;          /* CUDA: cuDriverGetVersion (12040 = 12.4); OpenCL: number of platforms */
    char library[256];        /* the library name or path that was opened (or tried) */
    char message[512];        /* why it is unavailable, or a summary when available */
} accelsdk_api_status;

typedef enum accelsdk_device_type {
    ACCELSDK_DEVICE_OTHER = 0,
    ACCELSDK_DEVICE_CPU = 1,
    ACCELSDK_DEVICE_GPU = 2,
    ACCELSDK_DEVICE_ACCELERATOR = 3
} accelsdk_device_type;

/* One OpenCL or CUDA device. */
typedef struct accelsdk_gpu_device {
    int32_t platform_index;     /* OpenCL platform index; 0 for CUDA */
    int32_t device_index;       /* index within the platform (CUDA ordinal) */
    int32_t device_type;        /* accelsdk_device_type */
    int32_t compute_units;      /* OpenCL compute units / CUDA multiprocessors */
    int32_t max_clock_mhz;
    int32_t compute_capability; /* CUDA major*10+minor; 0 for OpenCL */
    int64_t global_memory_bytes;
    int64_t local_memory_bytes; /* OpenCL local memory / CUDA shared memory per block */
    char platform[128];         /* OpenCL platform name; "CUDA" */
    char vendor[128];
    char name[256];
    char version[128];          /* OpenCL device version; CUDA "compute capability X.Y" */
    char driver_version[64];
} accelsdk_gpu_device;

/* The ACCELSDK_PROBE_ABI_VERSION the library was built with; callers refuse a mismatch. */
ACCELSDK_PROBE_API int32_t accelsdk_probe_abi_version(void);

/* Fills *info for this machine. */
ACCELSDK_PROBE_API int32_t accelsdk_probe_cpu(accelsdk_cpu_info* info);

/*
 * Like accelsdk_probe_cpu but reads topology, caches and NUMA from another root instead of "/"
 * (a directory holding sys/devices/system/... and proc/cpuinfo); ISA features still come from the running CPU.
 * Exists so tests can feed recorded trees of other machines.
 */
ACCELSDK_PROBE_API int32_t accelsdk_probe_cpu_at(const char* root, accelsdk_cpu_info* info);

/* Name of a feature bit ("avx2", "neon"), or NULL for an unknown bit. The string is static. */
ACCELSDK_PROBE_API const char* accelsdk_probe_cpu_feature_name(int32_t feature);

/*
 * Enumerates OpenCL platforms and devices through the ICD loader. library: NULL for "libOpenCL.so.1".
 * Writes at most `capacity` devices and sets *count to the total found (which may exceed capacity).
 * status is always filled. Returns ACCELSDK_PROBE_UNAVAILABLE when the loader is absent or has no platform.
 */
ACCELSDK_PROBE_API int32_t accelsdk_probe_opencl(const char* library, accelsdk_api_status* status,
                                                 accelsdk_gpu_device* devices, int32_t capacity, int32_t* count);

/*
 * Enumerates CUDA devices through the driver API. library: NULL for "libcuda.so.1".
 * Same contract as accelsdk_probe_opencl.
 */
ACCELSDK_PROBE_API int32_t accelsdk_probe_cuda(const char* library, accelsdk_api_status* status,
                                               accelsdk_gpu_device* devices, int32_t capacity, int32_t* count);

#ifdef __cplusplus
}
#endif

#endif
