/*
** Tensors and their storage: errors, the buffer pool, creation, access.
**
** Storage buffers come from a size-classed cache so that a training loop,
** which frees and reallocates the same sizes every step, stops calling
** malloc after its first iteration.  The cache is capped; beyond the cap
** buffers go back to the system.
*/
#include "tensor.h"
#include "autograd.h"
#include "internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {====================================================== errors */

static _Thread_local char errbuf[512];

const char *lg_errmsg(void) { return errbuf[0] ? errbuf : "unknown error"; }

void *lg_seterr(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errbuf, sizeof errbuf, fmt, ap);
  va_end(ap);
  return NULL;
}

char *lg_dims_str(const int64_t *shape, int ndim, char *buf, size_t size) {
  size_t used = 0;
  if (size == 0) return buf;
  buf[0] = '\0';
  used += (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < ndim && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, i ? ",%lld" : "%lld",
                             (long long)shape[i]);
  if (used < size) snprintf(buf + used, size - used, "]");
  return buf;
}

char *lg_shape_str(const lg_tensor *t, char *buf, size_t size) {
  return lg_dims_str(t->shape, t->ndim, buf, size);
}

/* }====================================================== */

/* {====================================================== buffer pool */

#define POOL_CLASSES 160
#define POOL_CAP_BYTES ((uint64_t)192 << 20)
#define POOL_MIN_BYTES 64

typedef struct freebuf { struct freebuf *next; } freebuf;

static struct {
  freebuf *free[POOL_CLASSES];
  lg_memstats st;
  lg_storage *free_storages;    /* reuse the structs too (linked through data) */
  lg_tensor *free_tensors;      /* linked through grad */
} pool;

/* Size classes: 64 bytes, then four steps per power of two. */
static int size_class(size_t bytes, size_t *class_bytes) {
  if (bytes <= POOL_MIN_BYTES) { *class_bytes = POOL_MIN_BYTES; return 0; }
  int p = 63 - __builtin_clzll((unsigned long long)(bytes - 1)); /* 2^p < bytes <= 2^(p+1) */
  size_t step = (size_t)1 << (p - 2);
  size_t k = (bytes - ((size_t)1 << p) + step - 1) / step;       /* 1..4 */
  *class_bytes = ((size_t)1 << p) + k * step;
  int c = (p - 5) * 4 + (int)k;                                   /* p >= 6 here */
  return c < POOL_CLASSES ? c : -1;
}

static float *buf_alloc(size_t nfloat, size_t *cap_floats) {
  size_t bytes = nfloat * sizeof(float), cbytes;
  int c = size_class(bytes ? bytes : 1, &cbytes);
  *cap_floats = cbytes / sizeof(float);
  if (c >= 0 && pool.free[c]) {
    freebuf *f = pool.free[c];
    pool.free[c] = f->next;
    pool.st.bytes_cached -= cbytes;
    return (float *)f;
  }
  void *p = aligned_alloc(64, (cbytes + 63) & ~(size_t)63);
  if (!p) {  /* give the cache back and try once more */
    lg_memory_trim();
    p = aligned_alloc(64, (cbytes + 63) & ~(size_t)63);
  }
  return p;
}

static void buf_free(float *p, size_t cap_floats) {
  size_t cbytes = cap_floats * sizeof(float), check;
  int c = size_class(cbytes, &check);
  if (c >= 0 && pool.st.bytes_cached + cbytes <= POOL_CAP_BYTES) {
    freebuf *f = (freebuf *)p;
    f->next = pool.free[c];
    pool.free[c] = f;
    pool.st.bytes_cached += cbytes;
  } else {
    free(p);
  }
}

void lg_memory_trim(void) {
  lg_conv_workspace_free();
  lg_gemm_free();
  for (int c = 0; c < POOL_CLASSES; c++) {
    while (pool.free[c]) {
      freebuf *f = pool.free[c];
      pool.free[c] = f->next;
      free(f);
    }
  }
  pool.st.bytes_cached = 0;
  while (pool.free_storages) {
    lg_storage *s = pool.free_storages;
    pool.free_storages = (lg_storage *)(void *)s->data;
    free(s);
  }
  while (pool.free_tensors) {
    lg_tensor *t = pool.free_tensors;
    pool.free_tensors = t->grad;
    free(t);
  }
}

lg_memstats lg_memory(void) { return pool.st; }

static lg_storage *storage_new(size_t nfloat) {
  lg_storage *s = pool.free_storages;
  if (s) pool.free_storages = (lg_storage *)(void *)s->data;
  else if (!(s = malloc(sizeof *s))) return NULL;
  s->data = buf_alloc(nfloat, &s->capacity);
  if (!s->data) {
    free(s);
    return NULL;
  }
  s->refcount = 1;
  s->version = 0;
  uint64_t bytes = s->capacity * sizeof(float);
  pool.st.bytes_live += bytes;
  pool.st.bytes_allocated_total += bytes;
  if (pool.st.bytes_live > pool.st.bytes_peak) pool.st.bytes_peak = pool.st.bytes_live;
  return s;
}

static void storage_release(lg_storage *s) {
  if (!s || --s->refcount > 0) return;
  pool.st.bytes_live -= s->capacity * sizeof(float);
  buf_free(s->data, s->capacity);
  s->data = (float *)(void *)pool.free_storages;
  pool.free_storages = s;
}

/* }====================================================== */

/* {====================================================== tensor lifetime */

void lg_retain(lg_tensor *t) {
  if (t) t->refcount++;
}

void lg_release(lg_tensor *t) {
  if (!t || --t->refcount > 0) return;
  storage_release(t->storage);
  lg_release(t->grad);
  lg_node_release(t->grad_fn);
  t->grad = pool.free_tensors;
  pool.free_tensors = t;
}

/* A tensor header over storage s (retained), with contiguous strides. */
static lg_tensor *tensor_header(lg_storage *s, int ndim, const int64_t *shape) {
  static uint64_t next_id;
  lg_tensor *t = pool.free_tensors;
  if (t) pool.free_tensors = t->grad;
  else if (!(t = malloc(sizeof *t))) return lg_seterr("out of memory");
  memset(t, 0, sizeof *t);
  t->refcount = 1;
  t->id = ++next_id;
  t->ndim = ndim;
  t->numel = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    t->shape[i] = shape[i];
    t->stride[i] = t->numel;
    t->numel *= shape[i];
  }
  t->storage = s;
  return t;
}

/* A new header sharing t's storage; shape/strides/offset to be set by the caller. */
lg_tensor *lg_alias(const lg_tensor *t) {
  lg_tensor *v = tensor_header(t->storage, t->ndim, t->shape);
  if (!v) return NULL;
  t->storage->refcount++;
  memcpy(v->stride, t->stride, sizeof v->stride);
  v->offset = t->offset;
  return v;
}

/* The storage of every ghost: no data, and a reference of its own so that
** it is never freed. */
static lg_storage no_storage = {NULL, 0, 1, 0};

lg_tensor *lg_ghost(const lg_tensor *t) {
  lg_tensor *v = tensor_header(&no_storage, t->ndim, t->shape);
  if (!v) return NULL;
  no_storage.refcount++;
  memcpy(v->stride, t->stride, sizeof v->stride);
  v->id = t->id;
  v->requires_grad = t->requires_grad;
  v->grad_fn = t->grad_fn;
  lg_node_retain(t->grad_fn);
  return v;
}

bool lg_is_ghost(const lg_tensor *t) { return t->storage == &no_storage; }

/* lg_check_shape with the bound as a parameter; limit_name spells it. */
static bool check_dims(const char *op, int ndim, const int64_t *shape, int64_t limit,
                       const char *limit_name) {
  char buf[160];
  int64_t span;
  if (ndim < 0 || ndim > LG_MAXDIM) {
    lg_seterr("%s: %d dimensions requested, at most %d are supported", op, ndim, LG_MAXDIM);
    return false;
  }
  for (int i = 0; i < ndim; i++) {
    if (shape[i] >= 0) continue;
    lg_seterr("%s: negative size %lld in shape %s", op, (long long)shape[i],
              lg_dims_str(shape, ndim, buf, sizeof buf));
    return false;
  }
  if (!lg_shape_span(ndim, shape, limit, &span)) {
    bool empty = false;
    for (int i = 0; i < ndim; i++) empty |= shape[i] == 0;
    lg_seterr("%s: shape %s is too large (%s multiply past %s)", op,
              lg_dims_str(shape, ndim, buf, sizeof buf),
              empty ? "its nonzero sizes" : "its sizes", limit_name);
    return false;
  }
  return true;
}

_Static_assert(LG_MAX_NUMEL == (int64_t)1 << 36, "the messages below say 2^36");

bool lg_check_shape(const char *op, int ndim, const int64_t *shape) {
  return check_dims(op, ndim, shape, LG_MAX_NUMEL, "2^36 elements");
}

bool lg_check_view_shape(const char *op, int ndim, const int64_t *shape) {
  return check_dims(op, ndim, shape, INT64_MAX, "2^63");
}

lg_tensor *lg_empty(int ndim, const int64_t *shape) {
  if (!lg_check_shape("empty", ndim, shape)) return NULL;
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];   /* <= LG_MAX_NUMEL: checked above */
  lg_storage *s = storage_new((size_t)n);
  if (!s) {
    char buf[160];
    return lg_seterr("out of memory allocating a tensor of shape %s",
                     lg_dims_str(shape, ndim, buf, sizeof buf));
  }
  lg_tensor *t = tensor_header(s, ndim, shape);
  if (!t) storage_release(s);
  return t;
}

/* }====================================================== */

/* {====================================================== creation */

void lg_fill_(lg_tensor *t, float value) {
  if (lg_is_contiguous(t)) {
    float *d = lg_data(t);
    lg_bump_version(t);
    for (int64_t i = 0; i < t->numel; i++) d[i] = value;
    return;
  }
  lg_tensor *s = lg_scalar(value);
  if (s) lg_copy_(t, s);
  lg_release(s);
}

lg_tensor *lg_full(int ndim, const int64_t *shape, float value) {
  lg_tensor *t = lg_empty(ndim, shape);
  if (t) lg_fill_(t, value);
  return t;
}

lg_tensor *lg_zeros(int ndim, const int64_t *shape) { return lg_full(ndim, shape, 0.0f); }

lg_tensor *lg_zeros_like(const lg_tensor *t) { return lg_zeros(t->ndim, t->shape); }

lg_tensor *lg_scalar(float value) { return lg_full(0, NULL, value); }

lg_tensor *lg_from_data(int ndim, const int64_t *shape, const float *data) {
  lg_tensor *t = lg_empty(ndim, shape);
  if (t) memcpy(lg_data(t), data, (size_t)t->numel * sizeof(float));
  return t;
}

lg_tensor *lg_arange(int64_t n) {
  if (n < 0) return lg_seterr("arange: n must be >= 0, got %lld", (long long)n);
  lg_tensor *t = lg_empty(1, &n);
  if (!t) return NULL;
  float *d = lg_data(t);
  for (int64_t i = 0; i < n; i++) d[i] = (float)i;
  return t;
}

lg_tensor *lg_rand(int ndim, const int64_t *shape) {
  lg_tensor *t = lg_empty(ndim, shape);
  if (!t) return NULL;
  float *d = lg_data(t);
  for (int64_t i = 0; i < t->numel; i++) {
    float u = (float)lg_rng_uniform();
    d[i] = u < 1.0f ? u : 0x1.fffffep-1f;  /* rounding to float must not reach 1 */
  }
  return t;
}

lg_tensor *lg_randperm(int64_t n) {
  lg_tensor *t = lg_arange(n);
  if (!t) return NULL;
  float *d = lg_data(t);
  for (int64_t i = n - 1; i > 0; i--) {   /* Fisher-Yates, back to front */
    int64_t j = (int64_t)(lg_rng_uniform() * (double)(i + 1));
    float tmp = d[i];
    d[i] = d[j];
    d[j] = tmp;
  }
  return t;
}

lg_tensor *lg_randn(int ndim, const int64_t *shape) {
  lg_tensor *t = lg_empty(ndim, shape);
  if (!t) return NULL;
  lg_rng_normal_fill(lg_data(t), t->numel);
  return t;
}

/* }====================================================== */

/* {====================================================== access */

bool lg_is_contiguous(const lg_tensor *t) {
  int64_t expect = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    if (t->shape[i] != 1 && t->stride[i] != expect) return false;
    expect *= t->shape[i];
  }
  return true;
}

float *lg_data(const lg_tensor *t) { return t->storage->data + t->offset; }

float lg_item(const lg_tensor *t) { return lg_data(t)[0]; }

void lg_copy_to(const lg_tensor *t, float *out) {
  if (lg_is_contiguous(t)) {
    memcpy(out, lg_data(t), (size_t)t->numel * sizeof(float));
    return;
  }
  const float *base = t->storage->data;
  int64_t i = 0;
  FOR_EACH_OFFSET(t, off, out[i++] = base[off]);
}

int lg_copy_(lg_tensor *dst, const lg_tensor *src) {
  char b1[128], b2[128];
  /* broadcast src to dst's shape through an expanded header */
  if (src->ndim > dst->ndim) goto bad;
  lg_tensor e = *src;
  e.ndim = dst->ndim;
  int shift = dst->ndim - src->ndim;
  for (int i = dst->ndim - 1; i >= 0; i--) {
    int j = i - shift;
    int64_t sz = j >= 0 ? src->shape[j] : 1, st = j >= 0 ? src->stride[j] : 0;
    if (sz != dst->shape[i]) {
      if (sz != 1) goto bad;
      st = 0;
    }
    e.shape[i] = dst->shape[i];
    e.stride[i] = st;
  }
  e.numel = dst->numel;
  lg_bump_version(dst);
  {
    float *tmp = NULL, one;
    const float *srcbuf;
    /* read src first: dst and src may overlap */
    if (e.numel == 0) return 0;
    if (e.numel > LG_MAX_NUMEL) {   /* an expanded view: no buffer that size */
      lg_seterr("copy: destination shape %s is too large (more than 2^36 elements)",
                lg_shape_str(dst, b2, sizeof b2));
      return -1;
    }
    tmp = dst->numel > 1 ? malloc((size_t)dst->numel * sizeof(float)) : &one;
    if (!tmp) {
      lg_seterr("copy: out of memory");
      return -1;
    }
    lg_copy_to(&e, tmp);
    srcbuf = tmp;
    float *base = dst->storage->data;
    int64_t i = 0;
    FOR_EACH_OFFSET(dst, off, base[off] = srcbuf[i++]);
    if (tmp != &one) free(tmp);
  }
  return 0;
bad:
  lg_seterr("copy: cannot copy shape %s into shape %s", lg_shape_str(src, b1, sizeof b1),
            lg_shape_str(dst, b2, sizeof b2));
  return -1;
}

/* }====================================================== */
