/*
** lg.fs: the file primitives the experiment harness needs to keep a run
** directory whole across kills, full disks and a second process.
**
**   lg.fs.write_atomic(path, data [, {fsync = true}])
**       data replaces path as one step: a temporary file .NAME.tmp-XXXXXX in
**       the same directory (mkstemp: O_CREAT|O_EXCL, so a planted symlink is
**       never followed), every byte written and checked, fsync, close,
**       rename over path, fsync of the directory.  On any failure the
**       temporary file is removed, path keeps its old contents and the error
**       names path and the reason.
**   lg.fs.tempfile(path) -> name
**       a new empty file .NAME.tmp-XXXXXX next to path (for a program that
**       writes its output by name, e.g. gnuplot; rename it over path after).
**   lg.fs.open_append(path) -> file
**       file:write(s) appends s with one checked write; when it fails part
**       way (ENOSPC) the file is cut back to its length before the call, so
**       it never ends in a torn row.  file:size(), file:sync() (fsync),
**       file:truncate(n) (to n bytes, fsynced), file:close().
**   lg.fs.lock(path) -> lock | nil, message, pid
**       flock(LOCK_EX|LOCK_NB) on path (created, never through a symlink),
**       which then holds this process's pid.  When another process holds it:
**       nil, "PATH is held by process PID", PID (pid 0 when unknown).
**       lock:unlock() releases it; so do __close, __gc and the end of the
**       process.  The descriptor is close-on-exec: a child (gnuplot) cannot
**       keep the lock after its parent died.
**   lg.fs.list(dir) -> names, kinds | nil, message: sorted, without . and
**       .., kinds "file" / "dir" / "other" following links
**   lg.fs.mkdir(path)     mkdir -p; raises naming the component that failed
**   lg.fs.kind(path)      "file", "dir", "link", "other" or nil (lstat)
*/
#include "luagan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_MT "luagan.fs.file"
#define LOCK_MT "luagan.fs.lock"

/* Writes n bytes at the file offset, through EINTR and short writes.  A
** write of 0 bytes is a full device. */
static int write_all (int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    if (w == 0) {
      errno = ENOSPC;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* The directory part of path ("." when none) into buf. */
static void dir_of (const char *path, char *buf, size_t size) {
  const char *slash = strrchr(path, '/');
  if (!slash) snprintf(buf, size, ".");
  else if (slash == path) snprintf(buf, size, "/");
  else snprintf(buf, size, "%.*s", (int)(slash - path), path);
}

/* fsync a directory, so that a rename in it survives a crash.  File
** systems that cannot sync directories say EINVAL: nothing to do there. */
static int sync_dir (const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  if (rc && errno == EINVAL) rc = 0;
  int e = errno;
  close(fd);
  errno = e;
  return rc;
}

/* Creates DIR/.NAME.tmp-XXXXXX for path with the usual 0666 & ~umask
** permissions; the name goes to tmp.  Returns the descriptor or -1. */
static int make_temp (const char *path, char *tmp, size_t size) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  int dirlen = slash ? (int)(slash - path) + 1 : 0;
  if (*base == '\0') {
    errno = EISDIR;
    return -1;
  }
  if (snprintf(tmp, size, "%.*s.%s.tmp-XXXXXX", dirlen, path, base) >= (int)size) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) return -1;
  mode_t mask = umask(0);   /* mkstemp makes 0600; a run's files are 0666 & ~umask */
  umask(mask);
  if (fchmod(fd, 0666 & ~mask)) {
    int e = errno;
    close(fd);
    unlink(tmp);
    errno = e;
    return -1;
  }
  return fd;
}

/*** lg.fs.write_atomic(path, data [, {fsync = true}])
 * Replaces the file at path with the string data as one step: a temporary
 * file .NAME.tmp-XXXXXX in the same directory (never through a planted
 * symlink), every byte written and checked, fsync, rename over path, fsync of
 * the directory (skipped with fsync = false).  On failure the temporary file
 * is removed, path keeps its old contents and the error names path and the
 * reason (a full disk, a missing directory).
 * @function lg.fs.write_atomic
 * @usage local path = os.tmpname()
 * lg.fs.write_atomic(path, "iter,loss\n1,0.69\n")
 * os.remove(path)
 */
/* lg.fs.write_atomic(path, data [, {fsync = true}]) */
static int l_write_atomic (lua_State *L) {
  static const char *const valid[] = {"fsync", NULL};
  const char *path = luaL_checkstring(L, 1);
  size_t n;
  const char *data = luaL_checklstring(L, 2, &n);
  lgL_checkoptions(L, 3, "write_atomic", valid);
  int sync = lgL_optboolfield(L, 3, "fsync", 1, "write_atomic");
  char tmp[PATH_MAX], dir[PATH_MAX];
  int fd = make_temp(path, tmp, sizeof tmp);
  if (fd < 0)
    return luaL_error(L, "write_atomic: cannot create a temporary file for '%s': %s", path,
                      strerror(errno));
  const char *step = "write";
  int rc = write_all(fd, data, n);
  if (!rc && sync) {
    step = "sync";
    rc = fsync(fd);
  }
  int e = errno;
  if (close(fd) && !rc) {   /* close reports delayed write errors (NFS) */
    step = "write";
    rc = -1;
    e = errno;
  }
  if (!rc && rename(tmp, path)) {
    step = "rename a temporary file over";
    rc = -1;
    e = errno;
  }
  if (rc) {
    unlink(tmp);
    return luaL_error(L, "write_atomic: cannot %s '%s': %s", step, path, strerror(e));
  }
  dir_of(path, dir, sizeof dir);
  if (sync && sync_dir(dir))
    return luaL_error(L, "write_atomic: '%s' written but its directory '%s' cannot be synced: %s",
                      path, dir, strerror(errno));
  return 0;
}

/*** lg.fs.tempfile(path) -> string
 * Creates a new empty file .NAME.tmp-XXXXXX next to path and returns its
 * name, for a program that writes its output by name (gnuplot); rename it
 * over path afterwards.  Raises naming path when it cannot be created.
 * @function lg.fs.tempfile
 * @usage local path = os.tmpname()
 * local tmp = lg.fs.tempfile(path)
 * os.rename(tmp, path)
 * os.remove(path)
 */
/* lg.fs.tempfile(path) -> name of a new empty DIR/.NAME.tmp-XXXXXX */
static int l_tempfile (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char tmp[PATH_MAX];
  int fd = make_temp(path, tmp, sizeof tmp);
  if (fd < 0)
    return luaL_error(L, "tempfile: cannot create a temporary file for '%s': %s", path,
                      strerror(errno));
  close(fd);
  lua_pushstring(L, tmp);
  return 1;
}

/* {====================================================== append-only files */

typedef struct {
  int fd;          /* -1 once closed */
  off_t size;      /* bytes in the file: every write of this process ends here */
} fsfile;

static fsfile *checkfile (lua_State *L) {
  fsfile *f = luaL_checkudata(L, 1, FILE_MT);
  if (f->fd < 0) luaL_error(L, "file: attempt to use a closed file");
  return f;
}

static const char *file_path (lua_State *L) {
  lua_getiuservalue(L, 1, 1);
  const char *p = lua_tostring(L, -1);   /* anchored by the userdata */
  lua_pop(L, 1);
  return p;
}

/*** lg.fs.open_append(path) -> File
 * Opens (creating it) a regular file for appending rows, positioned at its
 * end; a symbolic link or a non-regular file at path raises.  See
 * lg.fs.File:write for the torn-row guarantee; the file is closed by
 * file:close(), a to-be-closed variable or the collector.
 * @function lg.fs.open_append
 * @usage local path = os.tmpname()
 * do
 *   local f <close> = lg.fs.open_append(path)
 *   f:write("1,0.5\n")
 * end
 * os.remove(path)
 */
/* lg.fs.open_append(path) -> file, positioned at its end */
static int l_open_append (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  fsfile *f = lua_newuserdatauv(L, sizeof *f, 1);
  f->fd = -1;
  luaL_setmetatable(L, FILE_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  /* O_NOFOLLOW: a symlink planted at the name cannot send rows elsewhere */
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0)
    return luaL_error(L, "open_append: cannot open '%s': %s", path,
                      errno == ELOOP ? "it is a symbolic link" : strerror(errno));
  struct stat st;
  if (fstat(fd, &st)) {
    int e = errno;
    close(fd);
    return luaL_error(L, "open_append: cannot open '%s': %s", path, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return luaL_error(L, "open_append: '%s' is not a regular file", path);
  }
  f->fd = fd;
  f->size = st.st_size;
  return 1;
}

/*** file:write(s)
 * Appends the string s with one checked write: all of it or, when the write
 * fails part way (a full disk), nothing, the file being cut back to its
 * length before the call so that it never ends in a torn row.  Raises naming
 * the file; also on a closed file.
 * @function lg.fs.File:write
 * @usage local path = os.tmpname()
 * local f = lg.fs.open_append(path)
 * f:write("iter,loss\n")
 * f:close()
 * os.remove(path)
 */
/* file:write(s): all of s or, on failure, nothing (the torn tail is cut). */
static int file_write (lua_State *L) {
  fsfile *f = checkfile(L);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  if (write_all(f->fd, s, n)) {
    int e = errno;
    const char *path = file_path(L);
    if (ftruncate(f->fd, f->size))
      return luaL_error(L, "cannot append to '%s': %s; cutting back the partial write failed: %s",
                        path, strerror(e), strerror(errno));
    return luaL_error(L, "cannot append to '%s': %s", path, strerror(e));
  }
  f->size += (off_t)n;
  return 0;
}

/*** file:size() -> integer
 * The file's length in bytes as this process has written it (its size when
 * opened plus every successful write).
 * @function lg.fs.File:size
 * @usage local path = os.tmpname()
 * local f = lg.fs.open_append(path)
 * f:write("abc")
 * assert(f:size() == 3)
 * f:close()
 * os.remove(path)
 */
static int file_size (lua_State *L) {
  lua_pushinteger(L, (lua_Integer)checkfile(L)->size);
  return 1;
}

/*** file:sync()
 * Flushes the file's data to the disk (fsync); raises naming the file on
 * failure.
 * @function lg.fs.File:sync
 * @usage local path = os.tmpname()
 * local f = lg.fs.open_append(path)
 * f:write("row\n")
 * f:sync()
 * f:close()
 * os.remove(path)
 */
static int file_sync (lua_State *L) {
  fsfile *f = checkfile(L);
  if (fsync(f->fd)) return luaL_error(L, "cannot sync '%s': %s", file_path(L), strerror(errno));
  return 0;
}

/*** file:truncate(n)
 * Cuts the file back to its first n bytes (0 <= n <= file:size(); otherwise
 * raises) and syncs it: drops rows written after a checkpoint when a run
 * resumes from it.
 * @function lg.fs.File:truncate
 * @usage local path = os.tmpname()
 * local f = lg.fs.open_append(path)
 * f:write("header\n")
 * local keep = f:size()
 * f:write("row\n")
 * f:truncate(keep)   -- the file holds "header\n" again
 * f:close()
 * os.remove(path)
 */
/* file:truncate(n): back to its first n bytes (n <= size) */
static int file_truncate (lua_State *L) {
  fsfile *f = checkfile(L);
  lua_Integer n = luaL_checkinteger(L, 2);
  if (n < 0 || n > (lua_Integer)f->size)
    return luaL_error(L, "truncate: '%s' has %I bytes, cannot cut it to %I", file_path(L),
                      (lua_Integer)f->size, n);
  if (ftruncate(f->fd, (off_t)n) || fsync(f->fd))
    return luaL_error(L, "truncate: '%s': %s", file_path(L), strerror(errno));
  f->size = (off_t)n;
  return 0;
}

/*** file:close()
 * Closes the file; later calls are no-ops, other methods then raise "attempt
 * to use a closed file".  Raises when the close reports a delayed write error.
 * @function lg.fs.File:close
 * @usage local path = os.tmpname()
 * local f = lg.fs.open_append(path)
 * f:close()
 * os.remove(path)
 */
static int file_close (lua_State *L) {
  fsfile *f = luaL_checkudata(L, 1, FILE_MT);
  if (f->fd >= 0) {
    int rc = close(f->fd);
    f->fd = -1;
    if (rc) return luaL_error(L, "cannot close '%s': %s", file_path(L), strerror(errno));
  }
  return 0;
}

/* __gc and __close: release the descriptor without raising */
static int file_gc (lua_State *L) {
  fsfile *f = luaL_checkudata(L, 1, FILE_MT);
  if (f->fd >= 0) close(f->fd);
  f->fd = -1;
  return 0;
}

/* }====================================================== */

/* {====================================================== locks */

typedef struct {
  int fd;   /* -1 once released */
} fslock;

/* The pid written in a lock file, or 0. */
static long read_pid (int fd) {
  char buf[32];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  buf[n] = '\0';
  long pid = strtol(buf, NULL, 10);
  return pid > 0 ? pid : 0;
}

/*** lg.fs.lock(path) -> Lock | nil, message, pid
 * Takes an exclusive advisory lock (flock) on path, created if missing and
 * never through a symlink, and writes this process's pid into it.  When
 * another process holds it: nil, "PATH is held by process PID" and the pid
 * (0 when unknown).  Released by lock:unlock(), a to-be-closed variable, the
 * collector or the end of the process (children do not inherit it).
 * @function lg.fs.lock
 * @usage local path = os.tmpname()
 * local lock, msg = lg.fs.lock(path)
 * if not lock then error(msg) end
 * lock:unlock()
 * os.remove(path)
 */
/* lg.fs.lock(path) -> lock | nil, message, pid */
static int l_lock (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  fslock *k = lua_newuserdatauv(L, sizeof *k, 0);
  k->fd = -1;
  luaL_setmetatable(L, LOCK_MT);
  int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0)
    return luaL_error(L, "lock: cannot open '%s': %s", path,
                      errno == ELOOP ? "it is a symbolic link" : strerror(errno));
  int rc;
  while ((rc = flock(fd, LOCK_EX | LOCK_NB)) && errno == EINTR) {}
  if (rc) {
    int e = errno;
    long pid = e == EWOULDBLOCK ? read_pid(fd) : 0;
    close(fd);
    if (e != EWOULDBLOCK) return luaL_error(L, "lock: cannot lock '%s': %s", path, strerror(e));
    lua_pushnil(L);
    if (pid) lua_pushfstring(L, "%s is held by process %I", path, (lua_Integer)pid);
    else lua_pushfstring(L, "%s is held by another process", path);
    lua_pushinteger(L, pid);
    return 3;
  }
  k->fd = fd;
  /* the pid is for the messages of others: a full disk must not stop us */
  char buf[32];
  int len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)len, 0) != len) {
    if (ftruncate(fd, 0)) {}   /* no pid rather than half of one */
  }
  return 1;
}

/*** lock:unlock()
 * Releases the lock; idempotent.
 * @function lg.fs.Lock:unlock
 * @usage local path = os.tmpname()
 * local lock = assert(lg.fs.lock(path))
 * lock:unlock()
 * os.remove(path)
 */
static int lock_release (lua_State *L) {
  fslock *k = luaL_checkudata(L, 1, LOCK_MT);
  if (k->fd >= 0) close(k->fd);   /* closing the only descriptor releases the flock */
  k->fd = -1;
  return 0;
}

/*** lock:held() -> boolean
 * True until the lock was released.
 * @function lg.fs.Lock:held
 * @usage local path = os.tmpname()
 * local lock = assert(lg.fs.lock(path))
 * assert(lock:held())
 * lock:unlock()
 * assert(not lock:held())
 * os.remove(path)
 */
static int lock_held (lua_State *L) {
  lua_pushboolean(L, ((fslock *)luaL_checkudata(L, 1, LOCK_MT))->fd >= 0);
  return 1;
}

/* }====================================================== */

/* {====================================================== directories */

/* The open directory of a listing, closed on return or error. */
static int dir_close (lua_State *L) {
  DIR **d = lua_touserdata(L, 1);
  if (*d) closedir(*d);
  *d = NULL;
  return 0;
}

static int by_name (const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* What a directory entry is, following a symbolic link. */
static const char *kind_of (DIR *d, const char *name) {
  struct stat st;
  if (fstatat(dirfd(d), name, &st, 0)) return "other";   /* e.g. a dangling link */
  return S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : "other";
}

/*** lg.fs.list(dir) -> names, kinds | nil, message
 * The entries of directory dir except "." and "..", sorted by their bytes
 * (as LC_ALL=C sort), and a parallel list of their kinds: "file" (a regular
 * file or a link to one), "dir" (also through a link) or "other".  nil and a
 * message when dir cannot be opened; names are returned whole, even with
 * newlines.
 * @function lg.fs.list
 * @usage local names, kinds = lg.fs.list(".")
 * for i, n in ipairs(names or {}) do print(kinds[i], n) end
 */
/* lg.fs.list(dir) -> names, kinds | nil, message: the entries of dir but "."
** and "..", sorted by their bytes (as `LC_ALL=C sort`), and for each one
** "file" (a regular file or a link to one), "dir" or "other".  Names
** are returned as they are: one holding a newline is one name, where a
** listing read line by line from a shell would split it. */
static int l_list (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  DIR **d = lua_newuserdatauv(L, sizeof *d, 0);
  *d = NULL;
  if (luaL_newmetatable(L, "luagan.dir")) {
    lua_pushcfunction(L, dir_close);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__gc");
    lua_setfield(L, -2, "__close");
  }
  lua_setmetatable(L, -2);
  lua_toclose(L, -1);
  if (!(*d = opendir(path))) {
    lua_pushnil(L);
    lua_pushfstring(L, "cannot open directory '%s': %s", path, strerror(errno));
    return 2;
  }
  lua_newtable(L);                        /* the names, in directory order */
  int raw = lua_gettop(L), n = 0;
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(*d);
    if (!e) {
      if (errno) return luaL_error(L, "list: cannot read '%s': %s", path, strerror(errno));
      break;
    }
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    lua_pushstring(L, e->d_name);
    lua_rawseti(L, raw, ++n);
  }
  /* sort pointers to the strings, which the table keeps alive */
  const char **names = lua_newuserdatauv(L, sizeof *names * (size_t)(n ? n : 1), 0);
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, raw, i + 1);
    names[i] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  qsort(names, (size_t)n, sizeof *names, by_name);
  lua_createtable(L, n, 0);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushstring(L, names[i]);
    lua_rawseti(L, -3, i + 1);
    lua_pushstring(L, kind_of(*d, names[i]));
    lua_rawseti(L, -2, i + 1);
  }
  return 2;
}

/*** lg.fs.mkdir(path)
 * Creates directory path and its missing parents (mkdir -p); existing
 * directories are fine.  Raises naming the component that could not be
 * created ("a file is in the way" when a file has its name).
 * @function lg.fs.mkdir
 * @usage local dir = os.tmpname()
 * os.remove(dir)
 * lg.fs.mkdir(dir .. "/a/b")
 * os.remove(dir .. "/a/b"); os.remove(dir .. "/a"); os.remove(dir)
 */
/* lg.fs.mkdir(path): path and its missing parents */
static int l_mkdir (lua_State *L) {
  size_t len;
  const char *path = luaL_checklstring(L, 1, &len);
  char buf[PATH_MAX];
  if (len == 0 || len >= sizeof buf) return luaL_error(L, "mkdir: bad path '%s'", path);
  memcpy(buf, path, len + 1);
  for (char *p = buf + 1; ; p++) {
    int end = *p == '\0';
    if (*p == '/' || end) {
      *p = '\0';
      struct stat st;
      if (mkdir(buf, 0777) && (errno != EEXIST || stat(buf, &st) || !S_ISDIR(st.st_mode)))
        return luaL_error(L, "mkdir: cannot create directory '%s': %s", buf,
                          errno == EEXIST ? "a file is in the way" : strerror(errno));
      if (end) break;
      *p = '/';
    }
  }
  return 0;
}

/*** lg.fs.kind(path) -> "file" | "dir" | "link" | "other" | nil
 * What is at path, without following a symbolic link (lstat); nil when
 * nothing is.
 * @function lg.fs.kind
 * @usage assert(lg.fs.kind(".") == "dir")
 */
/* lg.fs.kind(path) -> "file" | "dir" | "link" | "other" | nil, without following links */
static int l_kind (lua_State *L) {
  struct stat st;
  if (lstat(luaL_checkstring(L, 1), &st)) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushstring(L, S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" :
                    S_ISLNK(st.st_mode) ? "link" : "other");
  return 1;
}

/* }====================================================== */

static const luaL_Reg file_methods[] = {
  {"write", file_write},
  {"size", file_size},
  {"sync", file_sync},
  {"truncate", file_truncate},
  {"close", file_close},
  {NULL, NULL}
};

static const luaL_Reg lock_methods[] = {
  {"unlock", lock_release},
  {"held", lock_held},
  {NULL, NULL}
};

static const luaL_Reg fs_funcs[] = {
  {"write_atomic", l_write_atomic},
  {"tempfile", l_tempfile},
  {"open_append", l_open_append},
  {"lock", l_lock},
  {"list", l_list},
  {"mkdir", l_mkdir},
  {"kind", l_kind},
  {NULL, NULL}
};

/* A metatable with __index = methods and the given finaliser as __gc and __close. */
static void new_class (lua_State *L, const char *name, const luaL_Reg *methods,
                       lua_CFunction fin) {
  luaL_newmetatable(L, name);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, fin);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, fin);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
}

/* Pushes the lg.fs table. */
int lgL_openfs (lua_State *L) {
  new_class(L, FILE_MT, file_methods, file_gc);
  new_class(L, LOCK_MT, lock_methods, lock_release);
  lua_newtable(L);
  lgL_setfuncs(L, fs_funcs);
  return 1;
}
