/*
** Helpers shared by the core's own files; not part of the public API.
*/
#ifndef LG_INTERNAL_H
#define LG_INTERNAL_H

#include "autograd.h"
#include "tensor.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Loops split over threads above this many elements: below it the fork/join
** costs more than the work (memory-bound kernels gain little from a second
** thread, and on a loaded machine a region waits for a thread that is not
** running: a [256,128] activation went from 6.7 to 193 ms per GAN step). */
#define LG_PAR_MIN 131072

/* for (int64_t var = 0; var < n; var++) body, split over threads only when
** cond holds.  An `omp parallel for if (false)` still enters libgomp (team
** set-up, malloc, futex), which costs more than a small loop: ~0.7 us. */
#define LG_PARALLEL_FOR(var, n, cond, ...)                              \
  do {                                                                  \
    int64_t lg_n_ = (n);                                                \
    if (cond) {                                                         \
      _Pragma("omp parallel for schedule(static)")                     \
      for (int64_t var = 0; var < lg_n_; var++) __VA_ARGS__             \
    } else {                                                            \
      for (int64_t var = 0; var < lg_n_; var++) __VA_ARGS__             \
    }                                                                   \
  } while (0)

/* The calling thread's number in its OpenMP team (0 outside one). */
static inline int lg_thread_num(void) {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

/* A new header sharing t's storage (retained), same shape/strides/offset;
** the caller adjusts the geometry. */
lg_tensor *lg_alias(const lg_tensor *t);

/* For ops whose backward uses their output (exp, tanh, ...): save a
** detached alias at forward time, rebuild it (linked to the node under
** create_graph) at backward time.  See ops_elementwise.c. */
int lg_save_output(lg_node *n, lg_tensor *out);
lg_tensor *lg_node_output(lg_node *n);

/* Gives out, the max or min of all of t computed without a graph, the
** gradient torch 1.13 has for them: split evenly among the ties. */
lg_tensor *lg_track_extreme_all(lg_tensor *out, const char *op, lg_tensor *t);

/* Runs a chain of ops in a backward function where each step consumes the
** previous result: STEP(t, lg_mul(t, y)) releases the old t. */
#define STEP(var, call)                                                  \
  do {                                                                   \
    lg_tensor *next_ = (call);                                           \
    lg_release(var);                                                     \
    var = next_;                                                         \
    if (!var) return -1;                                                 \
  } while (0)

/* {====================================================== checked sizes
** Sizes, strides, element counts and offsets are int64_t, and a request can
** make them as large as it likes (a padding of 2^31 - 1, an expanded view of
** 2^62 elements, a cat of many such views).  Any product or sum of sizes
** that is not already bounded by one existing tensor's shape goes through
** these, once per op, so that an absurd request becomes a "too large" error
** instead of a wrapped size and a write past a buffer. */

/* *out = a * b, or false when the exact result does not fit int64_t. */
static inline bool lg_mul_ok(int64_t a, int64_t b, int64_t *out) {
  return !__builtin_mul_overflow(a, b, out);
}

/* *out = a + b, or false when the exact result does not fit int64_t. */
static inline bool lg_add_ok(int64_t a, int64_t b, int64_t *out) {
  return !__builtin_add_overflow(a, b, out);
}

/* The product of the sizes (each >= 0) with zeros counted as ones, into
** *out, or false when it passes `limit`.  It bounds every stride and every
** partial product of a tensor of that shape, empty or not: [0, 2^40, 2^40]
** has no elements but its first stride would be 2^80. */
static inline bool lg_shape_span(int ndim, const int64_t *shape, int64_t limit, int64_t *out) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++)
    if (shape[i] > 1 && (!lg_mul_ok(n, shape[i], &n) || n > limit)) return false;
  *out = n;
  return true;
}

/* (size + 2 pad - k) / stride + 1, the output size of a convolution or a
** pooling window along one dim, into *out.  False when an intermediate
** overflows or the window does not fit (size + 2 pad < k); the caller
** reports which.  stride >= 1, pad >= 0, k >= 1. */
static inline bool lg_window_count(int64_t size, int64_t pad, int64_t k, int64_t stride,
                                   int64_t *out) {
  int64_t padded;
  if (!lg_mul_ok(pad, 2, &padded) || !lg_add_ok(size, padded, &padded) || padded < k)
    return false;
  *out = (padded - k) / stride + 1;
  return true;
}

/* lg_check_shape for a view: the same rules with a bound of INT64_MAX
** instead of LG_MAX_NUMEL, since a view allocates nothing (an expanded dim
** has stride 0).  Anything that materialises such a view goes through
** lg_empty, which applies the allocation bound. */
bool lg_check_view_shape(const char *op, int ndim, const int64_t *shape);

/* }====================================================== */

/* Recomputes numel after the caller changed the shape. */
static inline void lg_update_numel(lg_tensor *t) {
  t->numel = 1;
  for (int i = 0; i < t->ndim; i++) t->numel *= t->shape[i];
}

/* Broadcast shape of a and b (numpy rules) into out/out_ndim.  Returns false
** and sets "op: shapes [..] and [..] cannot broadcast" on mismatch. */
bool lg_broadcast_shape(const char *op, const lg_tensor *a, const lg_tensor *b,
                        int *out_ndim, int64_t *out);

/* Operands (operand 0 the output) walked over one shape with their own
** strides, for the elementwise loop drivers (ops_elementwise.c,
** ops_compare.c). */
#define LG_WALK_MAXOPS 4
typedef struct {
  int ndim, nops;
  int64_t shape[LG_MAXDIM];
  int64_t stride[LG_WALK_MAXOPS][LG_MAXDIM];
  float *base[LG_WALK_MAXOPS];
} lg_walk;

/* Drops size-1 dims and merges neighbouring dims that every operand steps
** through as one, so contiguous operands become a single run; a single
** element keeps one dim (ops_elementwise.c). */
void lg_walk_coalesce(lg_walk *w);

/* Strides of t viewed at a broadcast shape (0 on expanded dims). */
void lg_broadcast_strides(const lg_tensor *t, int ndim, const int64_t *shape,
                          int64_t *strides);

/* Visits every element offset of t in row-major order. */

#define FOR_EACH_OFFSET(t, off, body)                                       \
  do {                                                                      \
    int64_t idx_[LG_MAXDIM] = {0};                                          \
    int64_t off = (t)->offset;                                              \
    for (int64_t n_ = 0; n_ < (t)->numel; n_++) {                           \
      body;                                                                 \
      for (int d_ = (t)->ndim - 1; d_ >= 0; d_--) {                         \
        off += (t)->stride[d_];                                             \
        if (++idx_[d_] < (t)->shape[d_]) break;                             \
        off -= (t)->stride[d_] * (t)->shape[d_];                            \
        idx_[d_] = 0;                                                       \
      }                                                                     \
    }                                                                       \
  } while (0)

/* True when 0 <= dim < t->ndim; else false with "op: dim D out of range
** for shape [..]" (or "for a 0-dim tensor").  dim is 0-based here: the
** binding checks and converts Lua's 1-based dims before they arrive. */
bool lg_check_dim(const char *op, const lg_tensor *t, int dim);

/* t's elements in a contiguous layout (t itself, retained, when it already
** is), made without recording a graph: for kernels that only read it while
** the graph records t itself. */
lg_tensor *lg_dense(lg_tensor *t);

/* t viewed as [outer, n, inner] around dim: the products of the sizes before
** and after it (bounded by a validated shape), and its own size. */
void lg_split_at(const lg_tensor *t, int dim, int64_t *outer, int64_t *n, int64_t *inner);

/* Frees the convolutions' im2col workspace (ops_conv.c); the next
** convolution allocates it again. */
void lg_conv_workspace_free(void);
/* That workspace (ops_conv.c), at least nfloat floats, 64-byte aligned;
** its contents are not kept from one call to the next.  NULL on failure. */
float *lg_conv_workspace(size_t nfloat);
/* Shared by the 2-D and 3-D convolutions (ops_conv.c, ops_conv3d.c):
** outputs ow in [*lo, *hi) read an input column ow*s - p + j inside
** [0, size); and "op: bias must be [channels]" unless b is NULL or [channels]. */
static inline void lg_conv_span(int64_t j, int64_t p, int64_t s, int64_t size, int64_t count,
                                int64_t *lo, int64_t *hi) {
  int64_t first = p - j, last = size - 1 + p - j;   /* need first <= ow*s <= last */
  *lo = first <= 0 ? 0 : (first + s - 1) / s;
  *hi = last < 0 ? 0 : last / s + 1;
  if (*hi > count) *hi = count;
  if (*lo > *hi) *lo = *hi;
}
bool lg_conv_check_bias(const char *op, const lg_tensor *b, int64_t channels);

/* What a kernel does to its output as it stores it (the fused conv2d_act):
** adds `add` (NULL: nothing; the output's layout), then the activation.
** The scalar form has the same expressions as the add, relu and leaky_relu
** kernels of ops_elementwise.c. */
typedef struct {
  lg_act act;
  float slope;
  const float *add;
} lg_epilogue;

static inline float lg_epilogue_apply(lg_epilogue ep, float x, int64_t i) {
  if (ep.add) x = x + ep.add[i];
  if (ep.act == LG_ACT_RELU) return x <= 0.0f ? 0.0f : x;
  if (ep.act == LG_ACT_LEAKY) return x > 0.0f ? x : x * ep.slope;
  return x;
}

/* The gradient through the activation given its output y: relu's (as
** lg_relu's backward) or leaky relu's; differentiable in g (ops_elementwise.c).
** For backward functions only: g is the pass's gradient, and is written over
** (and returned, retained) when nothing else holds it. */
lg_tensor *lg_act_grad(lg_tensor *g, lg_tensor *y, lg_act act, float slope);

/* Row-major C[m,n] = op(A) op(B) + beta C, op(X) = X^T when the flag is set
** (gemm.c).  C is not read when beta is 0.  `par` lets it split C over the
** threads (never inside a parallel region); the result is the same for any
** thread count. */
void lg_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
              const float *b, int64_t ldb, float beta, float *c, int64_t ldc, bool par);

/* Frees lg_sgemm's packing buffers. */
void lg_gemm_free(void);

/* Files the loaders read (io_file.c).  lg_open_regular opens path for
** reading and refuses anything but a regular file (a FIFO, a device, a
** directory) without blocking or reading: returns a blocking O_CLOEXEC fd and
** the file's size, or -1 with "op: cannot open 'path': ..." or "op: 'path' is
** not a regular file (a FIFO)".  lg_read_all reads exactly n bytes (-1 with
** errno 0 at an early end of file).  lg_read_file reads a whole regular file
** of at most max bytes into a malloc'd buffer with one spare byte. */
int lg_open_regular(const char *op, const char *path, uint64_t *size);
int lg_read_all(int fd, void *buf, size_t n);
unsigned char *lg_read_file(const char *op, const char *path, uint64_t max, size_t *len);

#endif
