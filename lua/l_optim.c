/*
** Optimizer kernels and clipping, for lua/luagan/optim.lua and for users:
** lg.sgd_step / adam_step / rmsprop_step update one parameter in place;
** lg.clip_ clamps parameters (WGAN's weight clipping); lg.clip_grad_norm_
** rescales gradients to a maximum total norm.
*/
#include "luagan.h"

#include <math.h>

static int checkstatus(lua_State *L, int rc) {
  if (rc) lgL_coreerror(L);
  return 0;
}

static int optbool(lua_State *L, int arg) {
  if (lua_isnoneornil(L, arg)) return 0;
  luaL_checktype(L, arg, LUA_TBOOLEAN);
  return lua_toboolean(L, arg);
}

/* lg.sgd_step(p, grad, momentum_buf|nil, lr, momentum, dampening, weight_decay, nesterov, first) */
static int l_sgd_step (lua_State *L) {
  lg_tensor *p = lgL_checktensor(L, 1), *g = lgL_checktensor(L, 2), *buf = lgL_opttensor(L, 3);
  return checkstatus(L, lg_sgd_step(p, g, buf, lgL_checkfloat(L, 4), lgL_checkfloat(L, 5),
                                    lgL_checkfloat(L, 6), lgL_checkfloat(L, 7), optbool(L, 8),
                                    optbool(L, 9)));
}

/* lg.adam_step(p, grad, m, v, lr, beta1, beta2, eps, weight_decay, step) */
static int l_adam_step (lua_State *L) {
  lg_tensor *p = lgL_checktensor(L, 1), *g = lgL_checktensor(L, 2);
  lg_tensor *m = lgL_checktensor(L, 3), *v = lgL_checktensor(L, 4);
  return checkstatus(L, lg_adam_step(p, g, m, v, lgL_checkfloat(L, 5), lgL_checkfloat(L, 6),
                                     lgL_checkfloat(L, 7), lgL_checkfloat(L, 8),
                                     lgL_checkfloat(L, 9), luaL_checkinteger(L, 10)));
}

/* lg.rmsprop_step(p, grad, square_avg, grad_avg|nil, momentum_buf|nil, lr, alpha, eps,
**                 weight_decay, momentum, centered) */
static int l_rmsprop_step (lua_State *L) {
  lg_tensor *p = lgL_checktensor(L, 1), *g = lgL_checktensor(L, 2);
  lg_tensor *sq = lgL_checktensor(L, 3), *ga = lgL_opttensor(L, 4), *buf = lgL_opttensor(L, 5);
  return checkstatus(L, lg_rmsprop_step(p, g, sq, ga, buf, lgL_checkfloat(L, 6),
                                        lgL_checkfloat(L, 7), lgL_checkfloat(L, 8),
                                        lgL_checkfloat(L, 9), lgL_checkfloat(L, 10),
                                        optbool(L, 11)));
}

/* The tensors of argument arg: one tensor or a list of them, left on the
** stack as a list at the returned index. */
static int tensorlist(lua_State *L, int arg, const char *op) {
  if (lgL_totensor(L, arg)) {
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, arg);
    lua_rawseti(L, -2, 1);
  } else {
    if (lua_type(L, arg) != LUA_TTABLE) luaL_typeerror(L, arg, "tensor or list of tensors");
    lua_Integer n = luaL_len(L, arg);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, arg, i);
      if (!lgL_totensor(L, -1)) luaL_error(L, "%s: element %d of the list is not a tensor", op, (int)i);
      lua_pop(L, 1);
    }
    lua_pushvalue(L, arg);
  }
  return lua_gettop(L);
}

/* lg.clip_(params, lo, hi): clamps values in place, outside any graph. */
static int l_clip_ (lua_State *L) {
  int list = tensorlist(L, 1, "clip_");
  float lo = lgL_checkfloat(L, 2), hi = lgL_checkfloat(L, 3);
  lua_Integer n = luaL_len(L, list);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    checkstatus(L, lg_clip_(lgL_totensor(L, -1), lo, hi));
    lua_pop(L, 1);
  }
  return 0;
}

/* lg.clip_grad_norm_(params, max_norm) -> the total norm before clipping.
** As torch.nn.utils.clip_grad_norm_: if the norm exceeds max_norm, every
** gradient is scaled by max_norm / (norm + 1e-6). */
static int l_clip_grad_norm_ (lua_State *L) {
  int list = tensorlist(L, 1, "clip_grad_norm_");
  float max_norm = lgL_checkfloat(L, 2);
  lua_Integer n = luaL_len(L, list);
  double total = 0.0;
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    lg_tensor *g = lgL_totensor(L, -1)->grad;
    double norm = g ? lg_norm2(&g, 1) : 0.0;
    total += norm * norm;
    lua_pop(L, 1);
  }
  total = sqrt(total);
  double coef = max_norm / (total + 1e-6);
  for (lua_Integer i = 1; coef < 1.0 && i <= n; i++) {
    lua_rawgeti(L, list, i);
    lg_tensor *g = lgL_totensor(L, -1)->grad;
    if (g) {
      lg_tensor **scaled = lgL_newslot(L);          /* owned by Lua if copy_ raises */
      lgL_settensor(L, scaled, lg_mul_scalar(g, (float)coef));
      checkstatus(L, lg_copy_(g, *scaled));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pushnumber(L, total);
  return 1;
}

const luaL_Reg lgL_optim_funcs[] = {
  {"sgd_step", l_sgd_step},
  {"adam_step", l_adam_step},
  {"rmsprop_step", l_rmsprop_step},
  {"clip_", l_clip_},
  {"clip_grad_norm_", l_clip_grad_norm_},
  {NULL, NULL}
};
