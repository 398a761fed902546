#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "probe_internal.h"

void probe_copy(char* dst, size_t size, const char* src)
{
    if (size == 0) return;
    if (src == NULL) {
        dst[0] = '\0';
        return;
    }
    while (*src != '\0' && isspace((unsigned char)*src)) src++;
    size_t length = strlen(src);
    while (length > 0 && isspace((unsigned char)src[length - 1])) length--;
    if (length >= size) length = size - 1;
    memmove(dst, src, length); /* src may alias dst: callers trim buffers in place */
    dst[length] = '\0';
}

void probe_format(char* dst, size_t size, const char* format, ...)
{
    if (size == 0) return;
    va_list args;
    va_start(args, format);
    (void)vsnprintf(dst, size, format, args);
    va_end(args);
}

long probe_read_file(const char* root, const char* path, char* buf, size_t size)
{
    char full[4096];
    probe_format(full, sizeof full, "%s%s", root, path);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t total = 0;
    while (total + 1 < size) {
        ssize_t got = read(fd, buf + total, size - 1 - total);
        if (got <= 0) break;
        total += (size_t)got;
    }
    close(fd);
    buf[total] = '\0';
    return (long)total;
}
