/*
 * Topology parsing against recorded sysfs trees: a two-socket SMT machine with two NUMA nodes, and an empty root
 * (a container without sysfs), so core/cache/NUMA arithmetic is checked beyond the one machine CI runs on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accelsdk_probe.h"
#include "test_util.h"

static void make_dirs(const char* path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char* p = buf + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) perror(buf);
            *p = '/';
        }
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) perror(buf);
}

static void write_file(const char* root, const char* relative, const char* text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s%s", root, relative);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    make_dirs(dir);
    FILE* f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

/* 2 packages x 2 cores x 2 threads; cpus 0-3 on package 0, 4-7 on package 1; SMT siblings share a core id. */
static void write_two_socket_machine(const char* root)
{
    write_file(root, "/sys/devices/system/cpu/online", "0-7\n");
    write_file(root, "/sys/devices/system/node/online", "0-1\n");
    write_file(root, "/proc/cpuinfo",
               "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Fixture Xeon 8480\nflags\t\t: fpu sse2\n\n");
    for (int cpu = 0; cpu < 8; cpu++) {
        char path[256], value[64];
        int package = cpu / 4, core = (cpu % 4) / 2;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
        snprintf(value, sizeof value, "%d\n", package);
        write_file(root, path, value);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
        snprintf(value, sizeof value, "%d\n", core);
        write_file(root, path, value);

        static const struct { int level; const char* type; const char* size; } caches[] = {
            { 1, "Data", "48K" }, { 1, "Instruction", "32K" }, { 2, "Unified", "2048K" }, { 3, "Unified", "105M" } };
        for (int index = 0; index < 4; index++) {
            char shared[64];
            int first_sibling = cpu - cpu % 2;
            if (caches[index].level < 3) snprintf(shared, sizeof shared, "%d-%d\n", first_sibling, first_sibling + 1);
            else snprintf(shared, sizeof shared, "%d-%d\n", package * 4, package * 4 + 3);
            snprintf(value, sizeof value, "%d\n", caches[index].level);
            snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cache/index%d/level", cpu, index);
            write_file(root, path, value);
            snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cache/index%d/type", cpu, index);
            write_file(root, path, caches[index].type);
            snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cache/index%d/size", cpu, index);
            write_file(root, path, caches[index].size);
            snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cache/index%d/shared_cpu_list", cpu, index);
            write_file(root, path, shared);
        }
    }
}

int main(void)
{
    char root[] = "/tmp/accelsdk-probe-fixture-XXXXXX";
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 2;
    }

    write_two_socket_machine(root);
    accelsdk_cpu_info info;
    CHECK_EQ_LL(ACCELSDK_PROBE_OK, accelsdk_probe_cpu_at(root, &info));
    CHECK_EQ_LL(8, info.logical_cores);
    CHECK_EQ_LL(4, info.physical_cores);
    CHECK_EQ_LL(2, info.packages);
    CHECK_EQ_LL(2, info.numa_nodes);
    CHECK_EQ_LL(48 * 1024, info.l1d_cache_bytes);
    CHECK_EQ_LL(32 * 1024, info.l1i_cache_bytes);
    CHECK_EQ_LL(2048 * 1024, info.l2_cache_bytes);
    CHECK_EQ_LL(105LL * 1024 * 1024, info.l3_cache_bytes);
    CHECK_EQ_LL(4, info.l2_cache_instances);
    CHECK_EQ_LL(2, info.l3_cache_instances);
#if defined(__aarch64__)
    /* No cpuid on arm: vendor and model come from the fixture's /proc/cpuinfo. */
    CHECK(strcmp(info.vendor, "GenuineIntel") == 0);
    CHECK(strcmp(info.model, "Fixture Xeon 8480") == 0);
#endif

    /* An online list with holes ("0,2-3") counts three cpus. */
    write_file(root, "/sys/devices/system/cpu/online", "0,2-3\n");
    CHECK_EQ_LL(ACCELSDK_PROBE_OK, accelsdk_probe_cpu_at(root, &info));
    CHECK_EQ_LL(3, info.logical_cores);
    CHECK_EQ_LL(2, info.physical_cores); /* cpu0 -> core 0, cpu2 and cpu3 -> core 1 (siblings) */

    /* A root with no sysfs and an ARM-style cpuinfo. */
    char empty[] = "/tmp/accelsdk-probe-empty-XXXXXX";
    if (mkdtemp(empty) == NULL) return 2;
    write_file(empty, "/proc/cpuinfo",
               "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n\nprocessor\t: 1\nCPU implementer\t: 0x41\n\n");
    CHECK_EQ_LL(ACCELSDK_PROBE_OK, accelsdk_probe_cpu_at(empty, &info));
    CHECK_EQ_LL(2, info.logical_cores);
    CHECK_EQ_LL(2, info.physical_cores);
    CHECK_EQ_LL(1, info.packages);
    CHECK_EQ_LL(1, info.numa_nodes);
    CHECK_EQ_LL(0, info.l2_cache_bytes);
    CHECK_EQ_LL(0, info.l3_cache_instances);
#if defined(__aarch64__)
    CHECK(strcmp(info.vendor, "ARM") == 0);
    CHECK(strcmp(info.model, "implementer 0x41 part 0xd0c") == 0);
#endif

    CHECK_EQ_LL(ACCELSDK_PROBE_INVALID_ARGUMENT, accelsdk_probe_cpu_at(NULL, &info));

    char command[512];
    snprintf(command, sizeof command, "rm -rf '%s' '%s'", root, empty);
    if (system(command) != 0) fprintf(stderr, "could not remove %s\n", root);
    return test_finish("probe.cpu_fixture");
}
