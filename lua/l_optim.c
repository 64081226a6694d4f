/*
** Optimizer kernels and clipping, for lua/luagan/optim.lua and for users:
** lg.sgd_step / adam_step / rmsprop_step update one parameter in place;
** lg.clip_ clamps parameters (WGAN's weight clipping); lg.clip_grad_norm_
** rescales gradients to a maximum total norm.
*/
#include "luagan.h"

#include <limits.h>
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

/* Hyperparameters go to the kernels as doubles (they form 1 - beta before
** rounding, as PyTorch does with Python floats), within float range. */
static double hyper (lua_State *L, int arg) { return lgL_checkfloatrange(L, arg); }

/*** lg.sgd_step(p, grad, momentum_buf, lr, momentum, dampening, weight_decay [, nesterov] [, first_step])
 * One in-place SGD update of parameter p with PyTorch's formulas (the kernel
 * of optim.SGD): weight decay added to grad, then momentum with dampening
 * (momentum_buf, p's shape, may be nil when momentum is 0; first_step true
 * initializes it with the gradient) and optionally Nesterov.  All tensors
 * contiguous and of p's shape.  Not recorded in the graph.
 * @function lg.sgd_step
 * @usage local p, g = lg.ones(3), lg.full({3}, 0.5)
 * lg.sgd_step(p, g, nil, 0.1, 0, 0, 0)   -- p = 0.95
 */
/* lg.sgd_step(p, grad, momentum_buf|nil, lr, momentum, dampening, weight_decay, nesterov, first) */
static int l_sgd_step (lua_State *L) {
  lg_tensor *p = lgL_checktensor(L, 1), *g = lgL_checktensor(L, 2), *buf = lgL_opttensor(L, 3);
  return checkstatus(L, lg_sgd_step(p, g, buf, hyper(L, 4), hyper(L, 5),
                                    hyper(L, 6), hyper(L, 7), optbool(L, 8),
                                    optbool(L, 9)));
}

/*** lg.adam_step(p, grad, m, v, lr, beta1, beta2, eps, weight_decay, step)
 * One in-place Adam update (Kingma and Ba 2015, Algorithm 1) of p, with its
 * first and second moment buffers m and v (p's shape) updated in place and
 * bias correction for step (1 on the first call); PyTorch's formulas, the
 * kernel of optim.Adam.  Not recorded in the graph.
 * @function lg.adam_step
 * @usage local p, g = lg.ones(3), lg.ones(3)
 * local m, v = lg.zeros(3), lg.zeros(3)
 * lg.adam_step(p, g, m, v, 2e-4, 0.5, 0.999, 1e-8, 0, 1)
 */
/* lg.adam_step(p, grad, m, v, lr, beta1, beta2, eps, weight_decay, step) */
static int l_adam_step (lua_State *L) {
  lg_tensor *p = lgL_checktensor(L, 1), *g = lgL_checktensor(L, 2);
  lg_tensor *m = lgL_checktensor(L, 3), *v = lgL_checktensor(L, 4);
  return checkstatus(L, lg_adam_step(p, g, m, v, hyper(L, 5), hyper(L, 6),
                                     hyper(L, 7), hyper(L, 8),
                                     hyper(L, 9), luaL_checkinteger(L, 10)));
}

/*** lg.rmsprop_step(p, grad, square_avg, grad_avg, momentum_buf, lr, alpha, eps, weight_decay, momentum [, centered])
 * One in-place RMSprop update of p (PyTorch's formulas, the kernel of
 * optim.RMSprop, the optimizer of WGAN, Arjovsky et al. 2017): square_avg
 * (p's shape) is updated in place with smoothing alpha; grad_avg is needed
 * when centered, momentum_buf when momentum > 0, otherwise nil.
 * @function lg.rmsprop_step
 * @usage local p, g, sq = lg.ones(3), lg.ones(3), lg.zeros(3)
 * lg.rmsprop_step(p, g, sq, nil, nil, 5e-5, 0.99, 1e-8, 0, 0)
 */
/* lg.rmsprop_step(p, grad, square_avg, grad_avg|nil, momentum_buf|nil, lr, alpha, eps,
**                 weight_decay, momentum, centered) */
static int l_rmsprop_step (lua_State *L) {
  lg_tensor *p = lgL_checktensor(L, 1), *g = lgL_checktensor(L, 2);
  lg_tensor *sq = lgL_checktensor(L, 3), *ga = lgL_opttensor(L, 4), *buf = lgL_opttensor(L, 5);
  return checkstatus(L, lg_rmsprop_step(p, g, sq, ga, buf, hyper(L, 6),
                                        hyper(L, 7), hyper(L, 8),
                                        hyper(L, 9), hyper(L, 10),
                                        optbool(L, 11)));
}

/* The tensors of argument arg, one tensor or a list of them, into a
** scratch array pushed on the stack; *n gets their count.  The list is read
** raw and its length once (a __len or __index could change it between two
** reads).  The pointers are valid until the next allocation or Lua call
** (luagan.h): call this last. */
static lg_tensor **tensorlist(lua_State *L, int arg, const char *op, int *n) {
  lg_tensor **ts;
  lua_Unsigned len;
  if (lgL_totensor(L, arg)) {
    ts = (lg_tensor **)lua_newuserdatauv(L, sizeof *ts, 0);
    ts[0] = lgL_checktensor(L, arg);
    *n = 1;
    return ts;
  }
  if (lua_type(L, arg) != LUA_TTABLE) luaL_typeerror(L, arg, "tensor or list of tensors");
  len = lua_rawlen(L, arg);
  if (len > INT_MAX) luaL_error(L, "%s: %I tensors is too many", op, (lua_Integer)len);
  *n = (int)len;
  ts = (lg_tensor **)lua_newuserdatauv(L, (len ? len : 1) * sizeof *ts, 0);
  for (int i = 0; i < *n; i++) {
    lua_rawgeti(L, arg, i + 1);
    if ((ts[i] = lgL_totensor(L, lua_gettop(L))) == NULL)
      luaL_error(L, "%s: element %d of the list is not a tensor", op, i + 1);
    lua_pop(L, 1);
  }
  return ts;
}

/*** lg.clip_(params, lo, hi)
 * Clamps the values of a tensor or a list of tensors to [lo, hi] in place,
 * outside any graph: WGAN's weight clipping (Arjovsky et al. 2017,
 * Algorithm 1, c = 0.01).
 * @function lg.clip_
 * @usage local critic = nn.Linear(2, 1)
 * lg.clip_(critic:parameters(), -0.01, 0.01)
 */
/* lg.clip_(params, lo, hi): clamps values in place, outside any graph. */
static int l_clip_ (lua_State *L) {
  float lo = lgL_checkfloat(L, 2), hi = lgL_checkfloat(L, 3);
  int n;
  lg_tensor **ts = tensorlist(L, 1, "clip_", &n);
  for (int i = 0; i < n; i++) checkstatus(L, lg_clip_(ts[i], lo, hi));
  return 0;
}

/*** lg.clip_grad_norm_(params, max_norm) -> number
 * Rescales the gradients (.grad) of a tensor or list of tensors in place so
 * that their total L2 norm is at most max_norm, as
 * torch.nn.utils.clip_grad_norm_: when the norm exceeds it, every gradient is
 * multiplied by max_norm / (norm + 1e-6).  Tensors without a grad are
 * skipped.  Returns the total norm before clipping.
 * @function lg.clip_grad_norm_
 * @usage local w = lg.ones(3):requires_grad_()
 * local loss = (w * 10):sum()
 * loss:backward()
 * local norm = lg.clip_grad_norm_({w}, 1.0)   -- about 17.3; w.grad now has norm 1
 */
/* lg.clip_grad_norm_(params, max_norm) -> the total norm before clipping.
** As torch.nn.utils.clip_grad_norm_: if the norm exceeds max_norm, every
** gradient is scaled by max_norm / (norm + 1e-6).  No Lua code runs between
** reading the list and the last write (see tensorlist). */
static int l_clip_grad_norm_ (lua_State *L) {
  float max_norm = lgL_checkfloat(L, 2);
  int n;
  lg_tensor **ts = tensorlist(L, 1, "clip_grad_norm_", &n);
  double total = 0.0;
  for (int i = 0; i < n; i++) {
    lg_tensor *g = ts[i]->grad;
    double norm = g ? lg_norm2(&g, 1) : 0.0;
    total += norm * norm;
  }
  total = sqrt(total);
  double coef = max_norm / (total + 1e-6);
  for (int i = 0; coef < 1.0 && i < n; i++) {
    lg_tensor *g = ts[i]->grad, *scaled;
    int rc;
    if (g == NULL) continue;
    if ((scaled = lg_mul_scalar(g, (float)coef)) == NULL) return lgL_coreerror(L);
    rc = lg_copy_(g, scaled);
    lg_release(scaled);   /* before raising: nothing is left to leak */
    checkstatus(L, rc);
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
