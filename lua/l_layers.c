/*
** Layer functions: convolutions, batch norm, pooling, upsampling, dropout.
** Options come as tables ({stride=2, padding=1}); a size is a number or a
** {h, w} pair.  All numerics are the core's.
*/
#include "luagan.h"

#include <limits.h>
#include <string.h>

/* An int option that is a number or an {h, w} pair, in min..INT_MAX;
** absent -> def.  Its __index may run Lua code: read options before taking
** tensor pointers (luagan.h). */
static void pairfield(lua_State *L, int arg, const char *key, int def, int min, int out[2],
                      const char *op) {
  out[0] = out[1] = def;
  if (lua_isnoneornil(L, arg)) return;
  int tp = lua_getfield(L, arg, key);
  if (tp == LUA_TTABLE) {
    if (lua_rawlen(L, -1) != 2)
      luaL_error(L, "%s: %s must be an integer or a pair {h, w}, got a table of %I entries", op,
                 key, (lua_Integer)lua_rawlen(L, -1));
    for (int i = 0; i < 2; i++) {
      lua_rawgeti(L, -1, i + 1);
      out[i] = (int)lgL_checkintrange(L, -1, op, key, min, INT_MAX);
      lua_pop(L, 1);
    }
  } else if (tp != LUA_TNIL) {
    out[0] = out[1] = (int)lgL_checkintrange(L, -1, op, key, min, INT_MAX);
  }
  lua_pop(L, 1);
}

static void convopts(lua_State *L, int arg, const char *op, int transposed, lg_conv_opts *o) {
  static const char *const plain[] = {"stride", "padding", NULL};
  static const char *const trans[] = {"stride", "padding", "output_padding", NULL};
  lgL_checkoptions(L, arg, op, transposed ? trans : plain);
  pairfield(L, arg, "stride", 1, 1, o->stride, op);
  pairfield(L, arg, "padding", 0, 0, o->padding, op);
  pairfield(L, arg, "output_padding", 0, 0, o->output_padding, op);
}

typedef lg_tensor *(*convfn)(lg_tensor *, lg_tensor *, lg_tensor *, const lg_conv_opts *);

/* The options first, then the result slot, then the pointers: see luagan.h. */
static int conv(lua_State *L, const char *op, int transposed, convfn f) {
  lg_tensor *x, *w, *b, **r;
  lg_conv_opts o;
  lgL_checktensor(L, 1);   /* argument errors before option errors */
  lgL_checktensor(L, 2);
  lgL_opttensor(L, 3);
  convopts(L, 4, op, transposed, &o);
  lua_settop(L, 4);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);
  w = lgL_checktensor(L, 2);
  b = lgL_opttensor(L, 3);
  return lgL_settensor(L, r, f(x, w, b, &o));
}

/* lg.conv2d(x, w, b, {stride=, padding=}) */
static int l_conv2d (lua_State *L) { return conv(L, "conv2d", 0, lg_conv2d); }

/* lg.conv_transpose2d(x, w, b, {stride=, padding=, output_padding=}) */
static int l_conv_transpose2d (lua_State *L) {
  return conv(L, "conv_transpose2d", 1, lg_conv_transpose2d);
}

static int optbool(lua_State *L, int arg) {
  if (lua_isnoneornil(L, arg)) return 0;
  luaL_checktype(L, arg, LUA_TBOOLEAN);
  return lua_toboolean(L, arg);
}

/* lg.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps),
** the defaults of torch.nn.functional.batch_norm: training false, 0.1, 1e-5. */
static int l_batch_norm (lua_State *L) {
  lg_tensor *x, *rm, *rv, *w, *b, **r;
  int training;
  float momentum, eps;
  lgL_checktensor(L, 1);
  for (int i = 2; i <= 5; i++) lgL_opttensor(L, i);
  training = optbool(L, 6);
  momentum = lua_isnoneornil(L, 7) ? 0.1f : lgL_checkfloat(L, 7);
  eps = lua_isnoneornil(L, 8) ? 1e-5f : lgL_checkfloat(L, 8);
  lua_settop(L, 8);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  rm = lgL_opttensor(L, 2);
  rv = lgL_opttensor(L, 3);
  w = lgL_opttensor(L, 4);
  b = lgL_opttensor(L, 5);
  return lgL_settensor(L, r, lg_batch_norm(x, rm, rv, w, b, training, momentum, eps));
}

/* lg.avg_pool2d(x, k, {stride=k, padding=0}) and max_pool2d */
static int pool(lua_State *L, const char *op,
                lg_tensor *(*f)(lg_tensor *, int, int, int)) {
  static const char *const valid[] = {"stride", "padding", NULL};
  lg_tensor *x, **r;
  int k, stride[2], padding[2];
  lgL_checktensor(L, 1);
  k = (int)lgL_checkintrange(L, 2, op, "kernel size", 1, 65536);
  lgL_checkoptions(L, 3, op, valid);
  pairfield(L, 3, "stride", k, 1, stride, op);
  pairfield(L, 3, "padding", 0, 0, padding, op);
  if (stride[0] != stride[1] || padding[0] != padding[1])
    luaL_error(L, "%s: stride and padding must be the same for height and width", op);
  lua_settop(L, 3);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the options and the allocation: see luagan.h */
  return lgL_settensor(L, r, f(x, k, stride[0], padding[0]));
}

static int l_avg_pool2d (lua_State *L) { return pool(L, "avg_pool2d", lg_avg_pool2d); }
static int l_max_pool2d (lua_State *L) { return pool(L, "max_pool2d", lg_max_pool2d); }

/* lg.upsample_nearest(x, scale) */
static int l_upsample_nearest (lua_State *L) {
  lg_tensor *x, **r;
  int s;
  lgL_checktensor(L, 1);
  s = (int)lgL_checkintrange(L, 2, "upsample_nearest", "scale", 1, 4096);
  lua_settop(L, 2);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_upsample_nearest(x, s));
}

/* lg.dropout(x, p, training=true) */
static int l_dropout (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), **r;
  float p = lgL_checkfloat(L, 2);
  int training = lua_isnoneornil(L, 3) ? 1 : (luaL_checktype(L, 3, LUA_TBOOLEAN), lua_toboolean(L, 3));
  lua_settop(L, 3);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
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
