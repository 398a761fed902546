/* Cores, packages, NUMA nodes and caches from Linux sysfs, with /proc/cpuinfo as the fallback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_internal.h"

#define MAX_CPUS 4096

/* Parses a kernel cpulist ("0-3,8,10-11") into a membership array; returns the number of members. */
static int parse_cpulist(const char* text, unsigned char* members, int capacity)
{
    int count = 0;
    const char* p = text;
    while (*p != '\0') {
        char* end;
        long first = strtol(p, &end, 10);
        if (end == p) break;
        long last = first;
        p = end;
        if (*p == '-') {
            p++;
            last = strtol(p, &end, 10);
            if (end == p) break;
            p = end;
        }
        for (long cpu = first; cpu <= last && cpu < capacity; cpu++) {
            if (cpu >= 0 && !members[cpu]) {
                members[cpu] = 1;
                count++;
            }
        }
        if (*p == ',') p++;
        else break;
    }
    return count;
}

static long read_long(const char* root, const char* path, long fallback)
{
    char buf[64];
    if (probe_read_file(root, path, buf, sizeof buf) <= 0) return fallback;
    char* end;
    long value = strtol(buf, &end, 10);
    return end == buf ? fallback : value;
}

/* Cache sizes in sysfs read "48K", "2048K" or "32M". */
static int64_t parse_size(const char* text)
{
    char* end;
    long long value = strtoll(text, &end, 10);
    if (end == text) return 0;
    switch (*end) {
    case 'K': case 'k': return (int64_t)value * 1024;
    case 'M': case 'm': return (int64_t)value * 1024 * 1024;
    case 'G': case 'g': return (int64_t)value * 1024 * 1024 * 1024;
    default: return (int64_t)value;
    }
}

/* Looks for "key<spaces>: value" lines of /proc/cpuinfo; returns 1 when found. */
static int cpuinfo_value(const char* cpuinfo, const char* key, char* out, size_t size)
{
    size_t key_length = strlen(key);
    const char* line = cpuinfo;
    while (line != NULL && *line != '\0') {
        if (strncmp(line, key, key_length) == 0) {
            const char* colon = strchr(line, ':');
            const char* eol = strchr(line, '\n');
            if (colon != NULL && (eol == NULL || colon < eol)) {
                /* the key must be followed only by blanks up to the colon */
                int exact = 1;
                for (const char* q = line + key_length; q < colon; q++)
                    if (*q != ' ' && *q != '\t') exact = 0;
                if (exact) {
                    char value[256];
                    size_t length = eol != NULL ? (size_t)(eol - colon - 1) : strlen(colon + 1);
                    if (length >= sizeof value) length = sizeof value - 1;
                    memcpy(value, colon + 1, length);
                    value[length] = '\0';
                    probe_copy(out, size, value);
                    return 1;
                }
            }
        }
        line = strchr(line, '\n');
        if (line != NULL) line++;
    }
    return 0;
}

static const char* arm_implementer_name(long code)
{
    switch (code) {
    case 0x41: return "ARM";
    case 0x42: return "Broadcom";
    case 0x43: return "Cavium";
    case 0x46: return "Fujitsu";
    case 0x48: return "HiSilicon";
    case 0x4e: return "NVIDIA";
    case 0x51: return "Qualcomm";
    case 0x61: return "Apple";
    case 0x6d: return "Microsoft";
    case 0xc0: return "Ampere";
    default: return NULL;
    }
}

static void identity_from_cpuinfo(const char* cpuinfo, accelsdk_cpu_info* info)
{
    char value[256];
    if (info->vendor[0] == '\0' && cpuinfo_value(cpuinfo, "vendor_id", value, sizeof value))
        probe_copy(info->vendor, sizeof info->vendor, value);
    if (info->model[0] == '\0' && cpuinfo_value(cpuinfo, "model name", value, sizeof value))
        probe_copy(info->model, sizeof info->model, value);
    if (cpuinfo_value(cpuinfo, "CPU implementer", value, sizeof value)) {
        long implementer = strtol(value, NULL, 0);
        if (info->vendor[0] == '\0') {
            const char* name = arm_implementer_name(implementer);
            if (name != NULL) probe_copy(info->vendor, sizeof info->vendor, name);
            else probe_format(info->vendor, sizeof info->vendor, "implementer 0x%02lx", implementer);
        }
        char part[64];
        if (info->model[0] == '\0' && cpuinfo_value(cpuinfo, "CPU part", part, sizeof part))
            probe_format(info->model, sizeof info->model, "implementer 0x%02lx part %s", implementer, part);
    }
}

static int count_cpuinfo_processors(const char* cpuinfo)
{
    int count = 0;
    for (const char* line = cpuinfo; line != NULL && *line != '\0';) {
        if (strncmp(line, "processor", 9) == 0) count++;
        line = strchr(line, '\n');
        if (line != NULL) line++;
    }
    return count;
}

/* Counts distinct shared_cpu_list values of a cache level across the online cpus. */
static int count_cache_instances(const char* root, const unsigned char* online, int level)
{
    char seen[64][128];
    int distinct = 0;
    for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
        if (!online[cpu]) continue;
        for (int index = 0; index < 16; index++) {
            char path[256];
            probe_format(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cache/index%d/level", cpu, index);
            long this_level = read_long(root, path, -1);
            if (this_level < 0) break;
            if (this_level != level) continue;
            char shared[128];
            probe_format(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cache/index%d/shared_cpu_list", cpu, index);
            if (probe_read_file(root, path, shared, sizeof shared) <= 0) continue;
            probe_copy(shared, sizeof shared, shared);
            int known = 0;
            for (int i = 0; i < distinct; i++)
                if (strcmp(seen[i], shared) == 0) known = 1;
            if (!known && distinct < 64) {
                probe_copy(seen[distinct], sizeof seen[distinct], shared);
                distinct++;
            }
        }
    }
    return distinct;
}

static void read_caches(const char* root, int first_cpu, accelsdk_cpu_info* info)
{
    for (int index = 0; index < 16; index++) {
        char path[256], type[32], size_text[32];
        probe_format(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cache/index%d/level", first_cpu, index);
        long level = read_long(root, path, -1);
        if (level < 0) break;
        probe_format(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cache/index%d/type", first_cpu, index);
        if (probe_read_file(root, path, type, sizeof type) <= 0) continue;
        probe_copy(type, sizeof type, type);
        probe_format(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cache/index%d/size", first_cpu, index);
        if (probe_read_file(root, path, size_text, sizeof size_text) <= 0) continue;
        int64_t bytes = parse_size(size_text);
        if (level == 1 && strcmp(type, "Data") == 0) info->l1d_cache_bytes = bytes;
        else if (level == 1 && strcmp(type, "Instruction") == 0) info->l1i_cache_bytes = bytes;
        else if (level == 2) info->l2_cache_bytes = bytes;
        else if (level == 3) info->l3_cache_bytes = bytes;
    }
}

void probe_cpu_topology(const char* root, accelsdk_cpu_info* info)
{
    static char cpuinfo[1 << 16];
    static unsigned char online[MAX_CPUS];
    /* The buffers are static to keep 64 KiB off the caller's stack; the public entry points serialise calls. */
    memset(online, 0, sizeof online);
    if (probe_read_file(root, "/proc/cpuinfo", cpuinfo, sizeof cpuinfo) < 0) cpuinfo[0] = '\0';
    identity_from_cpuinfo(cpuinfo, info);

    char list[1024];
    int logical = 0;
    if (probe_read_file(root, "/sys/devices/system/cpu/online", list, sizeof list) > 0)
        logical = parse_cpulist(list, online, MAX_CPUS);
    if (logical == 0) {
        logical = count_cpuinfo_processors(cpuinfo);
        for (int cpu = 0; cpu < logical && cpu < MAX_CPUS; cpu++) online[cpu] = 1;
    }
    if (logical == 0) {
        logical = 1;
        online[0] = 1;
    }
    info->logical_cores = logical;

    /* Physical cores are distinct (package, core) pairs; packages are distinct package ids. */
    static long pairs[MAX_CPUS][2];
    int pair_count = 0, package_count = 0, first_cpu = -1;
    long packages[256];
    for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
        if (!online[cpu]) continue;
        if (first_cpu < 0) first_cpu = cpu;
        char path[256];
        probe_format(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
        long package = read_long(root, path, 0);
        probe_format(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
        long core = read_long(root, path, cpu);
        int known = 0;
        for (int i = 0; i < pair_count; i++)
            if (pairs[i][0] == package && pairs[i][1] == core) known = 1;
        if (!known) {
            pairs[pair_count][0] = package;
            pairs[pair_count][1] = core;
            pair_count++;
        }
        known = 0;
        for (int i = 0; i < package_count; i++)
            if (packages[i] == package) known = 1;
        if (!known && package_count < 256) packages[package_count++] = package;
    }
    info->physical_cores = pair_count > 0 ? pair_count : logical;
    info->packages = package_count > 0 ? package_count : 1;

    unsigned char nodes[1024];
    memset(nodes, 0, sizeof nodes);
    int node_count = 0;
    if (probe_read_file(root, "/sys/devices/system/node/online", list, sizeof list) > 0)
        node_count = parse_cpulist(list, nodes, (int)sizeof nodes);
    info->numa_nodes = node_count > 0 ? node_count : 1;

    if (first_cpu >= 0) {
        read_caches(root, first_cpu, info);
        info->l2_cache_instances = info->l2_cache_bytes > 0 ? count_cache_instances(root, online, 2) : 0;
        info->l3_cache_instances = info->l3_cache_bytes > 0 ? count_cache_instances(root, online, 3) : 0;
    }
}
