/*
** lg_dist_sum: the one collective that autograd understands.  Its forward
** calls the allreduce hook on a copy of x; its backward is the same op on
** the incoming gradient (the adjoint of "every process gets the sum" is
** "every process gets the sum of the gradients"), so it is differentiable
** to any order.
*/
#include "dist.h"
#include "internal.h"

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
