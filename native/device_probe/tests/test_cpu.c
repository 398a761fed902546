/* The probe's view of this machine against independent sources: sysconf, glibc's cache sizes, /proc/cpuinfo flags. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "accelsdk_probe.h"
#include "test_util.h"

static int has_bit(const accelsdk_cpu_info* info, int feature) { return (info->features >> feature) & 1; }

#if defined(__x86_64__)
/* True when the kernel lists `flag` in the first "flags" line of /proc/cpuinfo. */
static int kernel_flag(const char* flags, const char* flag)
{
    size_t length = strlen(flag);
    for (const char* p = strstr(flags, flag); p != NULL; p = strstr(p + 1, flag)) {
        int starts = p == flags || p[-1] == ' ' || p[-1] == '\t';
        int ends = p[length] == ' ' || p[length] == '\n' || p[length] == '\0';
        if (starts && ends) return 1;
    }
    return 0;
}

static void check_flags_against_kernel(const accelsdk_cpu_info* info)
{
    static char cpuinfo[1 << 16];
    FILE* f = fopen("/proc/cpuinfo", "r");
    CHECK(f != NULL);
    if (f == NULL) return;
    size_t n = fread(cpuinfo, 1, sizeof cpuinfo - 1, f);
    fclose(f);
    cpuinfo[n] = '\0';
    char* flags = strstr(cpuinfo, "\nflags");
    CHECK(flags != NULL);
    if (flags == NULL) return;
    char* eol = strchr(flags + 1, '\n');
    if (eol != NULL) *eol = '\0';

    /* The kernel's names for the bits; each must agree with cpuid+XCR0 as the probe reads them. */
    static const struct { int bit; const char* flag; } pairs[] = {
        { ACCELSDK_CPU_SSE2, "sse2" }, { ACCELSDK_CPU_SSSE3, "ssse3" }, { ACCELSDK_CPU_SSE4_1, "sse4_1" },
        { ACCELSDK_CPU_SSE4_2, "sse4_2" }, { ACCELSDK_CPU_POPCNT, "popcnt" }, { ACCELSDK_CPU_AVX, "avx" },
        { ACCELSDK_CPU_F16C, "f16c" }, { ACCELSDK_CPU_FMA, "fma" }, { ACCELSDK_CPU_BMI1, "bmi1" },
        { ACCELSDK_CPU_BMI2, "bmi2" }, { ACCELSDK_CPU_AVX2, "avx2" }, { ACCELSDK_CPU_AVX512F, "avx512f" },
        { ACCELSDK_CPU_AVX512CD, "avx512cd" }, { ACCELSDK_CPU_AVX512BW, "avx512bw" },
        { ACCELSDK_CPU_AVX512DQ, "avx512dq" }, { ACCELSDK_CPU_AVX512VL, "avx512vl" },
        { ACCELSDK_CPU_AVX512_IFMA, "avx512ifma" }, { ACCELSDK_CPU_AVX512_VBMI, "avx512vbmi" },
        { ACCELSDK_CPU_AVX512_VNNI, "avx512_vnni" }, { ACCELSDK_CPU_AVX512_BF16, "avx512_bf16" },
        { ACCELSDK_CPU_AVX512_FP16, "avx512_fp16" }, { ACCELSDK_CPU_AVX_VNNI, "avx_vnni" },
        { ACCELSDK_CPU_AMX_TILE, "amx_tile" }, { ACCELSDK_CPU_AMX_INT8, "amx_int8" }, { ACCELSDK_CPU_AMX_BF16, "amx_bf16" },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        int probe = has_bit(info, pairs[i].bit), kernel = kernel_flag(flags, pairs[i].flag);
        if (probe != kernel) fprintf(stderr, "feature %s: probe %d, kernel %d\n", pairs[i].flag, probe, kernel);
        CHECK(probe == kernel);
        CHECK(strcmp(accelsdk_probe_cpu_feature_name(pairs[i].bit), pairs[i].flag) == 0);
    }
}
#endif

int main(void)
{
    CHECK_EQ_LL(ACCELSDK_PROBE_ABI_VERSION, accelsdk_probe_abi_version());
    CHECK_EQ_LL(ACCELSDK_PROBE_INVALID_ARGUMENT, accelsdk_probe_cpu(NULL));
    CHECK(accelsdk_probe_cpu_feature_name(63) == NULL);

    accelsdk_cpu_info info;
    CHECK_EQ_LL(ACCELSDK_PROBE_OK, accelsdk_probe_cpu(&info));
    printf("arch=%s vendor=%s model=%s logical=%d physical=%d packages=%d numa=%d\n", info.architecture, info.vendor,
           info.model, info.logical_cores, info.physical_cores, info.packages, info.numa_nodes);
    printf("L1d=%lld L1i=%lld L2=%lld x%d L3=%lld x%d features:", (long long)info.l1d_cache_bytes,
           (long long)info.l1i_cache_bytes, (long long)info.l2_cache_bytes, info.l2_cache_instances,
           (long long)info.l3_cache_bytes, info.l3_cache_instances);
    for (int bit = 0; bit < 64; bit++)
        if (has_bit(&info, bit)) printf(" %s", accelsdk_probe_cpu_feature_name(bit));
    printf("\n");

    CHECK(info.vendor[0] != '\0');
    CHECK(info.model[0] != '\0');
    CHECK_EQ_LL(sysconf(_SC_NPROCESSORS_ONLN), info.logical_cores);
    CHECK(info.physical_cores >= 1 && info.physical_cores <= info.logical_cores);
    CHECK(info.packages >= 1 && info.packages <= info.physical_cores);
    CHECK(info.numa_nodes >= 1);
    for (int bit = 0; bit < 64; bit++)
        if (has_bit(&info, bit)) CHECK(accelsdk_probe_cpu_feature_name(bit) != NULL);

#if defined(__x86_64__)
    CHECK(strcmp(info.architecture, "x86_64") == 0);
    CHECK(has_bit(&info, ACCELSDK_CPU_SSE2)); /* part of x86-64 itself */
    check_flags_against_kernel(&info);
    /* glibc reads cache sizes from cpuid; sysfs (the probe's source) must agree where both know. */
    long l1d = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (l1d > 0) CHECK_EQ_LL(l1d, info.l1d_cache_bytes);
    if (l2 > 0) CHECK_EQ_LL(l2, info.l2_cache_bytes);
#elif defined(__aarch64__)
    CHECK(strcmp(info.architecture, "aarch64") == 0);
    CHECK(has_bit(&info, ACCELSDK_CPU_NEON)); /* Advanced SIMD is mandatory on Linux/aarch64 */
#endif
    return test_finish("probe.cpu");
}
