/* The exported entry points: argument checks, serialisation, and the feature name table. */
#include <pthread.h>
#include <string.h>

#include "probe_internal.h"

int32_t accelsdk_probe_opencl_impl(const char* library, accelsdk_api_status* status,
                                   accelsdk_gpu_device* devices, int32_t capacity, int32_t* count);
int32_t accelsdk_probe_cuda_impl(const char* library, accelsdk_api_status* status,
                                 accelsdk_gpu_device* devices, int32_t capacity, int32_t* count);

/* The topology reader uses static buffers and drivers are not all re-entrant: one probe call at a time. */
static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;

ACCELSDK_PROBE_API int32_t accelsdk_probe_abi_version(void)
{
    return ACCELSDK_PROBE_ABI_VERSION;
}

ACCELSDK_PROBE_API int32_t accelsdk_probe_cpu_at(const char* root, accelsdk_cpu_info* info)
{
    if (info == NULL || root == NULL) return ACCELSDK_PROBE_INVALID_ARGUMENT;
    memset(info, 0, sizeof *info);
    pthread_mutex_lock(&probe_lock);
    probe_cpu_identity(info);
    probe_cpu_topology(root, info);
    pthread_mutex_unlock(&probe_lock);
    return ACCELSDK_PROBE_OK;
}

ACCELSDK_PROBE_API int32_t accelsdk_probe_cpu(accelsdk_cpu_info* info)
{
    return accelsdk_probe_cpu_at("", info);
}

ACCELSDK_PROBE_API const char* accelsdk_probe_cpu_feature_name(int32_t feature)
{
    switch (feature) {
    case ACCELSDK_CPU_SSE2: return "sse2";
    case ACCELSDK_CPU_SSE3: return "sse3";
    case ACCELSDK_CPU_SSSE3: return "ssse3";
    case ACCELSDK_CPU_SSE4_1: return "sse4_1";
    case ACCELSDK_CPU_SSE4_2: return "sse4_2";
    case ACCELSDK_CPU_POPCNT: return "popcnt";
    case ACCELSDK_CPU_AVX: return "avx";
    case ACCELSDK_CPU_F16C: return "f16c";
    case ACCELSDK_CPU_FMA: return "fma";
    case ACCELSDK_CPU_BMI1: return "bmi1";
    case ACCELSDK_CPU_BMI2: return "bmi2";
    case ACCELSDK_CPU_AVX2: return "avx2";
    case ACCELSDK_CPU_AVX_VNNI: return "avx_vnni";
    case ACCELSDK_CPU_AVX512F: return "avx512f";
    case ACCELSDK_CPU_AVX512CD: return "avx512cd";
    case ACCELSDK_CPU_AVX512BW: return "avx512bw";
    case ACCELSDK_CPU_AVX512DQ: return "avx512dq";
    case ACCELSDK_CPU_AVX512VL: return "avx512vl";
    case ACCELSDK_CPU_AVX512_IFMA: return "avx512ifma";
    case ACCELSDK_CPU_AVX512_VBMI: return "avx512vbmi";
    case ACCELSDK_CPU_AVX512_VNNI: return "avx512_vnni";
    case ACCELSDK_CPU_AVX512_BF16: return "avx512_bf16";
    case ACCELSDK_CPU_AVX512_FP16: return "avx512_fp16";
    case ACCELSDK_CPU_AMX_TILE: return "amx_tile";
    case ACCELSDK_CPU_AMX_INT8: return "amx_int8";
    case ACCELSDK_CPU_AMX_BF16: return "amx_bf16";
    case ACCELSDK_CPU_NEON: return "neon";
    case ACCELSDK_CPU_ARM_FP16: return "asimdhp";
    case ACCELSDK_CPU_ARM_DOTPROD: return "asimddp";
    case ACCELSDK_CPU_ARM_I8MM: return "i8mm";
    case ACCELSDK_CPU_ARM_BF16: return "bf16";
    case ACCELSDK_CPU_SVE: return "sve";
    case ACCELSDK_CPU_SVE2: return "sve2";
    default: return NULL;
    }
}

static int32_t check_device_args(accelsdk_api_status* status, accelsdk_gpu_device* devices, int32_t capacity, int32_t* count)
{
    if (status == NULL || count == NULL || capacity < 0 || (devices == NULL && capacity > 0))
        return ACCELSDK_PROBE_INVALID_ARGUMENT;
    return ACCELSDK_PROBE_OK;
}

ACCELSDK_PROBE_API int32_t accelsdk_probe_opencl(const char* library, accelsdk_api_status* status,
                                                 accelsdk_gpu_device* devices, int32_t capacity, int32_t* count)
{
    int32_t rc = check_device_args(status, devices, capacity, count);
    if (rc != ACCELSDK_PROBE_OK) return rc;
    pthread_mutex_lock(&probe_lock);
    rc = accelsdk_probe_opencl_impl(library, status, devices, capacity, count);
    pthread_mutex_unlock(&probe_lock);
    return rc;
}

ACCELSDK_PROBE_API int32_t accelsdk_probe_cuda(const char* library, accelsdk_api_status* status,
                                               accelsdk_gpu_device* devices, int32_t capacity, int32_t* count)
{
    int32_t rc = check_device_args(status, devices, capacity, count);
    if (rc != ACCELSDK_PROBE_OK) return rc;
    pthread_mutex_lock(&probe_lock);
    rc = accelsdk_probe_cuda_impl(library, status, devices, capacity, count);
    pthread_mutex_unlock(&probe_lock);
    return rc;
}
