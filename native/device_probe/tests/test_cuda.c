/*
 * CUDA through the real driver library when there is one (GPU machines); elsewhere the probe must report the
 * driver unavailable with dlopen's reason, never fail to load or crash.
 */
#include <string.h>

#include "accelsdk_probe.h"
#include "test_util.h"

int main(void)
{
    accelsdk_api_status status;
    accelsdk_gpu_device devices[16];
    int32_t count = -1;

    CHECK_EQ_LL(ACCELSDK_PROBE_UNAVAILABLE, accelsdk_probe_cuda("libaccelsdk-no-such-cuda.so", &status, devices, 16, &count));
    CHECK_EQ_LL(0, status.available);
    CHECK_EQ_LL(0, count);
    CHECK(strstr(status.message, "libaccelsdk-no-such-cuda.so") != NULL);

    CHECK_EQ_LL(ACCELSDK_PROBE_UNAVAILABLE, accelsdk_probe_cuda("libm.so.6", &status, devices, 16, &count));
    CHECK(strstr(status.message, "lacks CUDA driver API") != NULL);

    int32_t rc = accelsdk_probe_cuda(NULL, &status, devices, 16, &count);
    printf("cuda: rc=%d available=%d version=%d library=%s message=%s\n", rc, status.available, status.version,
           status.library, status.message);
    CHECK(rc == ACCELSDK_PROBE_OK || rc == ACCELSDK_PROBE_UNAVAILABLE);
    CHECK(strcmp(status.library, "libcuda.so.1") == 0);
    if (rc == ACCELSDK_PROBE_OK) {
        CHECK_EQ_LL(1, status.available);
        CHECK(status.version >= 1000);
        for (int i = 0; i < count && i < 16; i++) {
            const accelsdk_gpu_device* d = &devices[i];
            printf("  [%d] %s | %s | sm=%d clock=%dMHz mem=%lld shared=%lld | driver %s\n", d->device_index, d->name,
                   d->version, d->compute_units, d->max_clock_mhz, (long long)d->global_memory_bytes,
                   (long long)d->local_memory_bytes, d->driver_version);
            CHECK(d->name[0] != '\0');
            CHECK(d->compute_capability >= 30);
            CHECK(d->compute_units >= 1);
            CHECK(d->global_memory_bytes > 0);
            CHECK(d->local_memory_bytes >= 16 * 1024);
        }
    } else {
        CHECK_EQ_LL(0, status.available);
        CHECK(status.message[0] != '\0');
    }
    return test_finish("probe.cuda");
}
