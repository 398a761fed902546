/*
 * OpenCL platforms and devices through the ICD loader, opened with dlopen so that machines without OpenCL
 * still load the probe. The few OpenCL 1.2 types and enum values needed are declared here (they are part of
 * the stable Khronos ABI), which keeps the build free of OpenCL headers, also when cross-compiling.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "probe_internal.h"

typedef int32_t cl_int;
typedef uint32_t cl_uint;
typedef uint64_t cl_ulong;
typedef cl_ulong cl_bitfield;
typedef cl_bitfield cl_device_type;
typedef cl_uint cl_platform_info;
typedef cl_uint cl_device_info;
typedef struct _cl_platform_id* cl_platform_id;
typedef struct _cl_device_id* cl_device_id;

enum {
    CL_SUCCESS = 0,
    CL_DEVICE_NOT_FOUND = -1,
    CL_PLATFORM_NOT_FOUND_KHR = -1001,
    CL_PLATFORM_VERSION = 0x0901,
    CL_PLATFORM_NAME = 0x0902,
    CL_PLATFORM_VENDOR = 0x0903,
    CL_DEVICE_TYPE = 0x1000,
    CL_DEVICE_MAX_COMPUTE_UNITS = 0x1002,
    CL_DEVICE_MAX_CLOCK_FREQUENCY = 0x100C,
    CL_DEVICE_GLOBAL_MEM_SIZE = 0x101F,
    CL_DEVICE_LOCAL_MEM_SIZE = 0x1023,
    CL_DEVICE_NAME = 0x102B,
    CL_DEVICE_VENDOR = 0x102C,
    CL_DRIVER_VERSION = 0x102D,
    CL_DEVICE_VERSION = 0x102F
};
#define CL_DEVICE_TYPE_CPU (UINT64_C(1) << 1)
#define CL_DEVICE_TYPE_GPU (UINT64_C(1) << 2)
#define CL_DEVICE_TYPE_ACCELERATOR (UINT64_C(1) << 3)
#define CL_DEVICE_TYPE_ALL UINT64_C(0xFFFFFFFF)

typedef cl_int (*clGetPlatformIDs_fn)(cl_uint, cl_platform_id*, cl_uint*);
typedef cl_int (*clGetPlatformInfo_fn)(cl_platform_id, cl_platform_info, size_t, void*, size_t*);
typedef cl_int (*clGetDeviceIDs_fn)(cl_platform_id, cl_device_type, cl_uint, cl_device_id*, cl_uint*);
typedef cl_int (*clGetDeviceInfo_fn)(cl_device_id, cl_device_info, size_t, void*, size_t*);

#define MAX_PLATFORMS 16
#define MAX_DEVICES_PER_PLATFORM 64

static void device_string(clGetDeviceInfo_fn get, cl_device_id device, cl_device_info what, char* out, size_t size)
{
    char buf[512];
    if (get(device, what, sizeof buf - 1, buf, NULL) != CL_SUCCESS) buf[0] = '\0';
    buf[sizeof buf - 1] = '\0';
    probe_copy(out, size, buf);
}

static cl_ulong device_ulong(clGetDeviceInfo_fn get, cl_device_id device, cl_device_info what)
{
    cl_ulong value = 0;
    return get(device, what, sizeof value, &value, NULL) == CL_SUCCESS ? value : 0;
}

static cl_uint device_uint(clGetDeviceInfo_fn get, cl_device_id device, cl_device_info what)
{
    cl_uint value = 0;
    return get(device, what, sizeof value, &value, NULL) == CL_SUCCESS ? value : 0;
}

static int32_t map_type(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU) return ACCELSDK_DEVICE_GPU;
    if (type & CL_DEVICE_TYPE_CPU) return ACCELSDK_DEVICE_CPU;
    if (type & CL_DEVICE_TYPE_ACCELERATOR) return ACCELSDK_DEVICE_ACCELERATOR;
    return ACCELSDK_DEVICE_OTHER;
}

int32_t accelsdk_probe_opencl_impl(const char* library, accelsdk_api_status* status,
                                   accelsdk_gpu_device* devices, int32_t capacity, int32_t* count)
{
    memset(status, 0, sizeof *status);
    *count = 0;
    if (library == NULL) library = "libOpenCL.so.1";
    probe_copy(status->library, sizeof status->library, library);

    void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char* error = dlerror();
        probe_format(status->message, sizeof status->message,
                     "OpenCL ICD loader not loadable (install ocl-icd-libopencl1 and a driver such as pocl-opencl-icd): %s",
                     error != NULL ? error : library);
        return ACCELSDK_PROBE_UNAVAILABLE;
    }

    /* dlsym returns void*; converting through a union avoids the ISO C object-to-function pointer warning. */
    union { void* object; clGetPlatformIDs_fn fn; } get_platforms = { dlsym(handle, "clGetPlatformIDs") };
    union { void* object; clGetPlatformInfo_fn fn; } get_platform_info = { dlsym(handle, "clGetPlatformInfo") };
    union { void* object; clGetDeviceIDs_fn fn; } get_devices = { dlsym(handle, "clGetDeviceIDs") };
    union { void* object; clGetDeviceInfo_fn fn; } get_device_info = { dlsym(handle, "clGetDeviceInfo") };
    if (!get_platforms.object || !get_platform_info.object || !get_devices.object || !get_device_info.object) {
        probe_format(status->message, sizeof status->message, "%s lacks the OpenCL 1.2 platform/device entry points", library);
        dlclose(handle);
        return ACCELSDK_PROBE_UNAVAILABLE;
    }

    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint platform_count = 0;
    cl_int rc = get_platforms.fn(MAX_PLATFORMS, platforms, &platform_count);
    if (rc == CL_PLATFORM_NOT_FOUND_KHR || (rc == CL_SUCCESS && platform_count == 0)) {
        probe_format(status->message, sizeof status->message,
                     "the OpenCL ICD loader found no platform (no ICD under /etc/OpenCL/vendors; pocl-opencl-icd provides a CPU one)");
        dlclose(handle);
        return ACCELSDK_PROBE_UNAVAILABLE;
    }
    if (rc != CL_SUCCESS) {
        probe_format(status->message, sizeof status->message, "clGetPlatformIDs failed with %d", rc);
        dlclose(handle);
        return ACCELSDK_PROBE_API_ERROR;
    }
    if (platform_count > MAX_PLATFORMS) platform_count = MAX_PLATFORMS;
    status->version = (int32_t)platform_count;

    int32_t total = 0;
    for (cl_uint p = 0; p < platform_count; p++) {
        char platform_name[128];
        char buf[512];
        if (get_platform_info.fn(platforms[p], CL_PLATFORM_NAME, sizeof buf - 1, buf, NULL) != CL_SUCCESS) buf[0] = '\0';
        buf[sizeof buf - 1] = '\0';
        probe_copy(platform_name, sizeof platform_name, buf);

        cl_device_id ids[MAX_DEVICES_PER_PLATFORM];
        cl_uint device_count = 0;
        rc = get_devices.fn(platforms[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES_PER_PLATFORM, ids, &device_count);
        if (rc == CL_DEVICE_NOT_FOUND) continue;
        if (rc != CL_SUCCESS) continue;
        if (device_count > MAX_DEVICES_PER_PLATFORM) device_count = MAX_DEVICES_PER_PLATFORM;
        for (cl_uint d = 0; d < device_count; d++, total++) {
            if (devices == NULL || total >= capacity) continue;
            accelsdk_gpu_device* out = &devices[total];
            memset(out, 0, sizeof *out);
            out->platform_index = (int32_t)p;
            out->device_index = (int32_t)d;
            out->device_type = map_type(device_ulong(get_device_info.fn, ids[d], CL_DEVICE_TYPE));
            out->compute_units = (int32_t)device_uint(get_device_info.fn, ids[d], CL_DEVICE_MAX_COMPUTE_UNITS);
            out->max_clock_mhz = (int32_t)device_uint(get_device_info.fn, ids[d], CL_DEVICE_MAX_CLOCK_FREQUENCY);
            out->global_memory_bytes = (int64_t)device_ulong(get_device_info.fn, ids[d], CL_DEVICE_GLOBAL_MEM_SIZE);
            out->local_memory_bytes = (int64_t)device_ulong(get_device_info.fn, ids[d], CL_DEVICE_LOCAL_MEM_SIZE);
            probe_copy(out->platform, sizeof out->platform, platform_name);
            device_string(get_device_info.fn, ids[d], CL_DEVICE_VENDOR, out->vendor, sizeof out->vendor);
            device_string(get_device_info.fn, ids[d], CL_DEVICE_NAME, out->name, sizeof out->name);
            device_string(get_device_info.fn, ids[d], CL_DEVICE_VERSION, out->version, sizeof out->version);
            device_string(get_device_info.fn, ids[d], CL_DRIVER_VERSION, out->driver_version, sizeof out->driver_version);
        }
    }
    *count = total;
    status->available = 1;
    probe_format(status->message, sizeof status->message, "%u platform(s), %d device(s)", platform_count, total);
    /* The ICD loader stays loaded: unloading vendor drivers that registered atexit handlers can crash at exit. */
    return ACCELSDK_PROBE_OK;
}
