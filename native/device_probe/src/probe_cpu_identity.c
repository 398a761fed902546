/* ISA identity of the running CPU: cpuid + XCR0 on x86-64, auxiliary vector hwcaps on aarch64. */
#include <string.h>

#include "probe_internal.h"

#define FEATURE(bit) (UINT64_C(1) << (bit))

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t read_xcr0(void)
{
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

void probe_cpu_identity(accelsdk_cpu_info* info)
{
    probe_copy(info->architecture, sizeof info->architecture, "x86_64");
    unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
    unsigned int max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf == 0) return;

    __cpuid(0, eax, ebx, ecx, edx);
    char vendor[13];
    memcpy(vendor + 0, &ebx, 4);
    memcpy(vendor + 4, &edx, 4);
    memcpy(vendor + 8, &ecx, 4);
    vendor[12] = '\0';
    probe_copy(info->vendor, sizeof info->vendor, vendor);

    if (__get_cpuid_max(0x80000000u, NULL) >= 0x80000004u) {
        unsigned int brand[12];
        for (unsigned int i = 0; i < 3; i++)
            __cpuid(0x80000002u + i, brand[i * 4 + 0], brand[i * 4 + 1], brand[i * 4 + 2], brand[i * 4 + 3]);
        char text[49];
        memcpy(text, brand, 48);
        text[48] = '\0';
        probe_copy(info->model, sizeof info->model, text);
    }

    uint64_t f = 0;
    __cpuid(1, eax, ebx, ecx, edx);
    if (edx & (1u << 26)) f |= FEATURE(ACCELSDK_CPU_SSE2);
    if (ecx & (1u << 0)) f |= FEATURE(ACCELSDK_CPU_SSE3);
    if (ecx & (1u << 9)) f |= FEATURE(ACCELSDK_CPU_SSSE3);
    if (ecx & (1u << 19)) f |= FEATURE(ACCELSDK_CPU_SSE4_1);
    if (ecx & (1u << 20)) f |= FEATURE(ACCELSDK_CPU_SSE4_2);
    if (ecx & (1u << 23)) f |= FEATURE(ACCELSDK_CPU_POPCNT);

    /* AVX-family registers are usable only when the OS saves them: OSXSAVE set and the XCR0 state bits on. */
    int osxsave = (ecx & (1u << 27)) != 0;
    uint64_t xcr0 = osxsave ? read_xcr0() : 0;
    int os_avx = (xcr0 & 0x6) == 0x6;
    int os_avx512 = os_avx && (xcr0 & 0xE0) == 0xE0;
    int os_amx = (xcr0 & 0x60000) == 0x60000;

    if (os_avx) {
        if (ecx & (1u << 28)) f |= FEATURE(ACCELSDK_CPU_AVX);
        if (ecx & (1u << 29)) f |= FEATURE(ACCELSDK_CPU_F16C);
        if (ecx & (1u << 12)) f |= FEATURE(ACCELSDK_CPU_FMA);
    }

    if (max_leaf >= 7) {
        __cpuid_count(7, 0, eax, ebx, ecx, edx);
        unsigned int max_subleaf = eax;
        if (ebx & (1u << 3)) f |= FEATURE(ACCELSDK_CPU_BMI1);
        if (ebx & (1u << 8)) f |= FEATURE(ACCELSDK_CPU_BMI2);
        if (os_avx && (ebx & (1u << 5))) f |= FEATURE(ACCELSDK_CPU_AVX2);
        if (os_avx512) {
            if (ebx & (1u << 16)) f |= FEATURE(ACCELSDK_CPU_AVX512F);
            if (ebx & (1u << 17)) f |= FEATURE(ACCELSDK_CPU_AVX512DQ);
            if (ebx & (1u << 21)) f |= FEATURE(ACCELSDK_CPU_AVX512_IFMA);
            if (ebx & (1u << 28)) f |= FEATURE(ACCELSDK_CPU_AVX512CD);
            if (ebx & (1u << 30)) f |= FEATURE(ACCELSDK_CPU_AVX512BW);
            if (ebx & (1u << 31)) f |= FEATURE(ACCELSDK_CPU_AVX512VL);
            if (ecx & (1u << 1)) f |= FEATURE(ACCELSDK_CPU_AVX512_VBMI);
            if (ecx & (1u << 11)) f |= FEATURE(ACCELSDK_CPU_AVX512_VNNI);
            if (edx & (1u << 23)) f |= FEATURE(ACCELSDK_CPU_AVX512_FP16);
        }
        if (os_amx) {
            if (edx & (1u << 22)) f |= FEATURE(ACCELSDK_CPU_AMX_BF16);
            if (edx & (1u << 24)) f |= FEATURE(ACCELSDK_CPU_AMX_TILE);
            if (edx & (1u << 25)) f |= FEATURE(ACCELSDK_CPU_AMX_INT8);
        }
        if (max_subleaf >= 1) {
            __cpuid_count(7, 1, eax, ebx, ecx, edx);
            if (os_avx && (eax & (1u << 4))) f |= FEATURE(ACCELSDK_CPU_AVX_VNNI);
            if (os_avx512 && (eax & (1u << 5))) f |= FEATURE(ACCELSDK_CPU_AVX512_BF16);
        }
    }
    info->features = f;
}

#elif defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>

#ifndef HWCAP2_SVE2
#define HWCAP2_SVE2 (1 << 1)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)
#endif
#ifndef HWCAP2_BF16
#define HWCAP2_BF16 (1 << 14)
#endif

void probe_cpu_identity(accelsdk_cpu_info* info)
{
    probe_copy(info->architecture, sizeof info->architecture, "aarch64");
    unsigned long hwcap = getauxval(AT_HWCAP);
    unsigned long hwcap2 = getauxval(AT_HWCAP2);
    uint64_t f = 0;
    if (hwcap & HWCAP_ASIMD) f |= FEATURE(ACCELSDK_CPU_NEON);
    if (hwcap & HWCAP_ASIMDHP) f |= FEATURE(ACCELSDK_CPU_ARM_FP16);
    if (hwcap & HWCAP_ASIMDDP) f |= FEATURE(ACCELSDK_CPU_ARM_DOTPROD);
    if (hwcap & HWCAP_SVE) f |= FEATURE(ACCELSDK_CPU_SVE);
    if (hwcap2 & HWCAP2_SVE2) f |= FEATURE(ACCELSDK_CPU_SVE2);
    if (hwcap2 & HWCAP2_I8MM) f |= FEATURE(ACCELSDK_CPU_ARM_I8MM);
    if (hwcap2 & HWCAP2_BF16) f |= FEATURE(ACCELSDK_CPU_ARM_BF16);
    info->features = f;
    /* Vendor and model come from /proc/cpuinfo's implementer and part (probe_cpu_topology). */
}

#else
#error "the device probe supports x86-64 and aarch64"
#endif
