/*
** Collectives seen from the core: a hook, set by whoever links a message
** passing library (the Lua binding links Open MPI), that sums a float buffer
** over every process in place.  The core itself knows no MPI: without a
** hook it is a job of one process, and the sum is the identity.
*/
#ifndef LG_DIST_H
#define LG_DIST_H

#include "tensor.h"

/* Sums data[0..n) elementwise over every process, in place, with the same
** n on each.  Returns 0, or -1 with lg_seterr. */
typedef int (*lg_allreduce_fn)(float *data, int64_t n, void *ctx);

/* Installs the hook (NULL: back to one process).  Not thread-safe: set it
** once, before the first collective. */
void lg_set_allreduce(lg_allreduce_fn fn, void *ctx);

/* x summed over every process, as a new contiguous tensor of x's shape.
** Differentiable: if every process computes a loss L_p from the result,
** the gradient reaching x on each process is d(sum_p L_p)/d(result),
** itself a sum over processes (so backward is a collective too, and every
** process must run it).  The building block of synchronised batch norm. */
lg_tensor *lg_dist_sum(lg_tensor *x);

/* Gradient buckets (lg.dist.wrap): the .grad of params[0..n), each in
** row-major order, one after the other into dst (zeros for a parameter
** without a .grad); dst holds the sum of their numel. */
void lg_pack_grads(float *dst, int n, lg_tensor *const *params);

/* The reverse, each value divided by divisor (the number of processes,
** for a mean: a division, as allreduce's "mean", not a multiplication by
** its inverse, so the bits are those of the unbucketed path): into every
** .grad in place, a parameter without one getting a new one.  Returns 0,
** or -1 with lg_seterr (out of memory). */
int lg_unpack_grads(const float *src, int n, lg_tensor *const *params, float divisor);

#endif
