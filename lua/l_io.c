/*
** Checkpoints: lg.save(path, {name = tensor}, {key = "value"}) and
** lg.load(path) -> tensors, metadata, in the safetensors format
** (core/io_safetensors.c).  Tensors are written in sorted name order, so the
** same state gives the same bytes.
*/
#include "luagan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_names(const void *a, const void *b) {
  return strcmp(((const lg_named *)a)->name, ((const lg_named *)b)->name);
}

/* lg.save(path, tensors, metadata) */
static int l_save (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  int n = 0, nmeta = 0;
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "save: tensor names must be strings, got a %s key", luaL_typename(L, -2));
    if (!lgL_totensor(L, -1))
      luaL_error(L, "save: '%s' is a %s, a tensor is expected", lua_tostring(L, -2),
                 luaL_typename(L, -1));
    n++;
    lua_pop(L, 1);
  }
  if (!lua_isnoneornil(L, 3)) {
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      if (lua_type(L, -2) != LUA_TSTRING || !lua_isstring(L, -1))
        luaL_error(L, "save: metadata must map strings to strings or numbers");
      nmeta++;
      lua_pop(L, 1);
    }
  }
  /* scratch arrays live in userdata: nothing leaks if anything raises */
  lg_named *ts = lua_newuserdatauv(L, sizeof *ts * (size_t)(n ? n : 1), 0);
  lg_meta *meta = lua_newuserdatauv(L, sizeof *meta * (size_t)(nmeta ? nmeta : 1), 0);
  int i = 0;
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    ts[i].name = lua_tostring(L, -2);     /* kept alive by the table */
    ts[i++].t = lgL_totensor(L, -1);
    lua_pop(L, 1);
  }
  qsort(ts, (size_t)n, sizeof *ts, cmp_names);
  if (nmeta) {
    /* numbers become strings in a fresh table that anchors them */
    lua_newtable(L);
    int anchor = lua_gettop(L);
    i = 0;
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      meta[i].key = lua_tostring(L, -2);
      if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1)) {
        char num[32];   /* %.17g: tonumber gives back the same double */
        snprintf(num, sizeof num, "%.17g", (double)lua_tonumber(L, -1));
        lua_pushstring(L, num);
      } else {
        lua_pushvalue(L, -1);
      }
      meta[i].value = lua_tostring(L, -1);  /* converts integers; anchored below */
      lua_rawseti(L, anchor, i + 1);
      i++;
      lua_pop(L, 1);
    }
  }
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
