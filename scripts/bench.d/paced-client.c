// scripts/bench driver --open's reference: the paced load in plain C, for the kernel's share of a paced request.
//
// Usage: paced-client HOST PORT USERS RATE_PER_USER SECONDS WARMUP_SECONDS
//
// USERS keep-alive connections on one thread and one epoll set, each user sending `GET /` on its own fixed timetable
// (RATE_PER_USER req/s, users' slots spread evenly over the interval, released on a 1 ms tick like loaddriver's
// default timer resolution), one request in flight, a slot missed while a response is outstanding sent as soon as it
// arrives, further missed slots skipped. It parses Content-Length responses and takes a clock reading per response,
// and does nothing else: no histogram merge, no reports. After WARMUP_SECONDS at full rate it measures SECONDS and
// prints one line:
//   <achieved req/s> <process CPU µs per request> <late sends> <failed>
// Exit 1 on any connection error (a reference run must be clean), 2 on bad usage.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TICK_NS 1000000LL
#define BUF_SIZE 1024

typedef struct {
    int fd;
    int inflight;
    int pending;  // a slot came due while a request was in flight
    int len;
    int64_t sent;
    char buf[BUF_SIZE];
} user_t;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static char request[256];
static int request_len;
static long completed, late, failed;
static uint64_t latency_log2[64];

static void fail(const char *what) {
    fprintf(stderr, "paced-client: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void send_request(user_t *u, int64_t now) {
    ssize_t n = write(u->fd, request, (size_t)request_len);
    if (n != request_len) fail("write");
    u->inflight = 1;
    u->sent = now;
}

// Consumes every complete response in the user's buffer; returns the number completed.
static int parse_responses(user_t *u) {
    int done = 0;
    for (;;) {
        char *end = memmem(u->buf, (size_t)u->len, "\r\n\r\n", 4);
        if (!end) return done;
        long body = 0;
        for (char *p = u->buf; p < end; p++) {
            if ((*p == '\n') && strncasecmp(p + 1, "content-length:", 15) == 0) {
                body = strtol(p + 16, NULL, 10);
                break;
            }
        }
        int total = (int)(end + 4 - u->buf) + (int)body;
        if (total > BUF_SIZE) { errno = EMSGSIZE; fail("response"); }
        if (u->len < total) return done;
        memmove(u->buf, u->buf + total, (size_t)(u->len - total));
        u->len -= total;
        done++;
    }
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: paced-client HOST PORT USERS RATE_PER_USER SECONDS WARMUP_SECONDS\n");
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]), users = atoi(argv[3]);
    double rate = atof(argv[4]), seconds = atof(argv[5]), warmup = atof(argv[6]);
    if (port <= 0 || users <= 0 || rate <= 0 || seconds <= 0 || warmup < 0 || seconds + warmup > 600) {
        fprintf(stderr, "paced-client: bad arguments (users > 0, rate > 0, 0 < seconds + warmup <= 600)\n");
        return 2;
    }
    request_len = snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: %s:%d\r\n\r\n", host, port);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { errno = EINVAL; fail("host (an IPv4 loopback address)"); }
    int ep = epoll_create1(0);
    if (ep < 0) fail("epoll_create1");
    user_t *u = calloc((size_t)users, sizeof *u);
    if (!u) fail("calloc");
    for (int i = 0; i < users; i++) {
        u[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (u[i].fd < 0) fail("socket");
        int one = 1;
        setsockopt(u[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(u[i].fd, (struct sockaddr *)&addr, sizeof addr) != 0) fail("connect");
        fcntl(u[i].fd, F_SETFL, fcntl(u[i].fd, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, u[i].fd, &ev) != 0) fail("epoll_ctl");
    }

    // A timing wheel of 1 ms buckets over one interval: user i's slots fall in bucket (i * interval / users) / tick.
    int64_t interval = (int64_t)(1e9 / rate);
    int buckets = (int)(interval / TICK_NS);
    if (buckets < 1) buckets = 1;
    int *first = malloc(sizeof(int) * (size_t)buckets), *next = malloc(sizeof(int) * (size_t)users);
    if (!first || !next) fail("malloc");
    for (int b = 0; b < buckets; b++) first[b] = -1;
    for (int i = users - 1; i >= 0; i--) {
        int b = (int)(((int64_t)i * interval / users) / TICK_NS) % buckets;
        next[i] = first[b];
        first[b] = i;
    }

    int64_t start = now_ns(), measure_start = start + (int64_t)(warmup * 1e9),
            end = measure_start + (int64_t)(seconds * 1e9);
    int64_t tick = 0;  // ticks handled so far
    int measuring = 0;
    double cpu_start = 0;
    long completed_start = 0;
    struct epoll_event events[256];
    for (;;) {
        int64_t now = now_ns();
        if (!measuring && now >= measure_start) {
            measuring = 1;
            cpu_start = cpu_seconds();
            completed_start = completed;
        }
        if (now >= end) break;
        // Release every tick that has begun (ticks the loop was late for included).
        while (start + tick * TICK_NS <= now) {
            for (int i = first[tick % buckets]; i >= 0; i = next[i]) {
                if (u[i].inflight) {
                    u[i].pending = 1;
                } else {
                    send_request(&u[i], now);
                }
            }
            tick++;
        }
        int64_t wait_ns = start + tick * TICK_NS - now;
        struct timespec timeout = {.tv_sec = 0, .tv_nsec = wait_ns > 0 ? wait_ns : 0};
        int n = epoll_pwait2(ep, events, 256, &timeout, NULL);
        if (n < 0 && errno != EINTR) fail("epoll_pwait2");
        for (int k = 0; k < n; k++) {
            user_t *v = &u[events[k].data.u32];
            ssize_t r = read(v->fd, v->buf + v->len, (size_t)(BUF_SIZE - v->len));
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                failed++;
                if (r == 0) errno = ECONNRESET;
                fail("read");
            }
            v->len += (int)r;
            int done = parse_responses(v);
            if (done == 0) continue;
            int64_t t = now_ns();
            uint64_t micros = (uint64_t)((t - v->sent) / 1000);
            latency_log2[micros ? 63 - __builtin_clzll(micros) : 0]++;
            completed += done;
            v->inflight = 0;
            if (v->pending) {
                v->pending = 0;
                late++;
                send_request(v, t);
            }
        }
    }
    double cpu = cpu_seconds() - cpu_start;
    long measured = completed - completed_start;
    if (measured <= 0) { errno = EIO; fail("no responses"); }
    printf("%.0f %.2f %ld %ld\n", measured / seconds, cpu / (double)measured * 1e6, late, failed);
    return 0;
}
