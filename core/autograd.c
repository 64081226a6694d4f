/*
** The autodiff engine: node lifetime, topological backward, lg_grad.
**
** A node is owned by the tensor it produced (t->grad_fn) and by any tensor
** made from it later through a saved input; nodes own their inputs.  There
** are no cycles: edges only point from an output back to its inputs.
** Destruction is iterative so that releasing a graph thousands of ops deep
** cannot overflow the C stack.
*/
#include "autograd.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* {====================================================== grad mode */

static _Thread_local bool grad_mode = true;

bool lg_grad_enabled(void) { return grad_mode; }

bool lg_set_grad_enabled(bool on) {
  bool prev = grad_mode;
  grad_mode = on;
  return prev;
}

/* }====================================================== */

/* {====================================================== node lifetime */

static lg_node *free_nodes;     /* pool, linked through gacc */
static lg_node *dying;          /* nodes waiting for their inputs' release */
static bool draining;

bool lg_any_needs_grad(int n, lg_tensor *const *inputs) {
  if (!grad_mode) return false;
  for (int i = 0; i < n; i++)
    if (inputs[i] && inputs[i]->requires_grad) return true;
  return false;
}

lg_node *lg_attach(lg_tensor *out, const char *name, lg_backward_fn bw, int n,
                   lg_tensor *const *inputs) {
  lg_node *node = free_nodes;
  if (node) free_nodes = (lg_node *)(void *)node->gacc;
  else if (!(node = malloc(sizeof *node))) return lg_seterr("%s: out of memory", name);
  memset(node, 0, sizeof *node);
  node->refcount = 1;
  node->name = name;
  node->backward = bw;
  node->n_inputs = n;
  for (int i = 0; i < n; i++) {
    node->inputs[i] = inputs[i];
    if (inputs[i]) node->input_version[i] = inputs[i]->storage->version;
    lg_retain(inputs[i]);
  }
  node->out_ndim = out->ndim;
  memcpy(node->out_shape, out->shape, sizeof node->out_shape);
  lg_node_release(out->grad_fn);
  out->grad_fn = node;
  out->requires_grad = true;
  return node;
}

lg_node *lg_track(lg_tensor **out, const char *name, lg_backward_fn bw, int n,
                  lg_tensor *const *in) {
  if (!*out || !lg_any_needs_grad(n, in)) return NULL;
  lg_node *node = lg_attach(*out, name, bw, n, in);
  if (!node) {
    lg_release(*out);
    *out = NULL;
  }
  return node;
}

lg_tensor *lg_node_save(lg_node *n, int i, lg_tensor *t) {
  n->saved[i] = t;
  if (t) n->saved_version[i] = t->storage->version;
  return t;
}

void lg_node_forget(lg_node *n, int i) {
  lg_tensor *t = n->inputs[i], *ghost;
  if (!t || lg_is_ghost(t) || (!t->grad_fn && t->requires_grad)) return;
  if (!(ghost = lg_ghost(t))) return;
  n->inputs[i] = ghost;
  n->input_version[i] = ghost->storage->version;
  lg_release(t);
}

void lg_node_retain(lg_node *n) {
  if (n) n->refcount++;
}

static void drop_state(lg_node *n) {
  for (int i = 0; i < LG_MAXIN; i++) {
    lg_release(n->inputs[i]);
    n->inputs[i] = NULL;
  }
  for (int i = 0; i < LG_MAXSAVED; i++) {
    lg_release(n->saved[i]);
    n->saved[i] = NULL;
  }
}

void lg_node_release(lg_node *n) {
  if (!n || --n->refcount > 0) return;
  n->gacc = (lg_tensor *)(void *)dying;   /* queue it; see the header comment */
  dying = n;
  if (draining) return;
  draining = true;
  while (dying) {
    lg_node *d = dying;
    dying = (lg_node *)(void *)d->gacc;
    d->gacc = NULL;
    drop_state(d);                        /* may queue more nodes */
    d->gacc = (lg_tensor *)(void *)free_nodes;
    free_nodes = d;
  }
  draining = false;
}

/* }====================================================== */

/* {====================================================== the engine */

typedef struct {
  lg_node **v;
  int n, cap;
} nodelist;

static int push(nodelist *l, lg_node *n) {
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 64;
    lg_node **v = realloc(l->v, (size_t)cap * sizeof *v);
    if (!v) {
      lg_seterr("backward: out of memory");
      return -1;
    }
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = n;
  return 0;
}

static int visit_epoch;

/* A target is a tensor whose gradient lg_grad returns (or, for backward, a
** leaf that accumulates into .grad). */
typedef struct {
  int n_in;
  lg_tensor **inputs;     /* NULL for backward(): all leaves are targets */
  lg_tensor **result;
} targets;

/* By id, not by pointer: a node may hold a ghost of the target. */
static int target_index(const targets *tg, const lg_tensor *t) {
  for (int i = 0; i < tg->n_in; i++)
    if (tg->inputs[i]->id == t->id) return i;
  return -1;
}

static bool is_target_leaf(const targets *tg, const lg_tensor *t) {
  if (!t || t->grad_fn || !t->requires_grad) return false;
  return tg->inputs == NULL || target_index(tg, t) >= 0;
}

/* Post-order DFS from the roots; computes node->needed on the way. */
static int toposort(lg_node **roots, int nroots, const targets *tg, nodelist *order) {
  nodelist stack = {0};
  int epoch = ++visit_epoch * 2;    /* epoch: on stack; epoch+1: done */
  int rc = 0;
  for (int r = 0; r < nroots && rc == 0; r++) {
    if (!roots[r] || roots[r]->visit >= epoch) continue;
    roots[r]->visit = epoch;
    if (push(&stack, roots[r])) rc = -1;
    while (stack.n && rc == 0) {
      lg_node *n = stack.v[stack.n - 1];
      if (n->released) {
        lg_seterr("backward: the graph through '%s' was freed by an earlier backward; "
                  "pass retain_graph=true to the first one", n->name);
        rc = -1;
        break;
      }
      bool descended = false;
      for (int i = 0; i < n->n_inputs; i++) {
        lg_tensor *in = n->inputs[i];
        if (in && in->grad_fn && in->grad_fn->visit < epoch) {
          in->grad_fn->visit = epoch;
          if (push(&stack, in->grad_fn)) rc = -1;
          descended = true;
          break;
        }
      }
      if (descended) continue;
      stack.n--;
      n->visit = epoch + 1;
      n->needed = false;
      for (int i = 0; i < n->n_inputs; i++) {
        lg_tensor *in = n->inputs[i];
        n->wants[i] = in && (is_target_leaf(tg, in) || (in->grad_fn && (in->grad_fn->needed ||
                             (tg->inputs && target_index(tg, in) >= 0))));
        if (n->wants[i]) n->needed = true;
      }
      if (push(order, n)) rc = -1;
      else lg_node_retain(n);   /* a consumer's drop_state must not free it mid-pass */
    }
  }
  free(stack.v);
  return rc;
}

/* *slot += g, taking ownership of g. */
static int accumulate(lg_tensor **slot, lg_tensor *g) {
  if (!*slot) {
    *slot = g;
    return 0;
  }
  lg_tensor *sum = lg_add(*slot, g);
  lg_release(g);
  if (!sum) return -1;
  lg_release(*slot);
  *slot = sum;
  return 0;
}

/* leaf.grad += g.  leaf.grad is kept contiguous and exclusively owned, so
** without create_graph later accumulations can add in place. */
static int accumulate_leaf(lg_tensor *leaf, lg_tensor *g, bool create_graph) {
  if (create_graph) return accumulate(&leaf->grad, g);
  lg_tensor *cur = leaf->grad;
  if (!cur) {
    bool owned = g->refcount == 1 && g->storage->refcount == 1 && lg_is_contiguous(g);
    leaf->grad = owned ? g : lg_clone(g);
    if (!owned) lg_release(g);
    return leaf->grad ? 0 : -1;
  }
  if (cur->refcount == 1 && cur->storage->refcount == 1 && lg_is_contiguous(cur) &&
      cur->ndim == g->ndim && !memcmp(cur->shape, g->shape, sizeof(int64_t) * (size_t)g->ndim)) {
    float *d = lg_data(cur);
    lg_bump_version(cur);
    if (lg_is_contiguous(g)) {
      const float *s = lg_data(g);
      for (int64_t i = 0; i < cur->numel; i++) d[i] += s[i];
    } else {
      const float *base = g->storage->data;
      int64_t i = 0;
      FOR_EACH_OFFSET(g, off, d[i++] += base[off]);
    }
    lg_release(g);
    return 0;
  }
  return accumulate(&leaf->grad, g);
}

static bool same_shape(const lg_tensor *t, int ndim, const int64_t *shape) {
  return t->ndim == ndim && !memcmp(t->shape, shape, sizeof(int64_t) * (size_t)ndim);
}

static int stale(const lg_node *n, const lg_tensor *t, uint64_t expected, const char *what,
                 int i) {
  char b[128];
  if (!t || t->storage->version == expected) return 0;
  lg_seterr("%s backward: a tensor saved for backward was modified by an in-place operation "
            "(version %llu, expected %llu): %s %d of shape %s; write into a clone instead, "
            "or do the update (an optimizer step) after backward", n->name,
            (unsigned long long)t->storage->version, (unsigned long long)expected, what, i + 1,
            lg_shape_str(t, b, sizeof b));
  return -1;
}

/* The values a backward reads must be those of the forward pass.  Every
** input a node holds counts as read; ops that read only an input's shape
** hold a ghost of it (lg_node_forget), whose version never changes, so a
** write into what only add or relu consumed is accepted, as in PyTorch; a
** write into an input a view consumed is refused.  Run over the whole pass, in
** forward order, before any node runs: a refused backward changes no .grad,
** and the error names the first op that saved the tensor (exp, for a write
** into exp's output, rather than the sum that consumed it). */
static int check_versions(const lg_node *n) {
  for (int i = 0; i < n->n_inputs; i++)
    if (stale(n, n->inputs[i], n->input_version[i], "input", i)) return -1;
  for (int i = 0; i < LG_MAXSAVED; i++)
    if (stale(n, n->saved[i], n->saved_version[i], "saved tensor", i)) return -1;
  return 0;
}

/* {------------------------------------------------------ grad-ready hook
** Which node is the last, in execution order, to feed each leaf: the first
** one in post order.  The leaves of a pass go in an open-addressing set by
** address (a leaf keeps its header: lg_node_forget never ghosts it). */

static _Thread_local lg_grad_ready_fn ready_fn;
static _Thread_local void *ready_ctx;

void lg_set_grad_ready(lg_grad_ready_fn fn, void *ctx) {
  ready_fn = fn;
  ready_ctx = ctx;
}

typedef struct { const lg_tensor *leaf; bool got; } leafslot;
typedef struct { leafslot *v; size_t mask; } leafset;

static bool is_leaf(const lg_tensor *t) { return t && !t->grad_fn && t->requires_grad; }

static leafslot *leaf_slot(const leafset *s, const lg_tensor *t) {
  size_t i = (size_t)(((uintptr_t)t >> 4) * 0x9E3779B97F4A7C15ull) & s->mask;
  while (s->v[i].leaf != t && s->v[i].leaf != NULL) i = (i + 1) & s->mask;
  return &s->v[i];
}

/* Sets last_use over the pass; s->v is NULL when no hook is installed. */
static int mark_last_uses(const nodelist *order, leafset *s) {
  size_t cap = 16;
  s->v = NULL;
  if (!ready_fn) return 0;
  while (cap < 8 * (size_t)order->n + 16) cap *= 2;   /* <= 4 inputs a node, half full */
  if (!(s->v = calloc(cap, sizeof *s->v))) {
    lg_seterr("backward: out of memory");
    return -1;
  }
  s->mask = cap - 1;
  for (int k = 0; k < order->n; k++) {
    lg_node *n = order->v[k];
    for (int i = 0; i < n->n_inputs; i++) {
      leafslot *slot;
      n->last_use[i] = false;
      if (!n->needed || !n->wants[i] || !is_leaf(n->inputs[i])) continue;
      if ((slot = leaf_slot(s, n->inputs[i]))->leaf) continue;
      slot->leaf = n->inputs[i];
      n->last_use[i] = true;
    }
  }
  return 0;
}

/* The hook for every leaf of t (a leaf output, or n's inputs) whose .grad
** is now final and was accumulated into during the pass. */
static int fire(const leafset *s, lg_node *n, lg_tensor *t) {
  if (!s->v) return 0;
  if (t) {
    leafslot *slot = leaf_slot(s, t);
    return slot->leaf == NULL && is_leaf(t) ? ready_fn(t, ready_ctx) : 0;
  }
  for (int i = 0; i < n->n_inputs; i++)
    if (n->last_use[i] && leaf_slot(s, n->inputs[i])->got && ready_fn(n->inputs[i], ready_ctx))
      return -1;
  return 0;
}

static void got_grad(const leafset *s, const lg_tensor *leaf) {
  if (s->v) leaf_slot(s, leaf)->got = true;
}

/* }------------------------------------------------------ */

static int run(int n_out, lg_tensor **outputs, lg_tensor **gouts, const targets *tg,
               bool create_graph, bool retain_graph) {
  char b1[128], b2[128];
  nodelist order = {0};
  leafset leaves = {0};
  lg_node *roots[16];
  int rc = -1;
  if (n_out > 16) {
    lg_seterr("backward: at most 16 outputs at once, got %d", n_out);
    return -1;
  }
  for (int i = 0; i < n_out; i++) {
    lg_tensor *y = outputs[i];
    if (!y->requires_grad) {
      lg_seterr("backward: output %d does not require grad (no input it depends on has "
                "requires_grad set, or it was computed under no_grad)", i + 1);
      return -1;
    }
    lg_tensor *g = gouts ? gouts[i] : NULL;
    if (!g && y->numel != 1) {
      lg_seterr("backward: a gradient can only be implied for a one-element output, got "
                "shape %s; pass the gradient explicitly", lg_shape_str(y, b1, sizeof b1));
      return -1;
    }
    if (g && !same_shape(g, y->ndim, y->shape)) {
      lg_seterr("backward: gradient of shape %s does not match output of shape %s",
                lg_shape_str(g, b1, sizeof b1), lg_shape_str(y, b2, sizeof b2));
      return -1;
    }
    roots[i] = y->grad_fn;
  }
  if (toposort(roots, n_out, tg, &order)) goto done;
  for (int k = 0; k < order.n; k++)
    if (order.v[k]->needed && check_versions(order.v[k])) goto done;
  if (!tg->inputs && mark_last_uses(&order, &leaves)) goto done;

  bool prev_mode = lg_set_grad_enabled(create_graph);
  /* seed the outputs' gradients */
  for (int i = 0; i < n_out; i++) {
    lg_tensor *y = outputs[i], *g = gouts ? gouts[i] : NULL;
    if (g) lg_retain(g);
    else if (!(g = lg_full(y->ndim, y->shape, 1.0f))) goto restore;
    int ti = tg->inputs ? target_index(tg, y) : -1;
    if (ti >= 0) {
      lg_retain(g);
      if (accumulate(&tg->result[ti], g)) { lg_release(g); goto restore; }
    }
    if (y->grad_fn) {
      if (accumulate(&y->grad_fn->gacc, g)) goto restore;
    } else if (!tg->inputs) {
      if (accumulate_leaf(y, g, create_graph) || fire(&leaves, NULL, y)) goto restore;
    } else {
      lg_release(g);
    }
  }
  /* reverse post-order: every node runs after all its consumers */
  for (int k = order.n - 1; k >= 0; k--) {
    lg_node *n = order.v[k];
    lg_tensor *g = n->gacc, *gin[LG_MAXIN] = {0};
    if (!g) {   /* nothing flows through n, but it may be a leaf's last consumer */
      if (fire(&leaves, n, NULL)) goto restore;
      continue;
    }
    n->gacc = NULL;
    if (!n->needed) {
      lg_release(g);
      continue;
    }
    int st = n->backward(n, g, gin);
    lg_release(g);
    if (st) goto restore;
    for (int i = 0; i < n->n_inputs; i++) {
      lg_tensor *in = n->inputs[i];
      if (!gin[i]) continue;
      if (!in || !same_shape(gin[i], in->ndim, in->shape)) {
        lg_seterr("backward of %s: internal error, gradient %d has shape %s, input has %s",
                  n->name, i + 1, lg_shape_str(gin[i], b1, sizeof b1),
                  in ? lg_shape_str(in, b2, sizeof b2) : "none");
        for (int j = i; j < n->n_inputs; j++) lg_release(gin[j]);
        goto restore;
      }
      int ti = tg->inputs ? target_index(tg, in) : -1;
      if (ti >= 0) {
        lg_retain(gin[i]);
        if (accumulate(&tg->result[ti], gin[i])) { lg_release(gin[i]); gin[i] = NULL; }
      }
      int e = 0;
      if (in->grad_fn) {
        if (in->grad_fn->needed) e = accumulate(&in->grad_fn->gacc, gin[i]);
        else lg_release(gin[i]);
      } else if (!tg->inputs && in->requires_grad) {
        e = accumulate_leaf(in, gin[i], create_graph);
        got_grad(&leaves, in);
      } else {
        lg_release(gin[i]);
      }
      gin[i] = NULL;
      if (e) {
        for (int j = i + 1; j < n->n_inputs; j++) lg_release(gin[j]);
        goto restore;
      }
    }
    if (fire(&leaves, n, NULL)) goto restore;   /* before drop_state clears inputs */
    if (!retain_graph) {
      drop_state(n);
      n->released = true;
    }
  }
  rc = 0;
restore:
  lg_set_grad_enabled(prev_mode);
  for (int k = 0; k < order.n; k++) {   /* leave no scratch behind on error */
    lg_release(order.v[k]->gacc);
    order.v[k]->gacc = NULL;
  }
done:
  for (int k = 0; k < order.n; k++) lg_node_release(order.v[k]);
  free(order.v);
  free(leaves.v);
  return rc;
}

int lg_backward(lg_tensor *y, lg_tensor *g, bool retain_graph) {
  targets tg = {0, NULL, NULL};
  return run(1, &y, g ? &g : NULL, &tg, false, retain_graph);
}

int lg_grad(int n_out, lg_tensor **outputs, lg_tensor **gouts, int n_in,
            lg_tensor **inputs, lg_tensor **result, bool create_graph, bool retain_graph) {
  for (int i = 0; i < n_in; i++) {
    result[i] = NULL;
    if (!inputs[i]->requires_grad) {
      lg_seterr("grad: input %d does not require grad", i + 1);
      return -1;
    }
  }
  targets tg = {n_in, inputs, result};
  if (run(n_out, outputs, gouts, &tg, create_graph, retain_graph)) {
    for (int i = 0; i < n_in; i++) {
      lg_release(result[i]);
      result[i] = NULL;
    }
    return -1;
  }
  /* inputs the outputs do not depend on get zeros, as in torch's allow_unused + zeros;
  ** the engine fills only the first slot of an input listed twice */
  for (int i = 0; i < n_in; i++) {
    int first = target_index(&tg, inputs[i]);
    if (first < i) {
      result[i] = result[first];
      lg_retain(result[i]);
    } else if (!result[i] && !(result[i] = lg_zeros_like(inputs[i]))) {
      for (int j = 0; j < n_in; j++) lg_release(result[j]);
      return -1;
    }
  }
  return 0;
}

/* }====================================================== */
