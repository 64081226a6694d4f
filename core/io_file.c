/*
** Opening and reading the files the loaders parse (checkpoints, IDX sets,
** images).  Only regular files are read: a FIFO, a device or a directory is
** refused before a byte is read.  The open itself is non-blocking, because
** opening a FIFO for reading blocks until some process opens it for writing
** (forever, for a FIFO planted where a data file was expected); fstat on the
** descriptor then tells what was opened, with no window for a rename between
** a stat and an open.
*/
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a plain file";
}

int lg_open_regular(const char *op, const char *path, uint64_t *size) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    lg_seterr("%s: cannot open '%s': %s", op, path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st)) {
    lg_seterr("%s: cannot stat '%s': %s", op, path, strerror(errno));
    close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    lg_seterr("%s: '%s' is not a regular file (%s)", op, path, kind_of(st.st_mode));
    close(fd);
    return -1;
  }
  /* reads of a regular file never block, but clear the flag all the same:
  ** the descriptor may be handed to stdio */
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK)) {
    lg_seterr("%s: cannot read '%s': %s", op, path, strerror(errno));
    close(fd);
    return -1;
  }
  *size = (uint64_t)st.st_size;
  return fd;
}

int lg_read_all(int fd, void *buf, size_t n) {
  unsigned char *p = buf;
  while (n) {
    ssize_t k = read(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return -1;
    if (k == 0) {
      errno = 0;   /* end of file: the caller says "shrank" */
      return -1;
    }
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

unsigned char *lg_read_file(const char *op, const char *path, uint64_t max, size_t *len) {
  uint64_t size;
  int fd = lg_open_regular(op, path, &size);
  if (fd < 0) return NULL;
  unsigned char *buf = NULL;
  if (size > max || size > SIZE_MAX - 1) {
    lg_seterr("%s: '%s' has %llu bytes, above the %llu-byte limit", op, path,
              (unsigned long long)size, (unsigned long long)max);
  } else if (!(buf = malloc((size_t)size + 1))) {
    lg_seterr("%s: out of memory reading the %llu bytes of '%s'", op,
              (unsigned long long)size, path);
  } else if (lg_read_all(fd, buf, (size_t)size)) {
    lg_seterr("%s: cannot read '%s': %s", op, path,
              errno ? strerror(errno) : "the file shrank while it was read");
    free(buf);
    buf = NULL;
  } else {
    *len = (size_t)size;
  }
  close(fd);
  return buf;
}
