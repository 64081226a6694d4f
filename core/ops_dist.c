/*
** lg_dist_sum: the one collective that autograd understands.  Its forward
** calls the allreduce hook on a copy of x; its backward is the same op on
** the incoming gradient (the adjoint of "every process gets the sum" is
** "every process gets the sum of the gradients"), so it is differentiable
** to any order.
*/
#include "dist.h"
#include "internal.h"

#include <string.h>

static lg_allreduce_fn hook;
static void *hook_ctx;

void lg_set_allreduce(lg_allreduce_fn fn, void *ctx) {
  hook = fn;
  hook_ctx = ctx;
}

static int bw_dist_sum(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  (void)n;
  gin[0] = lg_dist_sum(g);
  return gin[0] ? 0 : -1;
}

lg_tensor *lg_dist_sum(lg_tensor *x) {
  bool prev = lg_set_grad_enabled(false);
  lg_tensor *out = lg_clone(x);   /* contiguous, private, outside any graph */
  lg_set_grad_enabled(prev);
  if (out && hook && hook(lg_data(out), out->numel, hook_ctx)) {
    lg_release(out);
    return NULL;
  }
  lg_track(&out, "dist_sum", bw_dist_sum, 1, &x);
  return out;
}

/* {====================================================== gradient buckets
** One pass over each gradient each way: a copy on the way in, a division
** on the way out.  These loops are what sync_grads costs besides MPI. */

void lg_pack_grads(float *dst, int n, lg_tensor *const *params) {
  for (int i = 0; i < n; i++) {
    const lg_tensor *p = params[i], *g = p->grad;
    if (g) lg_copy_to(g, dst);
    else memset(dst, 0, sizeof(float) * (size_t)p->numel);
    dst += p->numel;
  }
}

int lg_unpack_grads(const float *src, int n, lg_tensor *const *params, float divisor) {
  for (int i = 0; i < n; i++) {
    lg_tensor *p = params[i], *g = p->grad;
    if (!g && !(g = p->grad = lg_empty(p->ndim, p->shape))) return -1;
    lg_bump_version(g);
    if (lg_is_contiguous(g)) {
      float *d = lg_data(g);
      for (int64_t k = 0; k < g->numel; k++) d[k] = src[k] / divisor;
    } else {
      float *base = g->storage->data;
      int64_t k = 0;
      FOR_EACH_OFFSET(g, off, base[off] = src[k++] / divisor);
    }
    src += p->numel;
  }
  return 0;
}

/* }====================================================== */
