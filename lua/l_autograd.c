/*
** Autograd from Lua: backward, lg.grad (higher order), grad mode, detach,
** and the requires_grad / grad properties.
*/
#include "luagan.h"
#include "autograd.h"

#include <string.h>

/* {====================================================== properties */

/* The slot comes first: its allocation may run a finalizer that drops the grad. */
int lgL_getgrad(lua_State *L, int idx) {
  lg_tensor **p = lgL_newslot(L), *t = lgL_checktensor(L, idx);
  if (t->grad == NULL) {
    lua_pushnil(L);
    return 1;
  }
  lg_retain(t->grad);
  *p = t->grad;
  return 1;
}

/* x.grad = nil clears; x.grad = g (same shape) replaces.  Tensors hold
** their grad by a C reference the collector cannot see, so a cycle of them
** (x.grad = y; y.grad = x) would never be freed.  The assigned gradient
** must therefore be a plain tensor: no grad of its own and no requires_grad
** (which also rules out a result of x's own graph, whose grad_fn could hold
** x).  Then no cycle can close: the edge that would close one points at a
** tensor whose own grad is one of the cycle's edges.  PyTorch refuses a
** mismatched shape the same way; it allows a grad that requires grad (the
** create_graph cycle it warns about), which g:detach() gives here. */
void lgL_setgrad(lua_State *L, lg_tensor *t, int validx) {
  lg_tensor *g = NULL;
  char b1[160], b2[160];
  if (!lua_isnil(L, validx)) {
    if ((g = lgL_totensor(L, validx)) == NULL)
      luaL_error(L, "grad: expected a tensor or nil, got %s", luaL_typename(L, validx));
    if (g == t) luaL_error(L, "grad: a tensor cannot be its own gradient");
    if (g->grad != NULL)
      luaL_error(L, "grad: the assigned gradient has a .grad of its own, which could make a "
                 "reference cycle; assign g:detach() or clear g.grad first");
    if (g->requires_grad)
      luaL_error(L, "grad: the assigned gradient requires grad, which could make a reference "
                 "cycle through its graph; assign g:detach()");
    if (g->ndim != t->ndim ||
        memcmp(g->shape, t->shape, sizeof(int64_t) * (size_t)t->ndim) != 0)
      luaL_error(L, "grad: assigned gradient of shape %s does not match tensor of shape %s",
                 lg_shape_str(g, b1, sizeof b1), lg_shape_str(t, b2, sizeof b2));
    lg_retain(g);
  }
  lg_release(t->grad);
  t->grad = g;
}

void lgL_setrequiresgrad(lua_State *L, lg_tensor *t, int validx) {
  if (lua_type(L, validx) != LUA_TBOOLEAN)
    luaL_error(L, "requires_grad: expected a boolean, got %s", luaL_typename(L, validx));
  if (t->grad_fn != NULL)
    luaL_error(L, "requires_grad: can only be set on a leaf tensor; this one was computed by "
               "'%s' (use x:detach() to get a leaf)", t->grad_fn->name);
  t->requires_grad = lua_toboolean(L, validx);
}

/*** x:requires_grad_([b]) -> x
 * Sets x.requires_grad to b (default true) and returns x, for chaining; only
 * on a leaf (see Tensor.requires_grad).
 * @function Tensor:requires_grad_
 * @usage local w = lg.randn(3, 2):requires_grad_()
 */
/* x:requires_grad_(b = true): sets the flag and returns x. */
static int t_requires_grad_ (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1);
  if (lua_isnoneornil(L, 2)) {
    lua_settop(L, 1);
    lua_pushboolean(L, 1);
  }
  lgL_setrequiresgrad(L, t, 2);
  lua_settop(L, 1);
  return 1;
}

/* }====================================================== */

/* {====================================================== backward, detach */

/*** y:backward([g] [, {retain_graph = false}]) -> nil
 * Reverse-mode differentiation: accumulates dy/dx into x.grad for every leaf
 * x with requires_grad that y depends on.  g (y's shape) weights the
 * gradient and may be omitted only for a one-element y.  The graph is freed
 * afterwards unless retain_graph is true (a second backward through it then
 * raises).  Also lg.backward(y, ...).
 * @function Tensor:backward
 * @usage local w = lg.ones(3):requires_grad_()
 * local loss = (w * w):sum()
 * loss:backward()
 * print(w.grad)   -- 2, 2, 2
 */
/* y:backward([g], [{retain_graph = false}]) */
static int t_backward (lua_State *L) {
  static const char *const opts[] = {"retain_graph", NULL};
  lg_tensor *y = lgL_checktensor(L, 1), *g = NULL;
  int optarg = 3, retain;
  if (lua_type(L, 2) == LUA_TTABLE) optarg = 2;   /* y:backward{retain_graph = true} */
  else lgL_opttensor(L, 2);
  lgL_checkoptions(L, optarg, "backward", opts);
  retain = lgL_optboolfield(L, optarg, "retain_graph", 0, "backward");
  y = lgL_checktensor(L, 1);   /* after the options' __index: see luagan.h */
  if (optarg == 3) g = lgL_opttensor(L, 2);
  if (lg_backward(y, g, retain)) return lgL_coreerror(L);
  lgL_account(L);
  return 0;
}

/*** x:detach() -> Tensor
 * A tensor sharing x's storage but outside the graph (no grad_fn,
 * requires_grad false): gradients do not flow through it, e.g. the fake
 * batch in the discriminator's step.  Also lg.detach(x).
 * @function Tensor:detach
 * @usage local fake = lg.randn(4, 2):requires_grad_() * 2
 * local fixed = fake:detach()
 */
static int t_detach (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1);
  lg_tensor **r = lgL_newslot(L);
  t = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_detach(t));
}

/* }====================================================== */

/* {====================================================== lg.grad */

/* Length of the tensor-or-list argument at arg; 0 marks a single tensor. */
static int listlen(lua_State *L, int arg, const char *what) {
  int n;
  if (lgL_totensor(L, arg)) return 0;
  if (lua_type(L, arg) != LUA_TTABLE)
    return luaL_error(L, "grad: %s must be a tensor or a list of tensors, got %s", what,
                      luaL_typename(L, arg));
  n = (int)lua_rawlen(L, arg);
  if (n == 0) return luaL_error(L, "grad: %s is an empty list", what);
  return n;
}

/* ts[0..n) from the tensor-or-list at arg (n == 0: a single tensor). */
static void tolist(lua_State *L, int arg, int n, lg_tensor **ts, const char *what) {
  if (n == 0) {
    ts[0] = lgL_totensor(L, arg);
    return;
  }
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, arg, i + 1);
    ts[i] = lgL_totensor(L, lua_gettop(L));   /* the list keeps it alive */
    if (ts[i] == NULL)
      luaL_error(L, "grad: %s[%d] is a %s, expected a tensor", what, i + 1, luaL_typename(L, -1));
    lua_pop(L, 1);
  }
}

/*** lg.grad(outputs, inputs [, opts]) -> Tensor | {Tensor, ...}
 * The gradients of outputs (a tensor or a list; summed, each weighted by
 * opts.grad_outputs when given, shaped like outputs) with respect to each of
 * inputs, returned as a tensor or a list shaped like inputs; no .grad is
 * touched.  opts.create_graph = true records the computation so that the
 * result can be differentiated again (the gradient penalty of Gulrajani et
 * al. 2017, sec. 4); opts.retain_graph defaults to create_graph.
 * @function lg.grad
 * @usage local x = lg.randn(8, 2):requires_grad_()
 * local d = (x * x):sum(2)
 * local g = lg.grad(d, x, {create_graph = true, grad_outputs = lg.ones(8)})
 * local penalty = ((g:pow(2):sum(2) + 1e-12):sqrt() - 1):pow(2):mean()
 */
/* lg.grad(outputs, inputs, {create_graph, retain_graph, grad_outputs}):
** gradients of the outputs (summed, weighted by grad_outputs) with respect
** to each input, as a tensor or a list like `inputs`.  retain_graph
** defaults to create_graph. */
static int l_grad (lua_State *L) {
  static const char *const opts[] = {"create_graph", "retain_graph", "grad_outputs", NULL};
  int nout, nin, nout1, nin1, create, retain, ngo = -1;
  lg_tensor **outs, **gouts, **ins, **res;
  lua_settop(L, 3);
  lgL_checkoptions(L, 3, "grad", opts);
  create = lgL_optboolfield(L, 3, "create_graph", 0, "grad");
  retain = lgL_optboolfield(L, 3, "retain_graph", create, "grad");
  nout = listlen(L, 1, "outputs");
  nin = listlen(L, 2, "inputs");
  nout1 = nout ? nout : 1;
  nin1 = nin ? nin : 1;
  /* 4: the grad_outputs argument (or nil) */
  if (lua_istable(L, 3)) lua_getfield(L, 3, "grad_outputs");
  else lua_pushnil(L);
  if (!lua_isnil(L, 4)) {
    ngo = listlen(L, 4, "grad_outputs");
    if ((ngo ? ngo : 1) != nout1 || (ngo == 0) != (nout == 0))
      return luaL_error(L, "grad: grad_outputs must be shaped like outputs (%s of %d), got %s "
                        "of %d", nout ? "a list" : "a tensor", nout1, ngo ? "a list" : "a tensor",
                        ngo ? ngo : 1);
  }
  /* 5: scratch for the pointer arrays */
  outs = (lg_tensor **)lua_newuserdatauv(L, (size_t)(2 * nout1 + 2 * nin1) * sizeof *outs, 0);
  gouts = outs + nout1;
  ins = gouts + nout1;
  res = ins + nin1;
  /* 6: the result slots, made before the core call so that none can fail after it */
  if (nin) {
    lua_createtable(L, nin, 0);
    for (int i = 0; i < nin; i++) {
      lgL_newslot(L);
      lua_rawseti(L, 6, i + 1);
    }
  } else {
    lgL_newslot(L);
  }
  /* the pointers after the last allocation: see luagan.h */
  tolist(L, 1, nout, outs, "outputs");
  tolist(L, 2, nin, ins, "inputs");
  if (ngo >= 0) tolist(L, 4, ngo, gouts, "grad_outputs");
  if (lg_grad(nout1, outs, ngo >= 0 ? gouts : NULL, nin1, ins, res, create, retain))
    return lgL_coreerror(L);
  if (nin) {
    for (int i = 0; i < nin; i++) {
      lua_rawgeti(L, 6, i + 1);
      *(lg_tensor **)lua_touserdata(L, -1) = res[i];
      lua_pop(L, 1);
    }
  } else {
    *(lg_tensor **)lua_touserdata(L, 6) = res[0];
  }
  lgL_account(L);
  return 1;
}

/* }====================================================== */

/* {====================================================== grad mode */

/*** lg.no_grad(fn, ...) -> ...
 * Calls fn(...) with grad mode off (no graph is recorded, in-place writes to
 * parameters are allowed) and returns its results.  The previous mode is
 * restored even when fn raises; the error is re-raised unchanged.
 * @function lg.no_grad
 * @usage local w = lg.ones(3):requires_grad_()
 * lg.no_grad(function() w:fill_(0) end)
 */
/* lg.no_grad(fn, ...): fn(...) with grad mode off; the mode is restored
** even when fn raises, and the error is re-raised unchanged. */
static int l_no_grad (lua_State *L) {
  bool prev;
  int st;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  prev = lg_set_grad_enabled(false);
  st = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
  lg_set_grad_enabled(prev);
  if (st != LUA_OK) return lua_error(L);
  return lua_gettop(L);
}

/*** lg.is_grad_enabled() -> boolean
 * Whether operations are recorded for backward now (false inside lg.no_grad).
 * @function lg.is_grad_enabled
 * @usage assert(lg.is_grad_enabled())
 */
static int l_is_grad_enabled (lua_State *L) {
  lua_pushboolean(L, lg_grad_enabled());
  return 1;
}

/*** lg.set_grad_enabled(b) -> boolean
 * Turns grad mode on or off (b a boolean) and returns the previous mode;
 * prefer lg.no_grad, which restores the mode on errors.
 * @function lg.set_grad_enabled
 * @usage local prev = lg.set_grad_enabled(false)
 * lg.set_grad_enabled(prev)
 */
/* lg.set_grad_enabled(b): returns the previous mode. */
static int l_set_grad_enabled (lua_State *L) {
  luaL_checktype(L, 1, LUA_TBOOLEAN);
  lua_pushboolean(L, lg_set_grad_enabled(lua_toboolean(L, 1)));
  return 1;
}

/* }====================================================== */

const luaL_Reg lgL_autograd_methods[] = {
  {"backward", t_backward},
  {"detach", t_detach},
  {"requires_grad_", t_requires_grad_},
  {NULL, NULL}
};

const luaL_Reg lgL_autograd_funcs[] = {
  {"backward", t_backward},
  {"detach", t_detach},
  {"grad", l_grad},
  {"no_grad", l_no_grad},
  {"is_grad_enabled", l_is_grad_enabled},
  {"set_grad_enabled", l_set_grad_enabled},
  {NULL, NULL}
};
