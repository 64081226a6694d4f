/*
** Checkpoints: lg.save(path, {name = tensor}, {key = "value"}) and
** lg.load(path) -> tensors, metadata, in the safetensors format
** (core/io_safetensors.c).  Tensors are written in sorted name order, so the
** same state gives the same bytes.
*/
#include "luagan.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_names(const void *a, const void *b) {
  return strcmp(((const lg_named *)a)->name, ((const lg_named *)b)->name);
}

/* Counts the entries of the table at idx; lua_next calls no Lua code and
** allocates nothing, so the table cannot change while it is counted. */
static int count(lua_State *L, int idx, const char *what) {
  int n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (n == INT_MAX) luaL_error(L, "save: too many %s", what);
    n++;
    lua_pop(L, 1);
  }
  return n;
}

/* Any allocation can run a finalizer that changes a table being read
** (this is how a table changes between count() and the fill loops). */
static int changed(lua_State *L, const char *what) {
  return luaL_error(L, "save: the table of %s changed while it was read (by a finalizer?)", what);
}

/*** lg.save(path, tensors [, metadata])
 * Writes the tensors of a table {name = Tensor} and optional metadata {key =
 * string or number} to path in the safetensors format, atomically (temporary
 * file, fsync, rename); tensors in sorted name order, so the same state gives
 * the same bytes.  Raises for non-string names, non-tensor values or a write
 * error naming the path.
 * @function lg.save
 * @usage local path = os.tmpname()
 * lg.save(path, {w = lg.randn(3, 2)}, {iteration = 100})
 * os.remove(path)
 */
/* lg.save(path, tensors, metadata).  The metadata are read first, because
** their conversion allocates; the tensors last, in a loop that allocates
** nothing, right before the write: a finalizer can then neither free a
** tensor nor change the table under us (see luagan.h). */
static int l_save (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int n, nmeta = 0, i, anchor;
  lg_named *ts;
  lg_meta *meta = NULL;
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  if (!lua_isnil(L, 3)) {
    nmeta = count(L, 3, "metadata entries");
    /* scratch arrays live in userdata: nothing leaks if anything raises */
    meta = lua_newuserdatauv(L, sizeof *meta * (size_t)(nmeta ? nmeta : 1), 0);
    /* keys and values are kept alive by this table: the metadata table
    ** may lose them to a finalizer */
    lua_createtable(L, 2 * nmeta, 0);
    anchor = lua_gettop(L);
    i = 0;
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      if (i == nmeta) changed(L, "metadata");
      if (lua_type(L, -2) != LUA_TSTRING || !lua_isstring(L, -1))
        luaL_error(L, "save: metadata must map strings to strings or numbers");
      if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1)) {
        char num[32];   /* %.17g: tonumber gives back the same double */
        snprintf(num, sizeof num, "%.17g", (double)lua_tonumber(L, -1));
        lua_pushstring(L, num);
      } else {
        lua_pushvalue(L, -1);   /* tostring converts integers in place: on a copy */
      }
      meta[i].value = lua_tostring(L, -1);
      lua_rawseti(L, anchor, 2 * i + 1);
      lua_pop(L, 1);   /* the value */
      lua_pushvalue(L, -1);
      meta[i].key = lua_tostring(L, -1);
      lua_rawseti(L, anchor, 2 * i + 2);
      i++;
    }
    if (i != nmeta) changed(L, "metadata");
  }
  n = count(L, 2, "tensors");
  ts = lua_newuserdatauv(L, sizeof *ts * (size_t)(n ? n : 1), 0);
  /* from here to the write nothing allocates (but errors) or calls Lua */
  i = 0;
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    if (i == n) changed(L, "tensors");
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "save: tensor names must be strings, got a %s key", luaL_typename(L, -2));
    ts[i].name = lua_tostring(L, -2);   /* kept alive by the table */
    if ((ts[i].t = lgL_totensor(L, lua_gettop(L))) == NULL)
      luaL_error(L, "save: '%s' is a %s, a tensor is expected", lua_tostring(L, -2),
                 luaL_typename(L, -1));
    i++;
    lua_pop(L, 1);
  }
  if (i != n) changed(L, "tensors");
  qsort(ts, (size_t)n, sizeof *ts, cmp_names);
  if (lg_save_safetensors(path, ts, n, meta, nmeta)) lgL_coreerror(L);
  return 0;
}

/* What lg_load_safetensors returned, owned by a userdata until converted. */
typedef struct {
  lg_named *ts;
  int n;
  lg_meta *meta;
  int nmeta;
} loaded;

static int loaded_gc (lua_State *L) {
  loaded *b = lua_touserdata(L, 1);
  lg_free_loaded(b->ts, b->n, b->meta, b->nmeta);
  memset(b, 0, sizeof *b);
  return 0;
}

/*** lg.load(path) -> {name = Tensor}, {key = string}
 * Reads a safetensors file written by lg.save or another tool (every dtype,
 * F32, F64, F16, BF16, integers and BOOL, is converted to float):
 * the tensors by name and the metadata, whose values are strings.  Raises
 * naming the path for a missing, truncated or malformed file.
 * @function lg.load
 * @usage local path = os.tmpname()
 * lg.save(path, {w = lg.ones(2)}, {step = 7})
 * local ts, meta = lg.load(path)
 * print(ts.w, tonumber(meta.step))
 * os.remove(path)
 */
/* lg.load(path) -> {name = tensor}, {key = value} */
static int l_load (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  loaded *b = lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  if (luaL_newmetatable(L, "luagan.loaded")) {
    lua_pushcfunction(L, loaded_gc);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__gc");
    lua_setfield(L, -2, "__close");
  }
  lua_setmetatable(L, -2);
  lua_toclose(L, -1);                     /* freed on return or error */
  if (lg_load_safetensors(path, &b->ts, &b->n, &b->meta, &b->nmeta)) lgL_coreerror(L);
  lua_createtable(L, 0, b->n);
  for (int i = 0; i < b->n; i++) {
    lgL_pushretained(L, b->ts[i].t);
    lua_setfield(L, -2, b->ts[i].name);
  }
  /* sized for at most 4096 keys: a header repeating one key many times
  ** must not buy a table for all of them */
  lua_createtable(L, 0, b->nmeta < 4096 ? b->nmeta : 4096);
  for (int i = 0; i < b->nmeta; i++) {
    lua_pushstring(L, b->meta[i].value);
    lua_setfield(L, -2, b->meta[i].key);
  }
  return 2;
}

const luaL_Reg lgL_io_funcs[] = {
  {"save", l_save},
  {"load", l_load},
  {NULL, NULL}
};
