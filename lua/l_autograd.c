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

/* {====================================================== gradient hooks */

/* Hooks live in two registry tables: BY_ID[t->id] = the tensor (weak
** values) and OF[tensor] = {entry, ...} (weak keys), an entry being a table
** {fn} made by one registration, so that a handle removes its own.  A
** tensor no longer referenced from Lua takes its hooks with it.  ERROR holds
** the error a hook raised (false when none), for t_backward to rethrow;
** running is set while hooks run, which may not start another pass. */
static char BY_ID, OF, ERROR;
static int running;

/* Pushes the registry table at key, made with __mode mode if missing. */
static void push_weak(lua_State *L, void *key, const char *mode) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) != LUA_TNIL) return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushstring(L, mode);
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

/* True when some tensor has a hook; allocates nothing. */
static bool have_hooks(lua_State *L) {
  bool some = false;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &OF) == LUA_TTABLE) {
    lua_pushnil(L);
    if (lua_next(L, -2)) {
      some = true;
      lua_pop(L, 2);
    }
  }
  lua_pop(L, 1);
  return some;
}

/* Protected: runs the hooks of the leaf (light userdata 1) in registration
** order, over a copy of the list (a hook may remove one). */
static int call_hooks(lua_State *L) {
  const lg_tensor *t = (const lg_tensor *)lua_touserdata(L, 1);
  int n;
  push_weak(L, &BY_ID, "v");                                              /* 2 */
  if (lua_rawgeti(L, 2, (lua_Integer)t->id) == LUA_TNIL) return 0;        /* 3: the tensor */
  push_weak(L, &OF, "k");                                                 /* 4 */
  lua_pushvalue(L, 3);
  if (lua_rawget(L, 4) != LUA_TTABLE) return 0;                           /* 5: the list */
  n = (int)lua_rawlen(L, 5);
  luaL_checkstack(L, n + 2, "gradient hooks");
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, 5, i);
    lua_rawgeti(L, -1, 1);
    lua_replace(L, -2);
  }
  for (int i = 1; i <= n; i++) {
    lua_pushvalue(L, 5 + i);
    lua_pushvalue(L, 3);
    lua_call(L, 1, 0);
  }
  return 0;
}

/* The engine's lg_grad_ready_fn: a Lua error in a hook ends the backward;
** its value waits in ERROR (a slot that exists, so storing allocates
** nothing) for t_backward. */
static int grad_ready(lg_tensor *leaf, void *ctx) {
  lua_State *L = (lua_State *)ctx;
  int st;
  if (!lua_checkstack(L, 3)) {
    lg_seterr("backward: no Lua stack left for a gradient hook");
    return -1;
  }
  lua_pushcfunction(L, call_hooks);
  lua_pushlightuserdata(L, leaf);
  running++;
  st = lua_pcall(L, 1, 0, 0);
  running--;
  if (st == LUA_OK) return 0;
  lua_rawsetp(L, LUA_REGISTRYINDEX, &ERROR);
  lg_seterr("backward: a gradient hook raised an error");
  return -1;
}

/* handle.remove(): upvalues the list, the entry and the tensor */
static int remove_hook (lua_State *L) {
  int n = (int)lua_rawlen(L, lua_upvalueindex(1));
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, lua_upvalueindex(1), i);
    int found = lua_rawequal(L, -1, lua_upvalueindex(2));
    lua_pop(L, 1);
    if (!found) continue;
    for (; i < n; i++) {
      lua_rawgeti(L, lua_upvalueindex(1), i + 1);
      lua_rawseti(L, lua_upvalueindex(1), i);
    }
    lua_pushnil(L);
    lua_rawseti(L, lua_upvalueindex(1), n);
    break;
  }
  if (lua_rawlen(L, lua_upvalueindex(1)) == 0) {   /* no hook left: backward pays nothing */
    push_weak(L, &OF, "k");
    lua_pushvalue(L, lua_upvalueindex(3));
    lua_pushnil(L);
    lua_rawset(L, -3);
  }
  return 0;
}

/*** x:register_post_accumulate_grad_hook(fn) -> handle
 * Calls fn(x) in every backward() once x.grad is final for that pass: after
 * the last operation that feeds x has added its part (as PyTorch's hook of
 * that name).  x must be a leaf that requires grad (a parameter).  Not
 * called when x gets no gradient in the pass, nor by lg.grad, which
 * touches no .grad.  Hooks run in the order they were registered, with grad
 * mode off; they may read and write x.grad but not run backward or lg.grad.
 * A hook's error ends the backward and is raised by it (the graph is then
 * freed, as after any failed backward).  handle:remove() removes the hook;
 * so does losing every reference to x.  lg.dist.wrap's buckets use it to
 * start reducing gradients while backward goes on.
 * @function Tensor:register_post_accumulate_grad_hook
 * @usage local w = lg.ones(3):requires_grad_()
 * local h = w:register_post_accumulate_grad_hook(function(p) print(p.grad) end)
 * (w * w):sum():backward()   -- prints 2, 2, 2
 * h:remove()
 */
static int t_register_hook (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1);
  lua_Integer id = (lua_Integer)t->id;
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if (t->grad_fn)
    return luaL_error(L, "register_post_accumulate_grad_hook: only on a leaf tensor; this one "
                      "was computed by '%s'", t->grad_fn->name);
  if (!t->requires_grad)
    return luaL_error(L, "register_post_accumulate_grad_hook: the tensor does not require grad "
                      "(x:requires_grad_() first)");
  lua_settop(L, 2);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &ERROR) == LUA_TNIL) {
    lua_pushboolean(L, 0);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &ERROR);
  }
  lua_pop(L, 1);
  push_weak(L, &BY_ID, "v");                                              /* 3 */
  lua_pushvalue(L, 1);
  lua_rawseti(L, 3, id);
  push_weak(L, &OF, "k");                                                 /* 4 */
  lua_pushvalue(L, 1);
  if (lua_rawget(L, 4) != LUA_TTABLE) {                                   /* 5: the list */
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 5);
    lua_rawset(L, 4);
  }
  lua_createtable(L, 1, 0);                                               /* 6: the entry */
  lua_pushvalue(L, 2);
  lua_rawseti(L, 6, 1);
  lua_pushvalue(L, 6);
  lua_rawseti(L, 5, (lua_Integer)lua_rawlen(L, 5) + 1);
  lua_createtable(L, 0, 1);                                               /* the handle */
  lua_pushvalue(L, 5);
  lua_pushvalue(L, 6);
  lua_pushvalue(L, 1);
  lua_pushcclosure(L, remove_hook, 3);
  lua_setfield(L, -2, "remove");
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
  int optarg = 3, retain, rc;
  bool hooked;
  if (lua_type(L, 2) == LUA_TTABLE) optarg = 2;   /* y:backward{retain_graph = true} */
  else lgL_opttensor(L, 2);
  lgL_checkoptions(L, optarg, "backward", opts);
  retain = lgL_optboolfield(L, optarg, "retain_graph", 0, "backward");
  if (running) return luaL_error(L, "backward: a gradient hook cannot run backward");
  hooked = have_hooks(L);
  y = lgL_checktensor(L, 1);   /* after the options' __index: see luagan.h */
  if (optarg == 3) g = lgL_opttensor(L, 2);
  if (hooked) lg_set_grad_ready(grad_ready, L);
  rc = lg_backward(y, g, retain);
  if (hooked) lg_set_grad_ready(NULL, NULL);
  if (rc && hooked && lua_rawgetp(L, LUA_REGISTRYINDEX, &ERROR) != LUA_TBOOLEAN) {
    lua_pushboolean(L, 0);   /* a hook's error, rethrown as it was raised */
    lua_rawsetp(L, LUA_REGISTRYINDEX, &ERROR);
    return lua_error(L);
  }
  if (rc) return lgL_coreerror(L);
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
  if (running) return luaL_error(L, "grad: a gradient hook cannot run lg.grad");
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
  {"register_post_accumulate_grad_hook", t_register_hook},
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
