/*
** luagan core: float32 tensors with reverse-mode autodiff.
**
** Conventions (read before adding anything):
** - Every function returning lg_tensor* returns a NEW reference (caller must
**   lg_release it) or NULL on error, with a message in lg_errmsg() that names
**   the operation and the offending shapes or values.  Nothing here calls
**   abort/exit/longjmp on bad input.
** - Dims in this C API are 0-based; the Lua binding converts from 1-based.
**   Negative dims are NOT accepted here (the binding normalises them).
** - Ops record an autograd node when grad mode is on and an input requires
**   grad.  Every backward is written with these same ops, so gradients are
**   themselves differentiable (lg_grad with create_graph).
*/
#ifndef LG_TENSOR_H
#define LG_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LG_MAXDIM 8

typedef struct lg_storage {
  float *data;
  size_t capacity;          /* floats allocated (>= what any view uses) */
  int refcount;
  /* Bumped by every in-place write to the buffer, through any view.  A node
  ** records it for each tensor it keeps for backward; backward refuses to
  ** run on values that changed since (PyTorch's version counter). */
  uint64_t version;
} lg_storage;

typedef struct lg_node lg_node;
typedef struct lg_tensor lg_tensor;

struct lg_tensor {
  int refcount;
  int ndim;                 /* 0 .. LG_MAXDIM; 0 is a scalar with numel 1 */
  int64_t shape[LG_MAXDIM];
  int64_t stride[LG_MAXDIM];/* in elements; 0 for broadcast (expanded) dims */
  int64_t offset;           /* in elements, into storage->data */
  int64_t numel;
  lg_storage *storage;
  bool requires_grad;       /* leaf flag set by user, or: output of a graph */
  struct lg_tensor *grad;   /* accumulated gradient (leaves), owned */
  lg_node *grad_fn;         /* the node that produced this tensor, owned */
  uint64_t id;              /* unique per header; a ghost (autograd.h) has its tensor's */
};

/* Every function that writes into an existing tensor calls this. */
static inline void lg_bump_version(lg_tensor *t) { t->storage->version++; }

/* ---------------------------------------------------------------- errors */
const char *lg_errmsg(void);
/* Formats the thread's error message; always returns NULL so that
** `return lg_seterr(...)` reads naturally in functions returning pointers. */
void *lg_seterr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "[2,3]" into buf (size >= 128 recommended); returns buf. */
char *lg_shape_str(const lg_tensor *t, char *buf, size_t size);
char *lg_dims_str(const int64_t *shape, int ndim, char *buf, size_t size);

/* ---------------------------------------------------------------- memory */
void lg_retain(lg_tensor *t);
void lg_release(lg_tensor *t);     /* NULL-safe */
typedef struct lg_memstats {
  uint64_t bytes_live;             /* bytes held by live storages */
  uint64_t bytes_peak;
  uint64_t bytes_cached;           /* free buffers kept by the pool */
  uint64_t bytes_allocated_total;  /* monotonic: sum of all storage requests */
} lg_memstats;
lg_memstats lg_memory(void);
void lg_memory_trim(void);         /* return pooled buffers to the system */

/* ---------------------------------------------------------------- creation */
/* Uninitialised contiguous tensor.  shape may be NULL when ndim == 0. */
lg_tensor *lg_empty(int ndim, const int64_t *shape);
lg_tensor *lg_zeros(int ndim, const int64_t *shape);
lg_tensor *lg_full(int ndim, const int64_t *shape, float value);
lg_tensor *lg_from_data(int ndim, const int64_t *shape, const float *data);
lg_tensor *lg_scalar(float value);                 /* 0-dim */
lg_tensor *lg_arange(int64_t n);                   /* 0..n-1 (the binding offsets) */
lg_tensor *lg_rand(int ndim, const int64_t *shape);  /* U[0,1) */
lg_tensor *lg_randn(int ndim, const int64_t *shape); /* N(0,1) */
lg_tensor *lg_zeros_like(const lg_tensor *t);

/* The most elements a tensor may own: 2^36 floats, 256 GiB.  A larger
** request is refused as "too large" before any size arithmetic or malloc
** (the bytes then always fit size_t, and sums of a few such counts fit
** int64_t).  Views (expand) may be larger: they allocate nothing. */
#define LG_MAX_NUMEL ((int64_t)1 << 36)

/* Validates a shape for a new tensor: 0 <= ndim <= LG_MAXDIM, every size
** >= 0, and the product of the sizes, zeros counted as ones, at most
** LG_MAX_NUMEL ("op: shape [..] is too large ..."). */
bool lg_check_shape(const char *op, int ndim, const int64_t *shape);

/* ---------------------------------------------------------------- rng */
/* xoshiro256** seeded through splitmix64; normals by Box-Muller (rng.c). */
void lg_manual_seed(uint64_t seed);
void lg_rng_get_state(uint64_t state[5]);
void lg_rng_set_state(const uint64_t state[5]);
double lg_rng_uniform(void);       /* [0,1) with 53 random bits */
double lg_rng_normal(void);
void lg_rng_normal_fill(float *out, int64_t n);   /* n normals, vectorised (float) */

/* ---------------------------------------------------------------- access */
bool lg_is_contiguous(const lg_tensor *t);
float *lg_data(const lg_tensor *t);              /* storage->data + offset */
float lg_item(const lg_tensor *t);               /* numel must be 1: caller checks */
/* Copies elements in row-major order into out (numel floats). */
void lg_copy_to(const lg_tensor *t, float *out);
/* dst must have the same shape; broadcasting src into dst is allowed. */
int lg_copy_(lg_tensor *dst, const lg_tensor *src);
void lg_fill_(lg_tensor *t, float value);

/* ---------------------------------------------------------------- views
** All share storage; all are differentiable. */
lg_tensor *lg_view(lg_tensor *t, int ndim, const int64_t *shape); /* one -1 allowed */
lg_tensor *lg_reshape(lg_tensor *t, int ndim, const int64_t *shape); /* copies if needed */
lg_tensor *lg_transpose(lg_tensor *t, int d0, int d1);
lg_tensor *lg_permute(lg_tensor *t, const int *perm);  /* perm has t->ndim entries */
lg_tensor *lg_narrow(lg_tensor *t, int dim, int64_t start, int64_t length);
lg_tensor *lg_expand(lg_tensor *t, int ndim, const int64_t *shape);
lg_tensor *lg_unsqueeze(lg_tensor *t, int dim);
lg_tensor *lg_squeeze(lg_tensor *t, int dim);
lg_tensor *lg_contiguous(lg_tensor *t);   /* returns t retained when already contiguous */
lg_tensor *lg_clone(lg_tensor *t);        /* always copies */
lg_tensor *lg_detach(lg_tensor *t);       /* shares storage, no graph */
lg_tensor *lg_cat(lg_tensor **ts, int n, int dim);
/* t repeated reps[d] times along each dim, a copy (torch.tile, Tensor.repeat):
** fewer reps than dims repeat the last dims, more add leading dims of size 1. */
lg_tensor *lg_tile(lg_tensor *t, int nreps, const int64_t *reps);
/* t with the order of elements reversed along each of the ndims (0-based,
** distinct) dims, a copy (torch.flip); differentiable. */
lg_tensor *lg_flip(lg_tensor *t, int ndims, const int *dims);
/* Sums t down to `shape` (the inverse of broadcasting): backward of expand. */
lg_tensor *lg_sum_to(lg_tensor *t, int ndim, const int64_t *shape);
/* Zeros of `shape` with g written at [start, start+len) of dim: backward of narrow. */
lg_tensor *lg_narrow_scatter(lg_tensor *g, int ndim, const int64_t *shape, int dim, int64_t start);

/* ---------------------------------------------------------------- elementwise
** Binary ops broadcast (numpy rules).  *_scalar take a number. */
lg_tensor *lg_add(lg_tensor *a, lg_tensor *b);
lg_tensor *lg_sub(lg_tensor *a, lg_tensor *b);
lg_tensor *lg_mul(lg_tensor *a, lg_tensor *b);
lg_tensor *lg_div(lg_tensor *a, lg_tensor *b);
lg_tensor *lg_add_scalar(lg_tensor *a, float s);
lg_tensor *lg_mul_scalar(lg_tensor *a, float s);
lg_tensor *lg_rsub_scalar(lg_tensor *a, float s);  /* s - a */
lg_tensor *lg_rdiv_scalar(lg_tensor *a, float s);  /* s / a */
lg_tensor *lg_neg(lg_tensor *a);
lg_tensor *lg_exp(lg_tensor *a);
lg_tensor *lg_log(lg_tensor *a);
lg_tensor *lg_sqrt(lg_tensor *a);
lg_tensor *lg_abs(lg_tensor *a);
lg_tensor *lg_sign(lg_tensor *a);                  /* not differentiable (zero grad) */
lg_tensor *lg_pow(lg_tensor *a, float p);
lg_tensor *lg_clamp(lg_tensor *a, float lo, float hi); /* use -INFINITY / INFINITY for none */
lg_tensor *lg_relu(lg_tensor *a);
lg_tensor *lg_leaky_relu(lg_tensor *a, float slope);
lg_tensor *lg_sigmoid(lg_tensor *a);
lg_tensor *lg_tanh(lg_tensor *a);
lg_tensor *lg_softplus(lg_tensor *a);
lg_tensor *lg_sin(lg_tensor *a);
lg_tensor *lg_cos(lg_tensor *a);
/* Gradient helpers; differentiable themselves (used by backward passes). */
lg_tensor *lg_relu_grad(lg_tensor *g, lg_tensor *x, float slope);  /* g * (x>0 ? 1 : slope) */
lg_tensor *lg_tanh_grad(lg_tensor *g, lg_tensor *y);               /* g * (1 - y^2) */
lg_tensor *lg_sigmoid_grad(lg_tensor *g, lg_tensor *y);            /* g * y * (1 - y) */
lg_tensor *lg_clamp_mask(lg_tensor *x, float lo, float hi);        /* 1 inside [lo,hi], 0 out; no grad */

/* ---------------------------------------------------------------- reductions
** dim is 0-based; keepdim keeps a size-1 dim. */
lg_tensor *lg_sum(lg_tensor *t);                   /* all -> 0-dim */
lg_tensor *lg_sum_dim(lg_tensor *t, int dim, bool keepdim);
lg_tensor *lg_mean(lg_tensor *t);
lg_tensor *lg_mean_dim(lg_tensor *t, int dim, bool keepdim);
lg_tensor *lg_max(lg_tensor *t);                   /* all -> 0-dim */
/* log(sum(exp(t))) along dim, computed stably (torch.logsumexp); an empty
** dim gives -inf.  Differentiable: the gradient is softmax(t) along dim. */
lg_tensor *lg_logsumexp(lg_tensor *t, int dim, bool keepdim);
/* values (differentiable) and *indices (0-based, as floats, no grad). */
lg_tensor *lg_max_dim(lg_tensor *t, int dim, bool keepdim, lg_tensor **indices);
/* torch's gather and scatter-add, an adjoint pair: index (0-based positions
** as floats) has t's ndim, the output has index's shape, and along dim
** out[..i..] = t[..index[..i..]..]; scatter adds src into zeros of `shape`. */
lg_tensor *lg_gather(lg_tensor *t, int dim, lg_tensor *index);
lg_tensor *lg_scatter(lg_tensor *src, int dim, lg_tensor *index, int ndim, const int64_t *shape);
/* Rows of t along dim at the 0-based positions in index ([k] floats): a
** gather with the index broadcast over the other dims. */
lg_tensor *lg_index_select(lg_tensor *t, int dim, lg_tensor *index);
/* A random permutation of 0..n-1 as floats (Fisher-Yates on the generator). */
lg_tensor *lg_randperm(int64_t n);
lg_tensor *lg_softmax(lg_tensor *t, int dim);
lg_tensor *lg_log_softmax(lg_tensor *t, int dim);

/* ---------------------------------------------------------------- matmul */
/* [m,k]x[k,n]; [b,m,k]x[b,k,n]; [b,m,k]x[k,n]; 1-D operands as in numpy. */
lg_tensor *lg_matmul(lg_tensor *a, lg_tensor *b);
/* x [N,in] (or [in]), w [out,in], b [out] or NULL: x w^T + b */
lg_tensor *lg_linear(lg_tensor *x, lg_tensor *w, lg_tensor *b);

/* ---------------------------------------------------------------- losses
** All return the mean over elements (0-dim). */
lg_tensor *lg_bce_with_logits(lg_tensor *logits, lg_tensor *target);
lg_tensor *lg_mse(lg_tensor *a, lg_tensor *b);
lg_tensor *lg_l1(lg_tensor *a, lg_tensor *b);
/* logits [N,C], labels [N] holding class numbers 1..C as floats: 1-based,
** as Torch7's ClassNLLCriterion and the Lua API, so messages need no shift. */
lg_tensor *lg_cross_entropy(lg_tensor *logits, lg_tensor *labels);

/* ---------------------------------------------------------------- layers
** Weight layouts follow PyTorch: conv2d w [cout,cin,kh,kw],
** conv_transpose2d w [cin,cout,kh,kw].  bias may be NULL. */
typedef struct lg_conv_opts {
  int stride[2], padding[2], output_padding[2];   /* (h, w) */
} lg_conv_opts;
lg_tensor *lg_conv2d(lg_tensor *x, lg_tensor *w, lg_tensor *b, const lg_conv_opts *o);
lg_tensor *lg_conv_transpose2d(lg_tensor *x, lg_tensor *w, lg_tensor *b, const lg_conv_opts *o);
/* act(conv2d(x, w, b) + add) in one pass over the output, values identical
** to lg_relu (LG_ACT_RELU) or lg_leaky_relu(., slope) (LG_ACT_LEAKY, slope
** >= 0) applied to lg_add(lg_conv2d(...), add); add (a residual, of the
** output's shape) may be NULL, act LG_ACT_NONE.  Backward reads the saved
** output. */
typedef enum { LG_ACT_NONE, LG_ACT_RELU, LG_ACT_LEAKY } lg_act;
lg_tensor *lg_conv2d_act(lg_tensor *x, lg_tensor *w, lg_tensor *b, lg_tensor *add,
                         const lg_conv_opts *o, lg_act act, float slope);
/* The weight gradient of conv2d as an op of its own, so that the three
** convolution ops are closed under differentiation (second order). */
lg_tensor *lg_conv2d_weight(lg_tensor *x, lg_tensor *gy, int kh, int kw, const lg_conv_opts *o);
/* 3-D: x [N,C,T,H,W]; conv3d w [cout,cin,kt,kh,kw], conv_transpose3d w
** [cin,cout,kt,kh,kw]; sizes per dim in (t, h, w) order (ops_conv3d.c). */
typedef struct lg_conv3d_opts {
  int stride[3], padding[3], output_padding[3];   /* (t, h, w) */
} lg_conv3d_opts;
lg_tensor *lg_conv3d(lg_tensor *x, lg_tensor *w, lg_tensor *b, const lg_conv3d_opts *o);
lg_tensor *lg_conv_transpose3d(lg_tensor *x, lg_tensor *w, lg_tensor *b,
                               const lg_conv3d_opts *o);
/* conv3d's weight gradient [O,C,k[0],k[1],k[2]] from x and gy [N,O,To,Ho,Wo]. */
lg_tensor *lg_conv3d_weight(lg_tensor *x, lg_tensor *gy, const int *k, const lg_conv3d_opts *o);
/* x [N,C], [N,C,L], [N,C,H,W] or [N,C,T,H,W].  training: batch statistics,
** and running_mean/var (may be NULL) updated in place with momentum; else
** the running values. */
lg_tensor *lg_batch_norm(lg_tensor *x, lg_tensor *running_mean, lg_tensor *running_var,
                         lg_tensor *weight, lg_tensor *bias, bool training,
                         float momentum, float eps);
lg_tensor *lg_avg_pool2d(lg_tensor *x, int k, int stride, int padding);
lg_tensor *lg_max_pool2d(lg_tensor *x, int k, int stride, int padding);
lg_tensor *lg_upsample_nearest(lg_tensor *x, int scale);
lg_tensor *lg_dropout(lg_tensor *x, float p, bool training);

/* ---------------------------------------------------------------- optim
** Fused in-place update loops over a parameter and its state buffers
** (contiguous, same shape).  Formulas match PyTorch's (optim.c).
** Hyperparameters are doubles, as Python's floats are in PyTorch: 1 - beta
** is formed in double before it is rounded to float. */
int lg_sgd_step(lg_tensor *p, lg_tensor *grad, lg_tensor *momentum_buf, double lr,
                double momentum, double dampening, double weight_decay, bool nesterov,
                bool first_step);
int lg_adam_step(lg_tensor *p, lg_tensor *grad, lg_tensor *m, lg_tensor *v, double lr,
                 double beta1, double beta2, double eps, double weight_decay, int64_t step);
int lg_rmsprop_step(lg_tensor *p, lg_tensor *grad, lg_tensor *square_avg, lg_tensor *grad_avg,
                    lg_tensor *momentum_buf, double lr, double alpha, double eps,
                    double weight_decay, double momentum, bool centered);
int lg_clip_(lg_tensor *t, float lo, float hi);         /* in place, no graph */
/* Total L2 norm of the tensors' values, in double. */
double lg_norm2(lg_tensor **ts, int n);

/* ---------------------------------------------------------------- io
** safetensors: 8-byte little-endian header length, JSON header
** {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, data.
** Writes are atomic (temp file, fsync, rename). */
typedef struct lg_named {
  const char *name;
  lg_tensor *t;
} lg_named;
typedef struct lg_meta {
  const char *key, *value;
} lg_meta;
int lg_save_safetensors(const char *path, const lg_named *ts, int n, const lg_meta *meta, int nmeta);
/* Loads every tensor (F32; F64/F16/BF16 converted to float32).  On success
** *ts and *meta are malloc'd arrays the caller frees with lg_free_loaded. */
int lg_load_safetensors(const char *path, lg_named **ts, int *n, lg_meta **meta, int *nmeta);
/* Same, from a memory buffer (what the fuzzer drives). */
int lg_parse_safetensors(const unsigned char *buf, size_t len, lg_named **ts, int *n,
                         lg_meta **meta, int *nmeta);
void lg_free_loaded(lg_named *ts, int n, lg_meta *meta, int nmeta);

/* IDX (the MNIST family's format), gzipped or raw -> a float tensor of the
** raw values, validated field by field (io_idx.c).  `what` names the source
** in messages. */
lg_tensor *lg_read_idx(const char *path);
lg_tensor *lg_parse_idx(const unsigned char *buf, size_t len, const char *what);

/* Images (io_image.c).  PNG only (JPEG: see io_image.c).  decode/load ->
** float [C,H,W] in [0,1]: C = 1 for grey (alpha dropped), 3 for RGB, palette
** and RGBA (alpha dropped); 16-bit kept as v/65535.  Limits: 16384 per side,
** 64 Mi samples, 128 MiB files.  save: [C,H,W] (C 1 or 3) or [H,W], clamped,
** 8-bit PNG, atomic; 0 or -1.  grid: [N,C,H,W] -> [C, rows*(H+p)+p,
** nrow*(W+p)+p] filled with pad_value.  resize: the last two dims to h x w,
** area averaging when shrinking, bilinear (align_corners=False) when growing.
** None of them records autograd. */
lg_tensor *lg_image_decode(const unsigned char *buf, size_t len, const char *what);
lg_tensor *lg_image_load(const char *path);
int lg_image_save(const char *path, lg_tensor *img);
lg_tensor *lg_image_grid(lg_tensor *batch, int nrow, int padding, float pad_value);
lg_tensor *lg_image_resize(lg_tensor *img, int h, int w);

/* ---------------------------------------------------------------- linalg
** LAPACK (OpenBLAS) on a matrix [n,n] or a batch [..., n, n] (linalg.c).
** Each matrix is factorised in double precision and the results rounded to
** float32 once.  NaN or Inf in an input is an error.  Results and orders are
** PyTorch's; all are differentiable (eigh, svd: distinct eigenvalues /
** singular values; det, slogdet: a non-singular A).  eigh and cholesky read
** the lower triangle of A. */
/* eigenvalues [..., n] ascending; *vectors [..., n, n], eigenvector i in column i */
lg_tensor *lg_linalg_eigh(lg_tensor *a, lg_tensor **vectors);
/* A [..., m, n] = U diag(S) Vh; reduced (k = min(m,n) columns of U, rows of
** Vh) or full (U [..., m, m], Vh [..., n, n]).  0 or -1. */
int lg_linalg_svd(lg_tensor *a, bool full_matrices, lg_tensor **u, lg_tensor **s,
                  lg_tensor **vh);
lg_tensor *lg_linalg_cholesky(lg_tensor *a);         /* lower L, A = L L^T */
/* X with A X = B; B [..., n] (vectors) or [..., n, k], with A's batch dims */
lg_tensor *lg_linalg_solve(lg_tensor *a, lg_tensor *b);
lg_tensor *lg_linalg_inv(lg_tensor *a);
lg_tensor *lg_linalg_det(lg_tensor *a);              /* [...]: 0-dim for one matrix */
/* returns sign (no gradient; 0 when singular), *logabsdet = log|det| */
lg_tensor *lg_linalg_slogdet(lg_tensor *a, lg_tensor **logabsdet);
/* eigh of one n x n row-major matrix of doubles, for callers that keep double
** precision end to end: a becomes the eigenvectors (columns, row-major), w
** the ascending eigenvalues.  0, or -1 with lg_seterr. */
int lg_eigh_f64(int64_t n, double *a, double *w);
/* the symmetric square root of a symmetric PSD n x n matrix of doubles, in
** place (negative eigenvalues count as zero); 0, or -1 with lg_seterr */
int lg_sqrtm_psd_f64(int64_t n, double *a);
/* c = a b for row-major doubles: a m x k, b k x n, c m x n */
void lg_matmul_f64(int64_t m, int64_t k, int64_t n, const double *a, const double *b, double *c);

/* ---------------------------------------------------------------- comparisons
** and discrete ops (ops_compare.c).  Booleans are 0/1 floats; a condition
** or mask is true where nonzero (NaN included).  Comparisons broadcast,
** follow IEEE (NaN compares false except ne) and record no graph. */
lg_tensor *lg_gt(lg_tensor *a, lg_tensor *b);
lg_tensor *lg_ge(lg_tensor *a, lg_tensor *b);
lg_tensor *lg_lt(lg_tensor *a, lg_tensor *b);
lg_tensor *lg_le(lg_tensor *a, lg_tensor *b);
lg_tensor *lg_eq(lg_tensor *a, lg_tensor *b);
lg_tensor *lg_ne(lg_tensor *a, lg_tensor *b);
/* 1 where the element is NaN / +-inf / neither, else 0 (torch.isnan, isinf, isfinite). */
lg_tensor *lg_isnan(lg_tensor *t);
lg_tensor *lg_isinf(lg_tensor *t);
lg_tensor *lg_isfinite(lg_tensor *t);
/* 1 when same shape and every element equal (torch.equal), 0 if not, -1 on error. */
int lg_equal(lg_tensor *a, lg_tensor *b);
/* c ? a : b elementwise, all three broadcast; differentiable in a and b. */
lg_tensor *lg_where(lg_tensor *c, lg_tensor *a, lg_tensor *b);
/* The elements of x where mask is true (both broadcast), row-major, as a
** 1-D tensor; differentiable in x. */
lg_tensor *lg_masked_select(lg_tensor *x, lg_tensor *mask);
/* [k, ndim]: 0-based positions (floats) of the k nonzero elements. */
lg_tensor *lg_nonzero(lg_tensor *t);
/* 0-based positions (floats, no graph) of the first max / min along dim;
** NaN counts as the extreme, as in torch. */
lg_tensor *lg_argmax(lg_tensor *t, int dim, bool keepdim);
lg_tensor *lg_argmin(lg_tensor *t, int dim, bool keepdim);
/* As lg_max / lg_max_dim: values differentiable, *indices 0-based floats. */
lg_tensor *lg_min(lg_tensor *t);
lg_tensor *lg_min_dim(lg_tensor *t, int dim, bool keepdim, lg_tensor **indices);
/* Zero gradient (a node that hands back zeros, as torch). round: half to even. */
lg_tensor *lg_floor(lg_tensor *a);
lg_tensor *lg_ceil(lg_tensor *a);
lg_tensor *lg_round(lg_tensor *a);
lg_tensor *lg_trunc(lg_tensor *a);
/* Uniform integers in [lo, hi) from the generator; |lo|, |hi| <= 2^24. */
lg_tensor *lg_randint(int64_t lo, int64_t hi, int ndim, const int64_t *shape);
lg_tensor *lg_eye(int64_t n, int64_t m);
/* labels of class numbers 1..num_classes (1-BASED, as cross_entropy) ->
** labels' shape + [num_classes], 1 at each label's class; num_classes -1
** takes the largest label. */
lg_tensor *lg_one_hot(lg_tensor *labels, int64_t num_classes);

/* ---------------------------------------------------------------- stack, split, pad
** (ops_stack.c) */
/* n tensors of one shape joined along a new dim (0..ndim); differentiable. */
lg_tensor *lg_stack(lg_tensor **ts, int n, int dim);
/* out[0..n-1] = views (narrow) of t along dim of the given sizes, which must
** sum to t's size there.  0, or -1 with nothing in out. */
int lg_split(lg_tensor *t, int dim, int n, const int64_t *sizes, lg_tensor **out);
typedef enum { LG_PAD_CONSTANT, LG_PAD_REFLECT, LG_PAD_REPLICATE } lg_pad_mode;
/* PyTorch's F.pad: pads = {before, after} pairs, the LAST dim first, npads
** even and at most 2 ndim.  A negative amount crops.  reflect: every pad
** below the dim's size (the edge is not repeated); replicate: the dim not
** empty.  Differentiable to any order (backward is pad_adjoint). */
lg_tensor *lg_pad(lg_tensor *t, int npads, const int64_t *pads, lg_pad_mode mode, float value);
/* The adjoint of lg_pad (its value ignored): each element of g added to the
** position of the unpadded shape it was read from. */
lg_tensor *lg_pad_adjoint(lg_tensor *g, int npads, const int64_t *pads, lg_pad_mode mode);

/* ---------------------------------------------------------------- scans, sorting
** (ops_scan.c) */
/* Variance along dim (or over all elements, 0-dim) with divisor
** max(0, n - correction): correction 1 is PyTorch's unbiased default.  Two
** passes (mean, then squared deviations); composed of differentiable ops. */
lg_tensor *lg_var_dim(lg_tensor *t, int dim, int64_t correction, bool keepdim);
lg_tensor *lg_var(lg_tensor *t, int64_t correction);
/* Inclusive running sum along dim, accumulated in double; backward is the
** running sum from the other end. */
lg_tensor *lg_cumsum(lg_tensor *t, int dim);
/* Stable sort along dim; NaN counts as larger than everything (last when
** ascending, first when descending), as torch.  Values are differentiable
** (a gather), *indices are 0-based positions as floats. */
lg_tensor *lg_sort(lg_tensor *t, int dim, bool descending, lg_tensor **indices);
/* The k largest (or smallest) along dim, in sorted order, ties by position. */
lg_tensor *lg_topk(lg_tensor *t, int64_t k, int dim, bool largest, lg_tensor **indices);

/* ---------------------------------------------------------------- threads */
void lg_set_num_threads(int n);    /* OpenMP and OpenBLAS together */
int lg_get_num_threads(void);

/* ---------------------------------------------------------------- indexing, in place
** Views by position (ops_shape.c) and in-place arithmetic (ops_elementwise.c).
** Positions are 0-based here; the binding converts Torch7's 1-based and
** negative ones and reports them 1-based. */

/* The slice at `index` along dim, with dim removed: a view, differentiable
** (a narrow and a squeeze). */
lg_tensor *lg_select(lg_tensor *t, int dim, int64_t index);

/* One dim of an index: [start, start + length), and `drop` removes the dim
** (a select: length 1). */
typedef struct lg_range {
  int64_t start, length;
  bool drop;
} lg_range;

/* The view of t through r[0..n-1] for its first n dims (n <= ndim), the
** other dims whole; differentiable.  Always a new header, even for {}. */
lg_tensor *lg_index_view(lg_tensor *t, int n, const lg_range *r);

/* In-place arithmetic: no graph is recorded (the binding refuses tensors
** that are part of one), the storage version is bumped, and operands
** broadcast to dst's shape.  An operand that shares dst's storage at
** another geometry (x:add_(x:t())) is read from a copy first, so the
** result is the one of the out-of-place op.  A dst with overlapping
** elements (an expanded view) is refused.  0 or -1 with lg_seterr. */
bool lg_check_writable(const char *op, const lg_tensor *t);
int lg_add_(lg_tensor *dst, lg_tensor *src, float alpha);   /* dst += alpha src */
int lg_mul_(lg_tensor *dst, lg_tensor *src);
int lg_div_(lg_tensor *dst, lg_tensor *src);
/* dst += weight (end - dst), in PyTorch's form (exact at weight 1). */
int lg_lerp_(lg_tensor *dst, lg_tensor *end, lg_tensor *weight);
int lg_clamp_(lg_tensor *dst, float lo, float hi);          /* NaN stays NaN */
/* torch's scatter_ (add false: the last write wins) and scatter_add_:
** index (0-based positions as floats) has dst's ndim and fits dst on every
** dim but dim; src has at least index's size on every dim. */
int lg_scatter_(lg_tensor *dst, int dim, lg_tensor *index, lg_tensor *src, bool add);
/* index_copy_ / index_add_: index [k] (0-based floats); src is dst's shape
** with k on dim; slice i of src goes to slice index[i] of dst. */
int lg_index_copy_(lg_tensor *dst, int dim, lg_tensor *index, lg_tensor *src, bool add);

#endif
