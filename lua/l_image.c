/*
** lg.image: load(path), save(path, x), grid(batch, {nrow=, padding=,
** pad_value=}), resize(x, h, w).  All numerics and all file handling are the
** core's (core/io_image.c); this file checks arguments and converts.
*/
#include "luagan.h"

#include <limits.h>


/* An integer field of the option table at arg, in [min, INT_MAX]; absent -> def. */
static int intfield(lua_State *L, int arg, const char *key, int def, int min, const char *op) {
  lua_Integer v = def;
  if (lua_isnoneornil(L, arg)) return def;
  int tp = lua_getfield(L, arg, key);
  if (tp != LUA_TNIL) {
    if (!lua_isinteger(L, -1))
      luaL_error(L, "%s: option '%s' must be an integer, got %s", op, key,
                 tp == LUA_TNUMBER ? "a float" : luaL_typename(L, -1));
    v = lua_tointeger(L, -1);
    if (v < min || v > INT_MAX)
      luaL_error(L, "%s: option '%s' must be >= %d, got %I", op, key, min, v);
  }
  lua_pop(L, 1);
  return (int)v;
}

static float floatfield(lua_State *L, int arg, const char *key, float def, const char *op) {
  float v = def;
  if (lua_isnoneornil(L, arg)) return def;
  int tp = lua_getfield(L, arg, key);
  if (tp == LUA_TNUMBER) v = (float)lua_tonumber(L, -1);
  else if (tp != LUA_TNIL)
    luaL_error(L, "%s: option '%s' must be a number, got %s", op, key, luaL_typename(L, -1));
  lua_pop(L, 1);
  return v;
}

/* A size argument: an integer in 1..INT_MAX (the core checks the upper
** limit).  Messages name the function: luaL_argerror cannot find a name for
** a function inside lg.image. */
static int checksize(lua_State *L, int arg, const char *what) {
  if (!lua_isinteger(L, arg))
    luaL_error(L, "image.resize: %s must be an integer, got %s", what,
               lua_type(L, arg) == LUA_TNUMBER ? "a float" : luaL_typename(L, arg));
  lua_Integer v = lua_tointeger(L, arg);
  if (v < 1 || v > INT_MAX)
    luaL_error(L, "image.resize: %s must be a positive integer, got %I", what, v);
  return (int)v;
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
  lg_tensor *batch = lgL_checktensor(L, 1);
  lgL_checkoptions(L, 2, "image.grid", valid);
  int nrow = intfield(L, 2, "nrow", 8, 1, "image.grid");
  int padding = intfield(L, 2, "padding", 2, 0, "image.grid");
  float pad_value = floatfield(L, 2, "pad_value", 0.0f, "image.grid");
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_image_grid(batch, nrow, padding, pad_value));
}

/* lg.image.resize(x, h, w): the last two dims to h x w */
static int l_resize (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1);
  int h = checksize(L, 2, "height"), w = checksize(L, 3, "width");
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_image_resize(x, h, w));
}

const luaL_Reg lgL_image_funcs[] = {
  {"load", l_load},
  {"save", l_save},
  {"grid", l_grid},
  {"resize", l_resize},
  {NULL, NULL}
};
