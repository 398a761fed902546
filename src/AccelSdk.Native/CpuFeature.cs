namespace AccelSdk.Native;

/// <summary>An instruction-set feature the device probe reports; values are the bit numbers of the probe's C ABI.</summary>
public enum CpuFeature
{
    /// <summary>x86 SSE2.</summary>
    Sse2 = 0,
    /// <summary>x86 SSE3.</summary>
    Sse3 = 1,
    /// <summary>x86 SSSE3.</summary>
    Ssse3 = 2,
    /// <summary>x86 SSE4.1.</summary>
    Sse41 = 3,
    /// <summary>x86 SSE4.2.</summary>
    Sse42 = 4,
    /// <summary>x86 POPCNT.</summary>
    Popcnt = 5,
    /// <summary>x86 AVX (with OS support for the YMM state).</summary>
    Avx = 6,
    /// <summary>x86 F16C half-precision conversions.</summary>
    F16c = 7,
    /// <summary>x86 FMA3.</summary>
    Fma = 8,
    /// <summary>x86 BMI1.</summary>
    Bmi1 = 9,
    /// <summary>x86 BMI2.</summary>
    Bmi2 = 10,
    /// <summary>x86 AVX2.</summary>
    Avx2 = 11,
    /// <summary>x86 AVX-VNNI (VEX-encoded int8 dot products).</summary>
    AvxVnni = 12,
    /// <summary>x86 AVX-512 Foundation (with OS support for the ZMM state).</summary>
    Avx512F = 13,
    /// <summary>x86 AVX-512 CD.</summary>
    Avx512Cd = 14,
    /// <summary>x86 AVX-512 BW.</summary>
    Avx512Bw = 15,
    /// <summary>x86 AVX-512 DQ.</summary>
    Avx512Dq = 16,
    /// <summary>x86 AVX-512 VL.</summary>
    Avx512Vl = 17,
    /// <summary>x86 AVX-512 IFMA.</summary>
    Avx512Ifma = 18,
    /// <summary>x86 AVX-512 VBMI.</summary>
    Avx512Vbmi = 19,
    /// <summary>x86 AVX-512 VNNI.</summary>
    Avx512Vnni = 20,
    /// <summary>x86 AVX-512 BF16.</summary>
    Avx512Bf16 = 21,
    /// <summary>x86 AVX-512 FP16.</summary>
    Avx512Fp16 = 22,
    /// <summary>x86 AMX tiles.</summary>
    AmxTile = 23,
    /// <summary>x86 AMX int8.</summary>
    AmxInt8 = 24,
    /// <summary>x86 AMX bf16.</summary>
    AmxBf16 = 25,
    /// <summary>ARM Advanced SIMD (NEON).</summary>
    Neon = 32,
    /// <summary>ARM half-precision SIMD arithmetic.</summary>
    ArmFp16 = 33,
    /// <summary>ARM SDOT/UDOT int8 dot products.</summary>
    ArmDotProd = 34,
    /// <summary>ARM int8 matrix multiply.</summary>
    ArmI8mm = 35,
    /// <summary>ARM BF16.</summary>
    ArmBf16 = 36,
    /// <summary>ARM SVE.</summary>
    Sve = 37,
    /// <summary>ARM SVE2.</summary>
    Sve2 = 38,
}
