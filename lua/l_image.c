/*
** lg.image: load(path), save(path, x), grid(batch, {nrow=, padding=,
** pad_value=}), resize(x, h, w).  All numerics and all file handling are the
** core's (core/io_image.c); this file checks arguments and converts.
*/
#include "luagan.h"

#include <float.h>
#include <limits.h>
#include <math.h>


/* A number field of the option table at arg; absent -> def.  Its __index
** may run Lua code: read options before taking tensor pointers (luagan.h). */
static float floatfield(lua_State *L, int arg, const char *key, float def, const char *op) {
  float v = def;
  if (lua_isnoneornil(L, arg)) return def;
  int tp = lua_getfield(L, arg, key);
  if (tp == LUA_TNUMBER) {
    lua_Number n = lua_tonumber(L, -1);
    if (isfinite(n) && fabs(n) > FLT_MAX)
      luaL_error(L, "%s: option '%s' is out of float range, got %f", op, key, n);
    v = (float)n;
  } else if (tp != LUA_TNIL) {
    luaL_error(L, "%s: option '%s' must be a number, got %s", op, key, luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  return v;
}

/* lg.image.load(path) -> [C,H,W] in [0,1] */
static int l_load (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_image_load(path));
}

/* lg.image.save(path, x): [C,H,W] (C = 1 or 3) or [H,W], values in [0,1] */
static int l_save (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lg_tensor *x = lgL_checktensor(L, 2);
  if (lg_image_save(path, x)) return lgL_coreerror(L);
  return 0;
}

/* lg.image.grid(batch, {nrow=8, padding=2, pad_value=0}) -> [C,H',W'] */
static int l_grid (lua_State *L) {
  static const char *const valid[] = {"nrow", "padding", "pad_value", NULL};
  lg_tensor *batch, **r;
  lgL_checktensor(L, 1);
  lgL_checkoptions(L, 2, "image.grid", valid);
  int nrow = (int)lgL_optintfield(L, 2, "nrow", 8, 1, INT_MAX, "image.grid");
  int padding = (int)lgL_optintfield(L, 2, "padding", 2, 0, INT_MAX, "image.grid");
  float pad_value = floatfield(L, 2, "pad_value", 0.0f, "image.grid");
  lua_settop(L, 2);
  r = lgL_newslot(L);
  batch = lgL_checktensor(L, 1);   /* after the options and the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_image_grid(batch, nrow, padding, pad_value));
}

/* lg.image.resize(x, h, w): the last two dims to h x w */
static int l_resize (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), **r;
  int h = (int)lgL_checkintrange(L, 2, "image.resize", "height", 1, INT_MAX);
  int w = (int)lgL_checkintrange(L, 3, "image.resize", "width", 1, INT_MAX);
  lua_settop(L, 3);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_image_resize(x, h, w));
}

const luaL_Reg lgL_image_funcs[] = {
  {"load", l_load},
  {"save", l_save},
  {"grid", l_grid},
  {"resize", l_resize},
  {NULL, NULL}
};
