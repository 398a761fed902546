/*
 * OpenCL through the real ICD loader. Where an ICD is registered (PoCL from scripts/setup-native.sh on CI), the
 * probe must list its devices; a loader that cannot be opened must yield UNAVAILABLE naming the library.
 */
#include <string.h>
#include <unistd.h>

#include "accelsdk_probe.h"
#include "test_util.h"

int main(void)
{
    accelsdk_api_status status;
    accelsdk_gpu_device devices[16];
    int32_t count = -1;

    /* A loader that does not exist. */
    CHECK_EQ_LL(ACCELSDK_PROBE_UNAVAILABLE,
                accelsdk_probe_opencl("libaccelsdk-no-such-opencl.so", &status, devices, 16, &count));
    CHECK_EQ_LL(0, status.available);
    CHECK_EQ_LL(0, count);
    CHECK(strcmp(status.library, "libaccelsdk-no-such-opencl.so") == 0);
    CHECK(strstr(status.message, "libaccelsdk-no-such-opencl.so") != NULL);

    /* A library that loads but is not OpenCL (libm exists everywhere glibc does). */
    CHECK_EQ_LL(ACCELSDK_PROBE_UNAVAILABLE, accelsdk_probe_opencl("libm.so.6", &status, devices, 16, &count));
    CHECK(strstr(status.message, "lacks the OpenCL") != NULL);

    CHECK_EQ_LL(ACCELSDK_PROBE_INVALID_ARGUMENT, accelsdk_probe_opencl(NULL, NULL, devices, 16, &count));
    CHECK_EQ_LL(ACCELSDK_PROBE_INVALID_ARGUMENT, accelsdk_probe_opencl(NULL, &status, NULL, 4, &count));

    int32_t rc = accelsdk_probe_opencl(NULL, &status, devices, 16, &count);
    printf("opencl: rc=%d available=%d platforms=%d library=%s message=%s\n", rc, status.available, status.version,
           status.library, status.message);
    int expect_pocl = access("/etc/OpenCL/vendors/pocl.icd", R_OK) == 0 && access("/usr/lib/x86_64-linux-gnu/libOpenCL.so.1", R_OK) == 0;
#if !defined(__x86_64__)
    expect_pocl = 0;
#endif
    if (expect_pocl) {
        CHECK_EQ_LL(ACCELSDK_PROBE_OK, rc);
        CHECK(count >= 1);
        int pocl_cpu = 0;
        for (int i = 0; i < count && i < 16; i++) {
            const accelsdk_gpu_device* d = &devices[i];
            printf("  [%d.%d] %s | %s | %s | type=%d cu=%d clock=%dMHz mem=%lld local=%lld | %s | driver %s\n",
                   d->platform_index, d->device_index, d->platform, d->vendor, d->name, d->device_type,
                   d->compute_units, d->max_clock_mhz, (long long)d->global_memory_bytes,
                   (long long)d->local_memory_bytes, d->version, d->driver_version);
            CHECK(d->name[0] != '\0');
            CHECK(strncmp(d->version, "OpenCL ", 7) == 0);
            CHECK(d->compute_units >= 1);
            CHECK(d->global_memory_bytes > 0);
            if (strstr(d->platform, "Portable Computing Language") != NULL && d->device_type == ACCELSDK_DEVICE_CPU)
                pocl_cpu = 1;
        }
        CHECK(pocl_cpu);

        /* Asking for the count only. */
        int32_t total = -1;
        CHECK_EQ_LL(ACCELSDK_PROBE_OK, accelsdk_probe_opencl(NULL, &status, NULL, 0, &total));
        CHECK_EQ_LL(count, total);
    } else {
        CHECK(rc == ACCELSDK_PROBE_OK || rc == ACCELSDK_PROBE_UNAVAILABLE);
        if (rc == ACCELSDK_PROBE_UNAVAILABLE) CHECK(status.message[0] != '\0');
    }
    return test_finish("probe.opencl");
}
