/*
 * malloc-counter: an LD_PRELOAD shim that counts heap allocations of the process it is loaded into.
 *
 * Every malloc, calloc, realloc (that allocates), memalign, posix_memalign, aligned_alloc, valloc and pvalloc adds
 * one to a 64-bit counter; free is not counted. The counter lives in the first 8 bytes of the file named by
 * MALLOC_COUNTER_FILE (created, mapped shared), so another process reads the count at any moment without
 * disturbing this one. Without MALLOC_COUNTER_FILE the shim counts into process memory only.
 *
 * The real allocator is glibc's, reached through its exported __libc_* entry points (no dlsym, which itself
 * allocates). Built by scripts/cost: cc -O2 -shared -fPIC -o malloc-counter.so malloc-counter.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static uint64_t local_counter;
static uint64_t *counter = &local_counter;

static inline void count(void) { __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED); }

__attribute__((constructor)) static void malloc_counter_init(void) {
    const char *path = getenv("MALLOC_COUNTER_FILE");
    if (path == NULL || path[0] == '\0') return;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return;
    if (ftruncate(fd, 4096) != 0) { close(fd); return; }
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (page == MAP_FAILED) return;
    uint64_t *shared = (uint64_t *)page;
    __atomic_store_n(shared, __atomic_load_n(&local_counter, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
    __atomic_store_n(&counter, shared, __ATOMIC_RELEASE);
}

void *malloc(size_t size) { count(); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { count(); return __libc_calloc(n, size); }
void *realloc(void *pointer, size_t size) {
    if (pointer == NULL || size != 0) count();
    return __libc_realloc(pointer, size);
}
void *memalign(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
void *valloc(size_t size) { count(); return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), size); }
void *pvalloc(size_t size) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    count();
    return __libc_memalign(page, (size + page - 1) & ~(page - 1));
}
int posix_memalign(void **result, size_t alignment, size_t size) {
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
    count();
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL && size != 0) return ENOMEM;
    *result = pointer;
    return 0;
}
