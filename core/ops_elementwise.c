/*
** Elementwise ops with numpy broadcasting, and their gradients.
**
** A kernel is a "segment" function over one run of n elements with strides
** (0 for a broadcast operand, 1 for contiguous).  map1/map2 reduce any
** strided, broadcast layout to runs of such segments: dims that are laid out
** back to back are merged first, so contiguous inputs become one long run
** that the compiler vectorises and that splits across threads.
*/
#include "fastmath.h"
#include "internal.h"

#include <math.h>
#include <string.h>

typedef void (*seg1_fn)(float *o, const float *a, int64_t sa, int64_t n, const float *p);
typedef void (*seg2_fn)(float *o, const float *a, int64_t sa, const float *b, int64_t sb,
                        int64_t n, const float *p);

/* {====================================================== broadcasting */

bool lg_broadcast_shape(const char *op, const lg_tensor *a, const lg_tensor *b,
                        int *out_ndim, int64_t *out) {
  int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
  for (int i = 0; i < nd; i++) {
    int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
    int64_t sa = ia >= 0 ? a->shape[ia] : 1, sb = ib >= 0 ? b->shape[ib] : 1;
    if (sa != sb && sa != 1 && sb != 1) {
      char b1[128], b2[128];
      lg_seterr("%s: shapes %s and %s cannot broadcast (dim %d: %lld vs %lld)", op,
                lg_shape_str(a, b1, sizeof b1), lg_shape_str(b, b2, sizeof b2), i + 1,
                (long long)sa, (long long)sb);
      return false;
    }
    out[i] = sa == 1 ? sb : sa;
  }
  *out_ndim = nd;
  return true;
}

void lg_broadcast_strides(const lg_tensor *t, int ndim, const int64_t *shape,
                          int64_t *strides) {
  for (int i = 0; i < ndim; i++) {
    int j = i - (ndim - t->ndim);
    strides[i] = (j >= 0 && t->shape[j] == shape[i]) ? t->stride[j] : 0;
  }
}

/* }====================================================== */

/* {====================================================== the loop driver */

/* The operands (out + up to 2 inputs here) walk over a common shape in an
** lg_walk (internal.h). */
typedef lg_walk walk;

/* Merge dim i into i+1 wherever every operand steps through them as one. */
void lg_walk_coalesce(lg_walk *w) {
  int nd = 0;
  for (int i = 0; i < w->ndim; i++) {
    if (w->shape[i] == 1) continue;           /* size-1 dims carry no steps */
    if (nd > 0) {
      bool merge = true;
      for (int k = 0; k < w->nops; k++)
        if (w->stride[k][nd - 1] != w->stride[k][i] * w->shape[i]) merge = false;
      if (merge) {
        w->shape[nd - 1] *= w->shape[i];
        for (int k = 0; k < w->nops; k++) w->stride[k][nd - 1] = w->stride[k][i];
        continue;
      }
    }
    w->shape[nd] = w->shape[i];
    for (int k = 0; k < w->nops; k++) w->stride[k][nd] = w->stride[k][i];
    nd++;
  }
  if (nd == 0) {                              /* a single element */
    w->shape[0] = 1;
    for (int k = 0; k < w->nops; k++) w->stride[k][0] = 1;
    nd = 1;
  }
  w->ndim = nd;
}

/* Offsets of the start of outer row r (all dims but the last). */
static void row_offsets(const walk *w, int64_t r, int64_t *off) {
  for (int k = 0; k < w->nops; k++) off[k] = 0;
  for (int d = w->ndim - 2; d >= 0; d--) {
    int64_t i = r % w->shape[d];
    r /= w->shape[d];
    for (int k = 0; k < w->nops; k++) off[k] += i * w->stride[k][d];
  }
}

static void run_walk(const walk *w, seg1_fn f1, seg2_fn f2, const float *p) {
  int64_t inner = w->shape[w->ndim - 1], rows = 1;
  for (int d = 0; d < w->ndim - 1; d++) rows *= w->shape[d];
  int64_t total = rows * inner;
  int64_t s1 = w->stride[1][w->ndim - 1], s2 = w->nops > 2 ? w->stride[2][w->ndim - 1] : 0;
  if (total < LG_PAR_MIN) {   /* no OpenMP call at all: entering a region costs more than tiny work */
    for (int64_t r = 0; r < rows; r++) {
      int64_t off[3];
      row_offsets(w, r, off);
      float *o = w->base[0] + off[0];
      if (f1) f1(o, w->base[1] + off[1], s1, inner, p);
      else f2(o, w->base[1] + off[1], s1, w->base[2] + off[2], s2, inner, p);
    }
    return;
  }
  if (rows == 1) {
    /* one run: split it into chunks across threads */
    int64_t chunk = (total + 15) / 16, nchunks = (total + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < nchunks; c++) {
      int64_t lo = c * chunk, n = total - lo < chunk ? total - lo : chunk;
      float *o = w->base[0] + lo;   /* the output is always contiguous */
      if (f1) f1(o, w->base[1] + lo * s1, s1, n, p);
      else f2(o, w->base[1] + lo * s1, s1, w->base[2] + lo * s2, s2, n, p);
    }
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    int64_t off[3];
    row_offsets(w, r, off);
    float *o = w->base[0] + off[0];
    if (f1) f1(o, w->base[1] + off[1], s1, inner, p);
    else f2(o, w->base[1] + off[1], s1, w->base[2] + off[2], s2, inner, p);
  }
}

/* out = f(a), out a new contiguous tensor.  p: NULL, or the op's parameters
** (np of them, at most 2); the kernels always see two. */
static lg_tensor *map1(lg_tensor *a, seg1_fn f, const float *p, int np) {
  float pp[2] = {np > 0 ? p[0] : 0.0f, np > 1 ? p[1] : 0.0f};
  lg_tensor *out = lg_empty(a->ndim, a->shape);
  if (!out || out->numel == 0) return out;
  walk w = {.ndim = a->ndim, .nops = 2};
  memcpy(w.shape, a->shape, sizeof w.shape);
  memcpy(w.stride[0], out->stride, sizeof w.stride[0]);
  memcpy(w.stride[1], a->stride, sizeof w.stride[1]);
  w.base[0] = lg_data(out);
  w.base[1] = lg_data(a);
  lg_walk_coalesce(&w);
  run_walk(&w, f, NULL, pp);
  return out;
}

/* out = f(a, b) with broadcasting; p as for map1. */
static lg_tensor *map2(const char *op, lg_tensor *a, lg_tensor *b, seg2_fn f, const float *p,
                       int np) {
  float pp[2] = {np > 0 ? p[0] : 0.0f, np > 1 ? p[1] : 0.0f};
  int nd;
  int64_t shape[LG_MAXDIM];
  if (!lg_broadcast_shape(op, a, b, &nd, shape) || !lg_check_shape(op, nd, shape)) return NULL;
  lg_tensor *out = lg_empty(nd, shape);
  if (!out || out->numel == 0) return out;
  walk w = {.ndim = nd, .nops = 3};
  memcpy(w.shape, shape, sizeof w.shape);
  memcpy(w.stride[0], out->stride, sizeof w.stride[0]);
  lg_broadcast_strides(a, nd, shape, w.stride[1]);
  lg_broadcast_strides(b, nd, shape, w.stride[2]);
  w.base[0] = lg_data(out);
  w.base[1] = lg_data(a);
  w.base[2] = lg_data(b);
  lg_walk_coalesce(&w);
  run_walk(&w, NULL, f, pp);
  return out;
}

/* }====================================================== */

/* {====================================================== kernels
** Each expression sees x (first operand), y (second) and the parameters p0,
** p1.  The parameters are copied to locals first: read through the pointer
** inside the loop, they stop GCC from vectorising it ("no vectype").  The
** stride-1 branches are the ones the compiler vectorises.  Every caller
** passes two parameters (see unary and binary). */

#define SEG1(name, expr)                                                           \
  static void name(float *restrict o, const float *restrict a, int64_t sa,         \
                   int64_t n, const float *p) {                                    \
    const float p0 = p[0], p1 = p[1];                                              \
    (void)p0, (void)p1;                                                            \
    if (sa == 1)                                                                   \
      for (int64_t i = 0; i < n; i++) { float x = a[i]; o[i] = (expr); }           \
    else                                                                           \
      for (int64_t i = 0; i < n; i++) { float x = a[i * sa]; o[i] = (expr); }      \
  }

#define SEG2(name, expr)                                                           \
  static void name(float *restrict o, const float *restrict a, int64_t sa,         \
                   const float *restrict b, int64_t sb, int64_t n, const float *p) { \
    const float p0 = p[0], p1 = p[1];                                              \
    (void)p0, (void)p1;                                                            \
    if (sa == 1 && sb == 1)                                                        \
      for (int64_t i = 0; i < n; i++) { float x = a[i], y = b[i]; o[i] = (expr); } \
    else if (sa == 1 && sb == 0) {                                                 \
      float y = b[0];                                                              \
      for (int64_t i = 0; i < n; i++) { float x = a[i]; o[i] = (expr); }           \
    } else if (sa == 0 && sb == 1) {                                               \
      float x = a[0];                                                              \
      for (int64_t i = 0; i < n; i++) { float y = b[i]; o[i] = (expr); }           \
    } else                                                                         \
      for (int64_t i = 0; i < n; i++) {                                            \
        float x = a[i * sa], y = b[i * sb];                                        \
        o[i] = (expr);                                                             \
      }                                                                            \
  }

SEG2(k_add, x + y)
SEG2(k_sub, x - y)
SEG2(k_mul, x * y)
SEG2(k_div, x / y)
SEG2(k_relu_grad, x * (y > 0.0f ? 1.0f : p0))
/* relu's own, as torch's threshold_backward: g unless x <= 0, so a NaN x
** passes g and an infinite g meets no 0 * inf */
SEG2(k_relu_mask, y <= 0.0f ? 0.0f : x)
SEG2(k_tanh_grad, x * (1.0f - y * y))
SEG2(k_sigmoid_grad, x * y * (1.0f - y))
SEG1(k_add_s, x + p0)
SEG1(k_mul_s, x * p0)
SEG1(k_rsub_s, p0 - x)
SEG1(k_rdiv_s, p0 / x)
SEG1(k_neg, -x)
SEG1(k_exp, lg_expf(x))
SEG1(k_log, logf(x))
SEG1(k_sqrt, sqrtf(x))
SEG1(k_abs, fabsf(x))
SEG1(k_sign, (float)((x > 0.0f) - (x < 0.0f)))
SEG1(k_pow, powf(x, p0))
SEG1(k_square, x * x)
SEG1(k_clamp, x < p0 ? p0 : (x > p1 ? p1 : x))   /* NaN stays NaN, as in torch */
SEG1(k_clamp_mask, (x >= p0 && x <= p1) ? 1.0f : 0.0f)
/* NaN stays NaN, as in torch (x <= 0 is false for it); still a select */
SEG1(k_relu, x <= 0.0f ? 0.0f : x)
SEG1(k_leaky, x > 0.0f ? x : x * p0)
/* sigmoid and softplus in forms that cannot overflow exp */
SEG1(k_sigmoid, x >= 0.0f ? 1.0f / (1.0f + lg_expf(-fabsf(x)))
                           : lg_expf(-fabsf(x)) / (1.0f + lg_expf(-fabsf(x))))
SEG1(k_tanh, lg_tanhf(x))
SEG1(k_sin, sinf(x))
SEG1(k_cos, cosf(x))

/* max(x, 0) + log(1 + e^-|x|), the tail computed a block at a time */
static void k_softplus(float *restrict o, const float *restrict a, int64_t sa, int64_t n,
                       const float *p) {
  (void)p;
  float tail[256];
  for (int64_t lo = 0; lo < n; lo += 256) {
    int64_t m = n - lo < 256 ? n - lo : 256;
    lg_softplus_tail(tail, a + lo * sa, sa, m);
    for (int64_t j = 0; j < m; j++) {
      float x = a[(lo + j) * sa];
      o[lo + j] = (x > 0.0f ? x : 0.0f) + tail[j];
    }
  }
}

/* }====================================================== */

/* {====================================================== backward helpers */

/* The output of node n, rebuilt for a backward pass.  The node keeps only a
** detached alias (saved[0]) because keeping the output itself would be a
** cycle; under create_graph the alias is re-linked to n so that second-order
** gradients flow through it. */
lg_tensor *lg_node_output(lg_node *n) {
  lg_tensor *y = lg_alias(n->saved[0]);
  if (y && lg_grad_enabled()) {
    lg_node_retain(n);
    y->grad_fn = n;
    y->requires_grad = true;
  }
  return y;
}

/* Saves a detached alias of out in node->saved[0] for lg_node_output. */
int lg_save_output(lg_node *n, lg_tensor *out) {
  return lg_node_save(n, 0, lg_alias(out)) ? 0 : -1;
}

/* gin = sum_to(g, shape of input i), or NULL when input i needs no grad. */
static int reduce_into(lg_node *n, int i, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *in = n->inputs[i];
  if (!lg_wants_grad(n, i)) return 0;
  gin[i] = lg_sum_to(g, in->ndim, in->shape);
  return gin[i] ? 0 : -1;
}

static bool wants(lg_node *n, int i) { return lg_wants_grad(n, i); }

/* }====================================================== */

/* {====================================================== binary ops */

static int bw_add(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  return reduce_into(n, 0, g, gin) || reduce_into(n, 1, g, gin) ? -1 : 0;
}

static int bw_sub(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  if (reduce_into(n, 0, g, gin)) return -1;
  if (!wants(n, 1)) return 0;
  lg_tensor *t = lg_neg(g);
  if (!t) return -1;
  int rc = reduce_into(n, 1, t, gin);
  lg_release(t);
  return rc;
}

static int bw_mul(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  for (int i = 0; i < 2; i++) {
    if (!wants(n, i)) continue;
    lg_tensor *t = lg_mul(g, n->inputs[1 - i]);
    if (!t) return -1;
    int rc = reduce_into(n, i, t, gin);
    lg_release(t);
    if (rc) return -1;
  }
  return 0;
}

/* d(a/b)/da = 1/b;  d(a/b)/db = -a/b^2 */
static int bw_div(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *ga = lg_div(g, n->inputs[1]), *t = NULL;
  if (!ga) return -1;
  int rc = reduce_into(n, 0, ga, gin);
  if (!rc && wants(n, 1)) {
    t = lg_mul(ga, n->inputs[0]);
    if (t) STEP(t, lg_div(t, n->inputs[1]));
    if (t) STEP(t, lg_neg(t));
    rc = t ? reduce_into(n, 1, t, gin) : -1;
  }
  lg_release(t);
  lg_release(ga);
  return rc;
}

/* linear: add and sub read only their inputs' shapes in backward */
static lg_tensor *binary(const char *name, lg_tensor *a, lg_tensor *b, seg2_fn k,
                         lg_backward_fn bw, bool linear) {
  lg_tensor *out = map2(name, a, b, k, NULL, 0);
  lg_tensor *in[2] = {a, b};
  if (out && lg_any_needs_grad(2, in)) {
    lg_node *n = lg_attach(out, name, bw, 2, in);
    if (!n) {
      lg_release(out);
      return NULL;
    }
    if (linear) lg_node_forget(n, 0), lg_node_forget(n, 1);
  }
  return out;
}

lg_tensor *lg_add(lg_tensor *a, lg_tensor *b) { return binary("add", a, b, k_add, bw_add, true); }
lg_tensor *lg_sub(lg_tensor *a, lg_tensor *b) { return binary("sub", a, b, k_sub, bw_sub, true); }
lg_tensor *lg_mul(lg_tensor *a, lg_tensor *b) { return binary("mul", a, b, k_mul, bw_mul, false); }
lg_tensor *lg_div(lg_tensor *a, lg_tensor *b) { return binary("div", a, b, k_div, bw_div, false); }

static lg_tensor *relu_grad(lg_tensor *g, lg_tensor *x, float slope, bool relu);

/* relu_grad(g, x) = g * (x > 0 ? 1 : slope): linear in g, flat in x. */
static int bw_relu_grad(lg_node *n, lg_tensor *gg, lg_tensor **gin) {
  if (!wants(n, 0)) return 0;
  lg_tensor *t = relu_grad(gg, n->inputs[1], n->floats[0], n->floats[1] != 0.0f);
  if (!t) return -1;
  int rc = reduce_into(n, 0, t, gin);
  lg_release(t);
  return rc;
}

lg_tensor *lg_relu_grad(lg_tensor *g, lg_tensor *x, float slope) {
  return relu_grad(g, x, slope, false);
}

/* Written over g when nothing else can see it: a gradient only the backward
** pass holds (one reference to it and to its buffer, no graph of its own,
** contiguous, y's shape).  Then the activation's gradient needs no buffer of
** its own: SimGAN's refiner's backward had 3 of its 6 MB gradients alive at
** once in each fused residual conv, now 2.  Otherwise a new tensor, with a
** graph when g has one. */
lg_tensor *lg_act_grad(lg_tensor *g, lg_tensor *y, lg_act act, float slope) {
  if (g->refcount != 1 || g->storage->refcount != 1 || g->grad_fn || g->requires_grad ||
      !lg_is_contiguous(g) || !lg_is_contiguous(y) || g->ndim != y->ndim ||
      memcmp(g->shape, y->shape, (size_t)g->ndim * sizeof g->shape[0]))
    return relu_grad(g, y, act == LG_ACT_LEAKY ? slope : 0.0f, act == LG_ACT_RELU);
  /* g = mask(g, y) over g's own buffer, split over threads as map2 would
  ** (each element is read before it is written) */
  float p[2] = {act == LG_ACT_LEAKY ? slope : 0.0f, 0.0f};
  walk w = {.ndim = 1, .nops = 3, .shape = {g->numel}, .stride = {{1}, {1}, {1}}};
  w.base[0] = w.base[1] = lg_data(g);
  w.base[2] = lg_data(y);
  run_walk(&w, NULL, act == LG_ACT_RELU ? k_relu_mask : k_relu_grad, p);
  lg_bump_version(g);
  lg_retain(g);
  return g;
}

/* relu (slope 0) masks with k_relu_mask, leaky_relu scales by the slope. */
static lg_tensor *relu_grad(lg_tensor *g, lg_tensor *x, float slope, bool relu) {
  float p[1] = {slope};
  lg_tensor *out = map2("relu_grad", g, x, relu ? k_relu_mask : k_relu_grad, p, 1);
  lg_tensor *in[2] = {g, NULL};   /* no gradient flows into x */
  lg_node *node;
  if (out && lg_any_needs_grad(1, in)) {
    in[1] = x;
    if (!(node = lg_attach(out, "relu_grad", bw_relu_grad, 2, in))) {
      lg_release(out);
      return NULL;
    }
    node->floats[0] = slope;
    node->floats[1] = relu;
  }
  return out;
}

/* tanh_grad(g, y) = g (1 - y^2):  d/dg = (1 - y^2),  d/dy = -2 g y */
static int bw_tanh_grad(lg_node *n, lg_tensor *gg, lg_tensor **gin) {
  lg_tensor *g = n->inputs[0], *y = n->inputs[1], *t = NULL;
  if (wants(n, 0)) {
    t = lg_tanh_grad(gg, y);
    if (!t || reduce_into(n, 0, t, gin)) { lg_release(t); return -1; }
    lg_release(t);
  }
  if (wants(n, 1)) {
    t = lg_mul(gg, g);
    if (t) STEP(t, lg_mul(t, y));
    if (t) STEP(t, lg_mul_scalar(t, -2.0f));
    if (!t || reduce_into(n, 1, t, gin)) { lg_release(t); return -1; }
    lg_release(t);
  }
  return 0;
}

/* sigmoid_grad(g, y) = g y (1 - y):  d/dg = y (1 - y),  d/dy = g (1 - 2y) */
static int bw_sigmoid_grad(lg_node *n, lg_tensor *gg, lg_tensor **gin) {
  lg_tensor *g = n->inputs[0], *y = n->inputs[1], *t = NULL;
  if (wants(n, 0)) {
    t = lg_sigmoid_grad(gg, y);
    if (!t || reduce_into(n, 0, t, gin)) { lg_release(t); return -1; }
    lg_release(t);
  }
  if (wants(n, 1)) {
    t = lg_mul_scalar(y, -2.0f);
    if (t) STEP(t, lg_add_scalar(t, 1.0f));
    if (t) STEP(t, lg_mul(t, g));
    if (t) STEP(t, lg_mul(t, gg));
    if (!t || reduce_into(n, 1, t, gin)) { lg_release(t); return -1; }
    lg_release(t);
  }
  return 0;
}

lg_tensor *lg_tanh_grad(lg_tensor *g, lg_tensor *y) {
  return binary("tanh_grad", g, y, k_tanh_grad, bw_tanh_grad, false);
}

lg_tensor *lg_sigmoid_grad(lg_tensor *g, lg_tensor *y) {
  return binary("sigmoid_grad", g, y, k_sigmoid_grad, bw_sigmoid_grad, false);
}

/* }====================================================== */

/* {====================================================== unary ops */

/* What a unary op's backward reads besides g: its output (SAVE_OUT: a
** detached alias in saved[0]) and/or not its input's values (FORGET_IN). */
enum { SAVE_OUT = 1, FORGET_IN = 2 };

static lg_tensor *unary(const char *name, lg_tensor *a, seg1_fn k, lg_backward_fn bw,
                        const float *p, int np, int reads) {
  if (!lg_check_shape(name, a->ndim, a->shape)) return NULL;   /* a may be a huge view */
  lg_tensor *out = map1(a, k, p, np);
  if (!out || !bw || !lg_needs_grad(a)) return out;
  lg_node *n = lg_attach(out, name, bw, 1, &a);
  if (!n || ((reads & SAVE_OUT) && lg_save_output(n, out))) {
    lg_release(out);
    return NULL;
  }
  if (reads & FORGET_IN) lg_node_forget(n, 0);
  for (int i = 0; i < np; i++) n->floats[i] = p[i];
  return out;
}

/* d = g * f'(x) with f' computed by `make` from the node. */
#define UNARY_BW(name, body)                                             \
  static int name(lg_node *n, lg_tensor *g, lg_tensor **gin) {           \
    lg_tensor *x = n->inputs[0], *t = NULL;                              \
    (void)x;                                                             \
    body;                                                                \
    gin[0] = t;                                                          \
    return t ? 0 : -1;                                                   \
  }

UNARY_BW(bw_neg, t = lg_neg(g))
/* sign is flat wherever it has a derivative: zeros, as torch, so that
** x:sign():sum():backward() gives x a zero gradient instead of an error */
UNARY_BW(bw_sign, (void)g; t = lg_zeros(x->ndim, x->shape))
UNARY_BW(bw_add_s, lg_retain(g); t = g)
UNARY_BW(bw_mul_s, t = lg_mul_scalar(g, n->floats[0]))
UNARY_BW(bw_rsub_s, t = lg_neg(g))
/* d(s/x) = -s/x^2 */
UNARY_BW(bw_rdiv_s, t = lg_mul(x, x); if (t) STEP(t, lg_div(g, t));
         if (t) STEP(t, lg_mul_scalar(t, -n->floats[0])))
UNARY_BW(bw_exp, lg_tensor *y = lg_node_output(n); t = y ? lg_mul(g, y) : NULL; lg_release(y))
UNARY_BW(bw_log, t = lg_div(g, x))
/* d sqrt(x) = 1 / (2 sqrt(x)) */
UNARY_BW(bw_sqrt, lg_tensor *y = lg_node_output(n); t = y ? lg_div(g, y) : NULL;
         lg_release(y); if (t) STEP(t, lg_mul_scalar(t, 0.5f)))
UNARY_BW(bw_abs, t = lg_sign(x); if (t) STEP(t, lg_mul(g, t)))
/* d x^p = p x^(p-1); for p = 0 zeros, as torch, not 0 * 0^-1 = NaN at 0 */
UNARY_BW(bw_pow, float p = n->floats[0];
         if (p == 0.0f) t = lg_zeros(x->ndim, x->shape);
         else {
           t = p == 2.0f ? (lg_retain(x), x) : lg_pow(x, p - 1.0f);
           if (t) STEP(t, lg_mul(g, t)); if (t) STEP(t, lg_mul_scalar(t, p));
         })
UNARY_BW(bw_clamp, t = lg_clamp_mask(x, n->floats[0], n->floats[1]);
         if (t) STEP(t, lg_mul(g, t)))
/* From the output (relu always saves it; leaky_relu for a slope >= 0): y > 0
** exactly where x > 0 (NaN in both or neither), and the mask's own
** derivative is zero, so the detached output loses no second-order term. */
UNARY_BW(bw_relu, t = lg_act_grad(g, n->saved[0], LG_ACT_RELU, 0.0f))
UNARY_BW(bw_leaky, t = n->saved[0] ? lg_act_grad(g, n->saved[0], LG_ACT_LEAKY, n->floats[0])
                                   : lg_relu_grad(g, x, n->floats[0]))
UNARY_BW(bw_sigmoid, lg_tensor *y = lg_node_output(n); t = y ? lg_sigmoid_grad(g, y) : NULL;
         lg_release(y))
UNARY_BW(bw_tanh, lg_tensor *y = lg_node_output(n); t = y ? lg_tanh_grad(g, y) : NULL;
         lg_release(y))
UNARY_BW(bw_sin, t = lg_cos(x); if (t) STEP(t, lg_mul(g, t)))
UNARY_BW(bw_cos, t = lg_sin(x); if (t) STEP(t, lg_mul(g, t)); if (t) STEP(t, lg_neg(t)))
/* d softplus(x) = sigmoid(x) */
UNARY_BW(bw_softplus, t = lg_sigmoid(x); if (t) STEP(t, lg_mul(g, t)))

lg_tensor *lg_add_scalar(lg_tensor *a, float s) {
  return unary("add", a, k_add_s, bw_add_s, &s, 1, FORGET_IN);
}
lg_tensor *lg_mul_scalar(lg_tensor *a, float s) {
  return unary("mul", a, k_mul_s, bw_mul_s, &s, 1, FORGET_IN);
}
lg_tensor *lg_rsub_scalar(lg_tensor *a, float s) {
  return unary("sub", a, k_rsub_s, bw_rsub_s, &s, 1, FORGET_IN);
}
lg_tensor *lg_rdiv_scalar(lg_tensor *a, float s) {
  return unary("div", a, k_rdiv_s, bw_rdiv_s, &s, 1, 0);
}
lg_tensor *lg_neg(lg_tensor *a) { return unary("neg", a, k_neg, bw_neg, NULL, 0, FORGET_IN); }
lg_tensor *lg_exp(lg_tensor *a) { return unary("exp", a, k_exp, bw_exp, NULL, 0, SAVE_OUT); }
lg_tensor *lg_log(lg_tensor *a) { return unary("log", a, k_log, bw_log, NULL, 0, 0); }
lg_tensor *lg_sqrt(lg_tensor *a) { return unary("sqrt", a, k_sqrt, bw_sqrt, NULL, 0, SAVE_OUT); }
lg_tensor *lg_abs(lg_tensor *a) { return unary("abs", a, k_abs, bw_abs, NULL, 0, 0); }
lg_tensor *lg_sign(lg_tensor *a) { return unary("sign", a, k_sign, bw_sign, NULL, 0, 0); }
lg_tensor *lg_relu(lg_tensor *a) {
  return unary("relu", a, k_relu, bw_relu, NULL, 0, SAVE_OUT | FORGET_IN);
}
lg_tensor *lg_sigmoid(lg_tensor *a) {
  return unary("sigmoid", a, k_sigmoid, bw_sigmoid, NULL, 0, SAVE_OUT);
}
lg_tensor *lg_tanh(lg_tensor *a) { return unary("tanh", a, k_tanh, bw_tanh, NULL, 0, SAVE_OUT); }
lg_tensor *lg_sin(lg_tensor *a) { return unary("sin", a, k_sin, bw_sin, NULL, 0, 0); }
lg_tensor *lg_cos(lg_tensor *a) { return unary("cos", a, k_cos, bw_cos, NULL, 0, 0); }
lg_tensor *lg_softplus(lg_tensor *a) {
  return unary("softplus", a, k_softplus, bw_softplus, NULL, 0, 0);
}
lg_tensor *lg_leaky_relu(lg_tensor *a, float slope) {
  return unary("leaky_relu", a, k_leaky, bw_leaky, &slope, 1,
               slope >= 0.0f ? SAVE_OUT | FORGET_IN : 0);
}
lg_tensor *lg_pow(lg_tensor *a, float p) {
  if (p == 2.0f) return unary("pow", a, k_square, bw_pow, &p, 1, 0);
  return unary("pow", a, k_pow, bw_pow, &p, 1, 0);
}
lg_tensor *lg_clamp(lg_tensor *a, float lo, float hi) {
  if (lo > hi) return lg_seterr("clamp: min %g is greater than max %g", lo, hi);
  float p[2] = {lo, hi};
  return unary("clamp", a, k_clamp, bw_clamp, p, 2, 0);
}
lg_tensor *lg_clamp_mask(lg_tensor *x, float lo, float hi) {
  float p[2] = {lo, hi};
  return unary("clamp_mask", x, k_clamp_mask, NULL, p, 2, 0);
}

/* }====================================================== */

/* {====================================================== in place
** dst = f(dst, a, b) over dst's own layout.  The loops are plain (no
** restrict, no run_walk: that one assumes a contiguous output), and an
** operand is read in place only when it is dst itself or shares nothing
** with it; any other overlap is read from a copy taken first. */

enum { IP_ADD, IP_MUL, IP_DIV, IP_LERP, IP_CLAMP };

bool lg_check_writable(const char *op, const lg_tensor *t) {
  char buf[128];
  for (int i = 0; i < t->ndim; i++)
    if (t->stride[i] == 0 && t->shape[i] > 1) {
      lg_seterr("%s: cannot write into the expanded tensor of shape %s (several of its "
                "elements are one memory location); clone it first",
                op, lg_shape_str(t, buf, sizeof buf));
      return false;
    }
  return true;
}

/* src read at dst's shape: its strides there into `strides`, and a new
** reference to what to read (src, or a private copy when src overlaps dst at
** another geometry).  NULL with an error when src does not broadcast. */
static lg_tensor *ip_operand(const char *op, const lg_tensor *dst, lg_tensor *src,
                             int64_t *strides) {
  char b1[128], b2[128];
  bool ok = src->ndim <= dst->ndim;
  for (int i = 0; ok && i < src->ndim; i++) {
    int64_t sz = src->shape[i], want = dst->shape[i + dst->ndim - src->ndim];
    if (sz != want && sz != 1) ok = false;
  }
  if (!ok)
    return lg_seterr("%s: shape %s cannot broadcast to the destination's shape %s", op,
                     lg_shape_str(src, b1, sizeof b1), lg_shape_str(dst, b2, sizeof b2));
  lg_broadcast_strides(src, dst->ndim, dst->shape, strides);
  bool same = src->storage != dst->storage || src->offset == dst->offset;
  for (int i = 0; same && i < dst->ndim; i++)
    if (dst->shape[i] > 1 && strides[i] != dst->stride[i]) same = false;
  if (src->storage != dst->storage || same) {
    lg_retain(src);
    return src;
  }
  lg_tensor *c = lg_empty(src->ndim, src->shape);
  if (!c) return NULL;
  lg_copy_to(src, lg_data(c));
  lg_broadcast_strides(c, dst->ndim, dst->shape, strides);
  return c;
}

#define IP_LOOP(expr)                                                      \
  for (int64_t i = 0; i < n; i++) {                                        \
    float x = o[i * so], y = a ? a[i * sa] : 0.0f, z = b ? b[i * sb] : 0.0f; \
    (void)y, (void)z;                                                      \
    o[i * so] = (expr);                                                    \
  }

static void ip_run(int kind, float *o, int64_t so, const float *a, int64_t sa, const float *b,
                   int64_t sb, int64_t n, float p0, float p1) {
  switch (kind) {
  case IP_ADD: IP_LOOP(x + p0 * y) break;
  case IP_MUL: IP_LOOP(x * y) break;
  case IP_DIV: IP_LOOP(x / y) break;
  case IP_LERP: IP_LOOP(z < 0.5f ? x + z * (y - x) : y - (y - x) * (1.0f - z)) break;
  case IP_CLAMP: IP_LOOP(x < p0 ? p0 : (x > p1 ? p1 : x)) break;
  }
}

static int inplace(const char *op, int kind, lg_tensor *dst, lg_tensor *a, lg_tensor *b,
                   float p0, float p1) {
  walk w = {.ndim = dst->ndim, .nops = 1};
  lg_tensor *ra = NULL, *rb = NULL;
  if (!lg_check_writable(op, dst)) return -1;
  memcpy(w.shape, dst->shape, sizeof w.shape);
  memcpy(w.stride[0], dst->stride, sizeof w.stride[0]);
  if (a && !(ra = ip_operand(op, dst, a, w.stride[1]))) return -1;
  if (b && !(rb = ip_operand(op, dst, b, w.stride[2]))) {
    lg_release(ra);
    return -1;
  }
  w.nops = b ? 3 : a ? 2 : 1;
  if (!a && b) memset(w.stride[1], 0, sizeof w.stride[1]);
  lg_bump_version(dst);
  if (dst->numel > 0) {
    w.base[0] = lg_data(dst);
    w.base[1] = ra ? lg_data(ra) : NULL;
    w.base[2] = rb ? lg_data(rb) : NULL;
    lg_walk_coalesce(&w);
    int64_t inner = w.shape[w.ndim - 1], rows = 1;
    for (int d = 0; d < w.ndim - 1; d++) rows *= w.shape[d];
    int64_t so = w.stride[0][w.ndim - 1];
    int64_t sa = w.nops > 1 ? w.stride[1][w.ndim - 1] : 0;
    int64_t sb = w.nops > 2 ? w.stride[2][w.ndim - 1] : 0;
    /* rows never overlap in dst (checked writable), so they may run in parallel */
    LG_PARALLEL_FOR(r, rows, rows > 1 && rows * inner >= LG_PAR_MIN, {
      int64_t off[3] = {0, 0, 0};
      row_offsets(&w, r, off);
      ip_run(kind, w.base[0] + off[0], so, ra ? w.base[1] + off[1] : NULL, sa,
             rb ? w.base[2] + off[2] : NULL, sb, inner, p0, p1);
    });
  }
  lg_release(ra);
  lg_release(rb);
  return 0;
}

int lg_add_(lg_tensor *dst, lg_tensor *src, float alpha) {
  return inplace("add_", IP_ADD, dst, src, NULL, alpha, 0.0f);
}
int lg_mul_(lg_tensor *dst, lg_tensor *src) { return inplace("mul_", IP_MUL, dst, src, NULL, 0, 0); }
int lg_div_(lg_tensor *dst, lg_tensor *src) { return inplace("div_", IP_DIV, dst, src, NULL, 0, 0); }
int lg_lerp_(lg_tensor *dst, lg_tensor *end, lg_tensor *weight) {
  return inplace("lerp_", IP_LERP, dst, end, weight, 0.0f, 0.0f);
}
int lg_clamp_(lg_tensor *dst, float lo, float hi) {
  if (lo > hi) {
    lg_seterr("clamp_: min %g is greater than max %g", lo, hi);
    return -1;
  }
  return inplace("clamp_", IP_CLAMP, dst, NULL, NULL, lo, hi);
}

/* dst[..index[p]..] = (or +=) src[p] along dim, for every position p of
** index.  Validates everything before the first write; sequential, so
** duplicates resolve in a fixed order (the last write wins). */
int lg_scatter_(lg_tensor *dst, int dim, lg_tensor *index, lg_tensor *src, bool add) {
  const char *op = add ? "scatter_add_" : "scatter_";
  char b1[128], b2[128], b3[128];
  if (dim < 0 || dim >= dst->ndim) {
    lg_seterr("%s: dim %d out of range for shape %s", op, dim, lg_shape_str(dst, b1, sizeof b1));
    return -1;
  }
  if (!lg_check_writable(op, dst)) return -1;
  bool ok = index->ndim == dst->ndim && src->ndim == dst->ndim;
  for (int d = 0; ok && d < dst->ndim; d++)
    if ((d != dim && index->shape[d] > dst->shape[d]) || index->shape[d] > src->shape[d])
      ok = false;
  if (!ok) {
    lg_seterr("%s: index of shape %s and source of shape %s do not fit shape %s (the index "
              "must fit the destination on every dim but %d, and the source on all)", op,
              lg_shape_str(index, b1, sizeof b1), lg_shape_str(src, b2, sizeof b2),
              lg_shape_str(dst, b3, sizeof b3), dim);
    return -1;
  }
  /* index and src copied dense first: either may share dst's storage */
  lg_tensor *iv = lg_empty(index->ndim, index->shape);
  lg_tensor *sv = iv ? lg_empty(index->ndim, index->shape) : NULL;
  if (!sv) {
    lg_release(iv);
    return -1;
  }
  lg_tensor win = *src;   /* src's leading window of index's shape */
  memcpy(win.shape, index->shape, sizeof win.shape);
  win.numel = index->numel;
  lg_copy_to(index, lg_data(iv));
  lg_copy_to(&win, lg_data(sv));
  const float *ix = lg_data(iv), *sx = lg_data(sv);
  int64_t size = dst->shape[dim], pos[LG_MAXDIM] = {0};
  for (int64_t p = 0; p < index->numel; p++) {
    float v = ix[p];
    if (!(v >= 0.0f && v < (float)size) || (float)(int64_t)v != v) {
      lg_seterr("%s: index value %.10g at position %s is not a valid position along dim %d "
                "of shape %s (0..%lld)", op, v, lg_dims_str(pos, index->ndim, b1, sizeof b1),
                dim, lg_shape_str(dst, b2, sizeof b2), (long long)size - 1);
      lg_release(iv);
      lg_release(sv);
      return -1;
    }
    for (int d = index->ndim - 1; d >= 0 && ++pos[d] == index->shape[d]; d--) pos[d] = 0;
  }
  lg_bump_version(dst);
  float *base = dst->storage->data;
  memset(pos, 0, sizeof pos);
  for (int64_t p = 0; p < index->numel; p++) {
    int64_t at = dst->offset;
    for (int d = 0; d < dst->ndim; d++)
      at += (d == dim ? (int64_t)ix[p] : pos[d]) * dst->stride[d];
    if (add) base[at] += sx[p];
    else base[at] = sx[p];
    for (int d = index->ndim - 1; d >= 0 && ++pos[d] == index->shape[d]; d--) pos[d] = 0;
  }
  lg_release(iv);
  lg_release(sv);
  return 0;
}

/* }====================================================== */
