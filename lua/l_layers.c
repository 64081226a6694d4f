/*
** Layer functions: convolutions, batch norm, pooling, upsampling, dropout.
** Options come as tables ({stride=2, padding=1}); a size is a number or a
** {h, w} pair.  All numerics are the core's.
*/
#include "luagan.h"

#include <limits.h>
#include <string.h>

/* The integer on top of the stack as an int: a larger one must not wrap to
** a small, plausible value (padding 2^32 + 1 would become 1). */
static int intfield(lua_State *L, const char *key, const char *op) {
  lua_Integer v = lua_tointeger(L, -1);
  if (v < INT_MIN || v > INT_MAX) luaL_error(L, "%s: %s %I is too large", op, key, v);
  return (int)v;
}

/* An int option that is a number or an {h, w} pair; absent -> def. */
static void pairfield(lua_State *L, int arg, const char *key, int def, int min, int out[2],
                      const char *op) {
  out[0] = out[1] = def;
  if (lua_isnoneornil(L, arg)) return;
  int tp = lua_getfield(L, arg, key);
  if (tp == LUA_TNUMBER) {
    if (!lua_isinteger(L, -1)) luaL_error(L, "%s: %s must be an integer", op, key);
    out[0] = out[1] = intfield(L, key, op);
  } else if (tp == LUA_TTABLE) {
    for (int i = 0; i < 2; i++) {
      lua_rawgeti(L, -1, i + 1);
      if (!lua_isinteger(L, -1))
        luaL_error(L, "%s: %s must be an integer or a pair {h, w} of integers", op, key);
      out[i] = intfield(L, key, op);
      lua_pop(L, 1);
    }
  } else if (tp != LUA_TNIL) {
    luaL_error(L, "%s: %s must be an integer or a pair {h, w}, got %s", op, key,
               luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  for (int i = 0; i < 2; i++)
    if (out[i] < min) luaL_error(L, "%s: %s must be >= %d, got %d", op, key, min, out[i]);
}

static void convopts(lua_State *L, int arg, const char *op, int transposed, lg_conv_opts *o) {
  static const char *const plain[] = {"stride", "padding", NULL};
  static const char *const trans[] = {"stride", "padding", "output_padding", NULL};
  lgL_checkoptions(L, arg, op, transposed ? trans : plain);
  pairfield(L, arg, "stride", 1, 1, o->stride, op);
  pairfield(L, arg, "padding", 0, 0, o->padding, op);
  pairfield(L, arg, "output_padding", 0, 0, o->output_padding, op);
}

/* lg.conv2d(x, w, b, {stride=, padding=}) */
static int l_conv2d (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), *w = lgL_checktensor(L, 2), *b = lgL_opttensor(L, 3);
  lg_conv_opts o;
  convopts(L, 4, "conv2d", 0, &o);
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_conv2d(x, w, b, &o));
}

/* lg.conv_transpose2d(x, w, b, {stride=, padding=, output_padding=}) */
static int l_conv_transpose2d (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), *w = lgL_checktensor(L, 2), *b = lgL_opttensor(L, 3);
  lg_conv_opts o;
  convopts(L, 4, "conv_transpose2d", 1, &o);
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_conv_transpose2d(x, w, b, &o));
}

/* lg.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps),
** the defaults of torch.nn.functional.batch_norm: training false, 0.1, 1e-5. */
static int l_batch_norm (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), *rm = lgL_opttensor(L, 2), *rv = lgL_opttensor(L, 3);
  lg_tensor *w = lgL_opttensor(L, 4), *b = lgL_opttensor(L, 5);
  int training = lua_isnoneornil(L, 6) ? 0 : (luaL_checktype(L, 6, LUA_TBOOLEAN), lua_toboolean(L, 6));
  float momentum = lua_isnoneornil(L, 7) ? 0.1f : lgL_checkfloat(L, 7);
  float eps = lua_isnoneornil(L, 8) ? 1e-5f : lgL_checkfloat(L, 8);
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_batch_norm(x, rm, rv, w, b, training, momentum, eps));
}

/* lg.avg_pool2d(x, k, {stride=k, padding=0}) and max_pool2d */
static int pool(lua_State *L, const char *op,
                lg_tensor *(*f)(lg_tensor *, int, int, int)) {
  static const char *const valid[] = {"stride", "padding", NULL};
  lg_tensor *x = lgL_checktensor(L, 1);
  lua_Integer k = luaL_checkinteger(L, 2);
  int stride[2], padding[2];
  luaL_argcheck(L, k >= 1 && k <= 65536, 2, "kernel size must be in 1..65536");
  lgL_checkoptions(L, 3, op, valid);
  pairfield(L, 3, "stride", (int)k, 1, stride, op);
  pairfield(L, 3, "padding", 0, 0, padding, op);
  if (stride[0] != stride[1] || padding[0] != padding[1])
    luaL_error(L, "%s: stride and padding must be the same for height and width", op);
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, f(x, (int)k, stride[0], padding[0]));
}

static int l_avg_pool2d (lua_State *L) { return pool(L, "avg_pool2d", lg_avg_pool2d); }
static int l_max_pool2d (lua_State *L) { return pool(L, "max_pool2d", lg_max_pool2d); }

/* lg.upsample_nearest(x, scale) */
static int l_upsample_nearest (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1);
  lua_Integer s = luaL_checkinteger(L, 2);
  luaL_argcheck(L, s >= 1 && s <= 4096, 2, "scale must be an integer in 1..4096");
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_upsample_nearest(x, (int)s));
}

/* lg.dropout(x, p, training=true) */
static int l_dropout (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1);
  float p = lgL_checkfloat(L, 2);
  int training = lua_isnoneornil(L, 3) ? 1 : (luaL_checktype(L, 3, LUA_TBOOLEAN), lua_toboolean(L, 3));
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_dropout(x, p, training));
}

const luaL_Reg lgL_layers_funcs[] = {
  {"conv2d", l_conv2d},
  {"conv_transpose2d", l_conv_transpose2d},
  {"batch_norm", l_batch_norm},
  {"avg_pool2d", l_avg_pool2d},
  {"max_pool2d", l_max_pool2d},
  {"upsample_nearest", l_upsample_nearest},
  {"dropout", l_dropout},
  {NULL, NULL}
};
