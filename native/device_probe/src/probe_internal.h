/* Helpers shared by the probe's translation units; not part of the ABI. */
#ifndef ACCELSDK_PROBE_INTERNAL_H
#define ACCELSDK_PROBE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "accelsdk_probe.h"

/* Copies src into dst (size bytes), always NUL-terminating and trimming surrounding whitespace; src may be dst. */
void probe_copy(char* dst, size_t size, const char* src);

/* printf into a fixed buffer, truncating. */
void probe_format(char* dst, size_t size, const char* format, ...) __attribute__((format(printf, 3, 4)));

/* Reads a whole small file below root into buf; returns the byte count or -1. */
long probe_read_file(const char* root, const char* path, char* buf, size_t size);

/* Fills architecture, vendor, model and features from the running CPU. */
void probe_cpu_identity(accelsdk_cpu_info* info);

/* Fills cores, packages, NUMA nodes and caches from <root>/sys and <root>/proc; vendor/model when still empty. */
void probe_cpu_topology(const char* root, accelsdk_cpu_info* info);

#endif
