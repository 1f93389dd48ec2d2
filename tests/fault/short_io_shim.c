/* An LD_PRELOAD shim that makes a process's socket and FIFO I/O as awkward
 * as the kernel is allowed to make it: every read, write, recv, send,
 * readv, writev, recvmsg and sendmsg on a socket or FIFO moves only part of
 * what was asked (often 1 to 7 bytes), and some calls (and polls) fail with
 * EINTR before doing anything.
 *
 * Enabled only when SHORT_IO_SEED is set (a decimal seed for the
 * deterministic PRNG). SHORT_IO_EINTR_PCT (default 10) is the percentage of
 * calls failing with EINTR. SHORT_IO_STATS names a file to which the process
 * appends "calls=N short=N eintr=N" at exit, so a test can check that the
 * faults really happened.
 *
 * Descriptors 0-2 and anything that is not a socket or FIFO (regular files,
 * eventfds, memfds) pass through untouched: an eventfd read must be 8 bytes.
 * Two guarantees of the kernel are kept, as libipc relies on them: a write
 * of at most PIPE_BUF bytes to a FIFO is atomic (whole, or EAGAIN/EINTR
 * with nothing written), and bytes a MSG_PEEK has shown are there, so
 * the next plain recv of at most that many bytes on that descriptor gets
 * them all (the kernel never returns fewer from a socket whose data has
 * arrived), as stream_channel.cc's ReceiveAvailable relies on. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static int g_enabled;
static unsigned g_eintr_pct = 10;
static uint64_t g_state;
static unsigned long g_calls, g_short, g_eintr;
static const char* g_stats;
/* Bytes the last MSG_PEEK showed on each descriptor (0: none known). */
#define kMaxFd 4096
static ssize_t g_peeked[kMaxFd];

static ssize_t (*real_read)(int, void*, size_t);
static ssize_t (*real_write)(int, const void*, size_t);
static ssize_t (*real_recv)(int, void*, size_t, int);
static ssize_t (*real_send)(int, const void*, size_t, int);
static ssize_t (*real_readv)(int, const struct iovec*, int);
static ssize_t (*real_writev)(int, const struct iovec*, int);
static ssize_t (*real_recvmsg)(int, struct msghdr*, int);
static ssize_t (*real_sendmsg)(int, const struct msghdr*, int);
static int (*real_poll)(struct pollfd*, nfds_t, int);

#define RESOLVE(name) \
  if (!real_##name) real_##name = dlsym(RTLD_NEXT, #name)

__attribute__((constructor)) static void Init(void) {
  const char* seed = getenv("SHORT_IO_SEED");
  const char* pct = getenv("SHORT_IO_EINTR_PCT");
  g_stats = getenv("SHORT_IO_STATS");
  if (pct) g_eintr_pct = (unsigned)atoi(pct);
  if (seed) {
    g_state = strtoull(seed, NULL, 10) * 0x9E3779B97F4A7C15ull + 1;
    g_enabled = 1;
  }
}

__attribute__((destructor)) static void Report(void) {
  if (!g_enabled || !g_stats) return;
  const int fd = open(g_stats, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  dprintf(fd, "pid=%d calls=%lu short=%lu eintr=%lu\n", (int)getpid(),
          __atomic_load_n(&g_calls, __ATOMIC_RELAXED),
          __atomic_load_n(&g_short, __ATOMIC_RELAXED),
          __atomic_load_n(&g_eintr, __ATOMIC_RELAXED));
  close(fd);
}

static uint64_t Next(void) {
  /* splitmix64 over an atomic counter: deterministic per call order. */
  uint64_t z =
      __atomic_add_fetch(&g_state, 0x9E3779B97F4A7C15ull, __ATOMIC_RELAXED);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

enum { kPlain = 0, kSocket = 1, kFifo = 2 };

static int Faulty(int fd) {
  if (!g_enabled || fd <= 2) return kPlain;
  struct stat st;
  if (fstat(fd, &st) != 0) return kPlain;
  return S_ISSOCK(st.st_mode) ? kSocket : S_ISFIFO(st.st_mode) ? kFifo : kPlain;
}

/* 1 if this call should fail with EINTR (and counts it). */
static int Interrupt(void) {
  __atomic_add_fetch(&g_calls, 1, __ATOMIC_RELAXED);
  if (Next() % 100 < g_eintr_pct) {
    __atomic_add_fetch(&g_eintr, 1, __ATOMIC_RELAXED);
    return 1;
  }
  return 0;
}

/* How many of len bytes this call may move: half the time 1 to 7, else up
 * to 64 KiB; at least 1 when len > 0. */
static size_t Limit(size_t len) {
  const uint64_t r = Next();
  const size_t cap =
      (r & 1) ? 1 + (size_t)((r >> 8) % 7) : 1 + (size_t)((r >> 8) % 65536);
  if (cap < len) {
    __atomic_add_fetch(&g_short, 1, __ATOMIC_RELAXED);
    return cap;
  }
  return len;
}

/* Limit for a write: FIFO writes of at most PIPE_BUF bytes stay whole. */
static size_t WriteLimit(int kind, size_t len) {
  return kind == kFifo && len <= PIPE_BUF ? len : Limit(len);
}

/* Copies iov into out, cut to at most limit bytes in total; returns the
 * number of entries. */
static int Trim(const struct iovec* iov, int n, size_t limit, struct iovec* out,
                int max) {
  int k = 0;
  for (int i = 0; i < n && k < max && limit > 0; ++i) {
    out[k] = iov[i];
    if (out[k].iov_len > limit) out[k].iov_len = limit;
    limit -= out[k].iov_len;
    ++k;
  }
  if (k == 0 && n > 0) out[k++] = iov[0];
  return k;
}

static size_t Total(const struct iovec* iov, int n) {
  size_t t = 0;
  for (int i = 0; i < n; ++i) t += iov[i].iov_len;
  return t;
}

/* 1 when a plain read of len bytes must get them all: a peek showed them. */
static int Promised(int fd, size_t len) {
  if (fd < 0 || fd >= kMaxFd) return 0;
  const ssize_t peeked =
      __atomic_exchange_n(&g_peeked[fd], 0, __ATOMIC_RELAXED);
  return peeked > 0 && len <= (size_t)peeked;
}

ssize_t read(int fd, void* buf, size_t len) {
  RESOLVE(read);
  if (!Faulty(fd) || Promised(fd, len)) return real_read(fd, buf, len);
  if (Interrupt()) return errno = EINTR, -1;
  return real_read(fd, buf, Limit(len));
}

ssize_t __read_chk(int fd, void* buf, size_t len, size_t buflen) {
  (void)buflen;
  return read(fd, buf, len);
}

ssize_t write(int fd, const void* buf, size_t len) {
  RESOLVE(write);
  const int kind = Faulty(fd);
  if (!kind) return real_write(fd, buf, len);
  if (Interrupt()) return errno = EINTR, -1;
  return real_write(fd, buf, WriteLimit(kind, len));
}

ssize_t recv(int fd, void* buf, size_t len, int flags) {
  RESOLVE(recv);
  if (!Faulty(fd)) return real_recv(fd, buf, len, flags);
  if (!(flags & MSG_PEEK) && Promised(fd, len))
    return real_recv(fd, buf, len, flags);
  if (Interrupt()) return errno = EINTR, -1;
  const ssize_t n = real_recv(fd, buf, Limit(len), flags);
  if ((flags & MSG_PEEK) && n > 0 && fd < kMaxFd) {
    __atomic_store_n(&g_peeked[fd], n, __ATOMIC_RELAXED);
  }
  return n;
}

ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buflen, int flags) {
  (void)buflen;
  return recv(fd, buf, len, flags);
}

ssize_t send(int fd, const void* buf, size_t len, int flags) {
  RESOLVE(send);
  if (!Faulty(fd)) return real_send(fd, buf, len, flags);
  if (Interrupt()) return errno = EINTR, -1;
  return real_send(fd, buf, Limit(len), flags);
}

ssize_t readv(int fd, const struct iovec* iov, int n) {
  RESOLVE(readv);
  if (!Faulty(fd) || Promised(fd, Total(iov, n))) return real_readv(fd, iov, n);
  if (Interrupt()) return errno = EINTR, -1;
  struct iovec cut[64];
  return real_readv(fd, cut, Trim(iov, n, Limit(Total(iov, n)), cut, 64));
}

ssize_t writev(int fd, const struct iovec* iov, int n) {
  RESOLVE(writev);
  const int kind = Faulty(fd);
  if (!kind) return real_writev(fd, iov, n);
  if (Interrupt()) return errno = EINTR, -1;
  struct iovec cut[64];
  return real_writev(fd, cut,
                     Trim(iov, n, WriteLimit(kind, Total(iov, n)), cut, 64));
}

ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
  RESOLVE(recvmsg);
  if (!Faulty(fd)) return real_recvmsg(fd, msg, flags);
  const size_t total = Total(msg->msg_iov, (int)msg->msg_iovlen);
  if (!(flags & MSG_PEEK) && Promised(fd, total))
    return real_recvmsg(fd, msg, flags);
  if (Interrupt()) return errno = EINTR, -1;
  struct iovec cut[64];
  struct iovec* saved = msg->msg_iov;
  const size_t saved_len = msg->msg_iovlen;
  msg->msg_iovlen = (size_t)Trim(saved, (int)saved_len, Limit(total), cut, 64);
  msg->msg_iov = cut;
  const ssize_t r = real_recvmsg(fd, msg, flags);
  msg->msg_iov = saved;
  msg->msg_iovlen = saved_len;
  return r;
}

ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
  RESOLVE(sendmsg);
  if (!Faulty(fd)) return real_sendmsg(fd, msg, flags);
  if (Interrupt()) return errno = EINTR, -1;
  struct iovec cut[64];
  struct msghdr copy = *msg;
  copy.msg_iovlen =
      (size_t)Trim(msg->msg_iov, (int)msg->msg_iovlen,
                   Limit(Total(msg->msg_iov, (int)msg->msg_iovlen)), cut, 64);
  copy.msg_iov = cut;
  return real_sendmsg(fd, &copy, flags);
}

int poll(struct pollfd* fds, nfds_t n, int timeout) {
  RESOLVE(poll);
  if (g_enabled && n > 0 && Faulty(fds[0].fd) && Interrupt())
    return errno = EINTR, -1;
  return real_poll(fds, n, timeout);
}
