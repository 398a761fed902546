/*
 * CUDA devices through the driver API (libcuda.so.1, shipped with the NVIDIA driver), opened with dlopen so the
 * probe never depends on CUDA at link time. The handful of driver API types and attribute numbers are declared
 * here; they are fixed by NVIDIA's ABI (cuda.h).
 */
#include <dlfcn.h>
#include <string.h>

#include "probe_internal.h"

typedef int CUresult;
typedef int CUdevice;

enum {
    CUDA_SUCCESS = 0,
    CUDA_ERROR_NO_DEVICE = 100,
    CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK = 8,
    CU_DEVICE_ATTRIBUTE_CLOCK_RATE = 13,
    CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76
};

typedef CUresult (*cuInit_fn)(unsigned int);
typedef CUresult (*cuDriverGetVersion_fn)(int*);
typedef CUresult (*cuDeviceGetCount_fn)(int*);
typedef CUresult (*cuDeviceGet_fn)(CUdevice*, int);
typedef CUresult (*cuDeviceGetName_fn)(char*, int, CUdevice);
typedef CUresult (*cuDeviceTotalMem_fn)(size_t*, CUdevice);
typedef CUresult (*cuDeviceGetAttribute_fn)(int*, int, CUdevice);
typedef CUresult (*cuGetErrorString_fn)(CUresult, const char**);

static const char* error_text(cuGetErrorString_fn describe, CUresult rc)
{
    const char* text = NULL;
    if (describe != NULL && describe(rc, &text) == CUDA_SUCCESS && text != NULL) return text;
    return "unknown CUDA error";
}

static int attribute(cuDeviceGetAttribute_fn get, int which, CUdevice device)
{
    int value = 0;
    return get(&value, which, device) == CUDA_SUCCESS ? value : 0;
}

int32_t accelsdk_probe_cuda_impl(const char* library, accelsdk_api_status* status,
                                 accelsdk_gpu_device* devices, int32_t capacity, int32_t* count)
{
    memset(status, 0, sizeof *status);
    *count = 0;
    if (library == NULL) library = "libcuda.so.1";
    probe_copy(status->library, sizeof status->library, library);

    void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char* error = dlerror();
        probe_format(status->message, sizeof status->message,
                     "CUDA driver not loadable (the NVIDIA driver provides libcuda.so.1): %s", error != NULL ? error : library);
        return ACCELSDK_PROBE_UNAVAILABLE;
    }

    union { void* object; cuInit_fn fn; } init = { dlsym(handle, "cuInit") };
    union { void* object; cuDriverGetVersion_fn fn; } driver_version = { dlsym(handle, "cuDriverGetVersion") };
    union { void* object; cuDeviceGetCount_fn fn; } device_count = { dlsym(handle, "cuDeviceGetCount") };
    union { void* object; cuDeviceGet_fn fn; } device_get = { dlsym(handle, "cuDeviceGet") };
    union { void* object; cuDeviceGetName_fn fn; } device_name = { dlsym(handle, "cuDeviceGetName") };
    union { void* object; cuDeviceTotalMem_fn fn; } total_mem = { dlsym(handle, "cuDeviceTotalMem_v2") };
    union { void* object; cuDeviceGetAttribute_fn fn; } get_attribute = { dlsym(handle, "cuDeviceGetAttribute") };
    union { void* object; cuGetErrorString_fn fn; } describe = { dlsym(handle, "cuGetErrorString") };
    if (!init.object || !driver_version.object || !device_count.object || !device_get.object || !device_name.object ||
        !total_mem.object || !get_attribute.object) {
        probe_format(status->message, sizeof status->message, "%s lacks CUDA driver API entry points", library);
        dlclose(handle);
        return ACCELSDK_PROBE_UNAVAILABLE;
    }

    CUresult rc = init.fn(0);
    if (rc != CUDA_SUCCESS) {
        probe_format(status->message, sizeof status->message, "cuInit failed with %d (%s)", rc, error_text(describe.fn, rc));
        return rc == CUDA_ERROR_NO_DEVICE ? ACCELSDK_PROBE_UNAVAILABLE : ACCELSDK_PROBE_API_ERROR;
    }
    int version = 0;
    (void)driver_version.fn(&version);
    status->version = version;

    int n = 0;
    rc = device_count.fn(&n);
    if (rc != CUDA_SUCCESS) {
        probe_format(status->message, sizeof status->message, "cuDeviceGetCount failed with %d (%s)", rc, error_text(describe.fn, rc));
        return ACCELSDK_PROBE_API_ERROR;
    }
    char driver_text[64];
    probe_format(driver_text, sizeof driver_text, "%d.%d", version / 1000, (version % 1000) / 10);
    for (int i = 0; i < n; i++) {
        if (devices == NULL || i >= capacity) continue;
        CUdevice device;
        if (device_get.fn(&device, i) != CUDA_SUCCESS) continue;
        accelsdk_gpu_device* out = &devices[i];
        memset(out, 0, sizeof *out);
        out->platform_index = 0;
        out->device_index = i;
        out->device_type = ACCELSDK_DEVICE_GPU;
        out->compute_units = attribute(get_attribute.fn, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
        out->max_clock_mhz = attribute(get_attribute.fn, CU_DEVICE_ATTRIBUTE_CLOCK_RATE, device) / 1000;
        int major = attribute(get_attribute.fn, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
        int minor = attribute(get_attribute.fn, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
        out->compute_capability = major * 10 + minor;
        out->local_memory_bytes = attribute(get_attribute.fn, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, device);
        size_t bytes = 0;
        if (total_mem.fn(&bytes, device) == CUDA_SUCCESS) out->global_memory_bytes = (int64_t)bytes;
        char name[256];
        if (device_name.fn(name, (int)sizeof name, device) != CUDA_SUCCESS) name[0] = '\0';
        name[sizeof name - 1] = '\0';
        probe_copy(out->name, sizeof out->name, name);
        probe_copy(out->platform, sizeof out->platform, "CUDA");
        probe_copy(out->vendor, sizeof out->vendor, "NVIDIA Corporation");
        probe_format(out->version, sizeof out->version, "compute capability %d.%d", major, minor);
        probe_copy(out->driver_version, sizeof out->driver_version, driver_text);
    }
    *count = n;
    status->available = 1;
    probe_format(status->message, sizeof status->message, "CUDA driver %s, %d device(s)", driver_text, n);
    return ACCELSDK_PROBE_OK;
}
