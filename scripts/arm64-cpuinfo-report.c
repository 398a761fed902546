/* Prints what the cpuinfo library linked into the arm64 TFLite build (the static one in
   artifacts/tflite-build/linux-arm64/prefix) detects on the machine it runs on: XNNPACK's hardware configuration picks
   its arm64 micro-kernels from exactly these cpuinfo_has_arm_* answers. scripts/test-arm64-qemu.sh cross-compiles it
   and runs it under qemu-user, to state which arm64 features XNNPACK sees under emulation. Exit status 1 when cpuinfo
   cannot initialize (XNNPACK then refuses to start). */
#include <stdio.h>
#include <cpuinfo.h>

int main(void) {
  if (!cpuinfo_initialize()) {
    printf("cpuinfo: initialization failed\n");
    return 1;
  }
  const struct cpuinfo_core* core = cpuinfo_get_core(0);
  printf("cpuinfo: %u processors, core 0 vendor %d uarch 0x%x, midr 0x%08x\n", cpuinfo_get_processors_count(),
         (int)core->vendor, (unsigned)core->uarch, (unsigned)core->midr);
  const struct { const char* name; bool has; } features[] = {
      {"neon", cpuinfo_has_arm_neon()},          {"neon_fma", cpuinfo_has_arm_neon_fma()},
      {"neon_fp16", cpuinfo_has_arm_neon_fp16()}, {"fp16_arith", cpuinfo_has_arm_fp16_arith()},
      {"neon_fp16_arith", cpuinfo_has_arm_neon_fp16_arith()}, {"neon_rdm", cpuinfo_has_arm_neon_rdm()},
      {"neon_dot", cpuinfo_has_arm_neon_dot()},   {"fhm", cpuinfo_has_arm_fhm()},
      {"i8mm", cpuinfo_has_arm_i8mm()},           {"bf16", cpuinfo_has_arm_bf16()},
      {"neon_bf16", cpuinfo_has_arm_neon_bf16()}, {"sve", cpuinfo_has_arm_sve()},
      {"sve2", cpuinfo_has_arm_sve2()},           {"sve_bf16", cpuinfo_has_arm_sve_bf16()},
      {"sme", cpuinfo_has_arm_sme()},             {"sme2", cpuinfo_has_arm_sme2()},
      {"atomics", cpuinfo_has_arm_atomics()},     {"crc32", cpuinfo_has_arm_crc32()},
  };
  printf("cpuinfo: arm64 features:");
  for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
    if (features[i].has) printf(" %s", features[i].name);
  }
  printf("\ncpuinfo: absent:");
  for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
    if (!features[i].has) printf(" %s", features[i].name);
  }
  printf("\n");
  return 0;
}
