/*
** Data and random-state functions: lg.read_idx(path) for the MNIST family's
** files, lg.get_rng_state() / lg.set_rng_state(s) so that a checkpoint can
** resume the random stream bit-identically, lg.randperm(n) for shuffling,
** lg.clock() (monotonic wall time) for timing, and lg.listdir(path) for
** image folders.
*/
#include "luagan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* lg.read_idx(path) -> float tensor of the raw values (gzipped or not) */
static int l_read_idx (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_read_idx(path));
}

/* lg.get_rng_state() -> {5 integers}: the generator's words as Lua's 64-bit
** integers (bit patterns, so some are negative). */
static int l_get_rng_state (lua_State *L) {
  uint64_t s[5];
  lg_rng_get_state(s);
  lua_createtable(L, 5, 0);
  for (int i = 0; i < 5; i++) {
    lua_pushinteger(L, (lua_Integer)s[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* lg.set_rng_state(t): t as returned by get_rng_state */
static int l_set_rng_state (lua_State *L) {
  uint64_t s[5];
  luaL_checktype(L, 1, LUA_TTABLE);
  for (int i = 0; i < 5; i++) {
    lua_rawgeti(L, 1, i + 1);
    if (!lua_isinteger(L, -1))
      return luaL_error(L, "set_rng_state: entry %d must be an integer (use get_rng_state's table)", i + 1);
    s[i] = (uint64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  if ((s[0] | s[1] | s[2] | s[3]) == 0)
    return luaL_error(L, "set_rng_state: an all-zero state would make the generator emit only zeros");
  lg_rng_set_state(s);
  return 0;
}

/* lg.randperm(n) -> a random permutation of 1..n (1-based, like indices) */
static int l_randperm (lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 0 && n <= ((lua_Integer)1 << 24), 1,
                "randperm: n must be in 0..16777216 (floats hold indices exactly up to 2^24)");
  lg_tensor **r = lgL_newslot(L);
  lg_tensor *p = lg_randperm(n);
  lg_tensor *one_based = p ? lg_add_scalar(p, 1.0f) : NULL;
  lg_release(p);
  return lgL_settensor(L, r, one_based);
}

/* lg.clock() -> seconds of monotonic wall time, for timing and ETAs */
static int l_clock (lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

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
  return S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "directory" : "other";
}

/* lg.listdir(path) -> names, kinds: the entries of directory path but "."
** and "..", sorted by their bytes (as `LC_ALL=C sort`), and for each one
** "file" (a regular file or a link to one), "directory" or "other".  Names
** are returned as they are: one holding a newline is one name, where a
** listing read line by line from a shell would split it. */
static int l_listdir (lua_State *L) {
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
  if (!(*d = opendir(path)))
    return luaL_error(L, "listdir: cannot open directory '%s': %s", path, strerror(errno));
  lua_newtable(L);                        /* the names, in directory order */
  int raw = lua_gettop(L), n = 0;
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(*d);
    if (!e) {
      if (errno) return luaL_error(L, "listdir: cannot read '%s': %s", path, strerror(errno));
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

const luaL_Reg lgL_data_funcs[] = {
  {"listdir", l_listdir},
  {"randperm", l_randperm},
  {"clock", l_clock},
  {"read_idx", l_read_idx},
  {"get_rng_state", l_get_rng_state},
  {"set_rng_state", l_set_rng_state},
  {NULL, NULL}
};
