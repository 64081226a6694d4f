/*
** Reverse-mode autodiff: a define-by-run graph of nodes.
**
** Each op output that needs a gradient gets a node holding the op's inputs
** (retained) and whatever it saved.  Backward functions compute input
** gradients with ordinary (differentiable) ops: when the engine runs with
** create_graph they record a new graph, which gives higher-order gradients;
** otherwise grad mode is off and they are plain kernels.
*/
#ifndef LG_AUTOGRAD_H
#define LG_AUTOGRAD_H

#include "tensor.h"

#define LG_MAXIN 4
#define LG_MAXSAVED 3

/* Fills gin[i] with a new reference to d(loss)/d(input i), or leaves it NULL
** when the input needs no gradient (or the gradient is zero).  gout has the
** output's shape.  Returns 0, or -1 with lg_seterr. */
typedef int (*lg_backward_fn)(lg_node *n, lg_tensor *gout, lg_tensor **gin);

struct lg_node {
  int refcount;
  const char *name;           /* op name for error messages: "mul" */
  lg_backward_fn backward;
  int n_inputs;
  lg_tensor *inputs[LG_MAXIN];     /* retained; may be NULL */
  lg_tensor *saved[LG_MAXSAVED];   /* retained extra tensors (detached) */
  int64_t ints[2 * LG_MAXDIM];     /* op parameters: dims, sizes, ... */
  float floats[4];
  int out_ndim;                    /* shape of the output, for checks */
  int64_t out_shape[LG_MAXDIM];
  /* storage versions of inputs[] and saved[] when the node took them:
  ** backward fails if an in-place write changed one since */
  uint64_t input_version[LG_MAXIN];
  uint64_t saved_version[LG_MAXSAVED];
  bool released;                   /* inputs/saved dropped after backward */
  /* engine scratch, valid only during one backward pass */
  lg_tensor *gacc;
  int visit;
  bool needed;
  bool wants[LG_MAXIN];            /* input i's gradient is used by this pass */
  bool last_use[LG_MAXIN];         /* input i is a leaf no later node feeds (hooks) */
};

/* For backward functions: compute the gradient of input i?  Only when the
** pass needs it: lg.grad(D(x), x) must not pay for D's weight gradients. */
static inline bool lg_wants_grad(const lg_node *n, int i) { return n->wants[i]; }

/* Grad mode (thread-local; on by default). */
bool lg_grad_enabled(void);
bool lg_set_grad_enabled(bool on);   /* returns the previous value */

/* True when an op with this input should record a node. */
static inline bool lg_needs_grad(const lg_tensor *t) {
  return t && t->requires_grad && lg_grad_enabled();
}

/* Creates a node for `out` from n inputs (any may be NULL) and attaches it:
** out->grad_fn = node, out->requires_grad = true.  Returns the node so the
** caller can fill ints/floats/saved, or NULL on allocation failure (out is
** then left without a graph and an error is set). */
lg_node *lg_attach(lg_tensor *out, const char *name, lg_backward_fn bw,
                   int n, lg_tensor *const *inputs);
/* Shorthand: records only if some input needs grad; returns the node or NULL
** (NULL also when nothing needs grad, so check lg_any_needs_grad first when
** you must fill the node). */
bool lg_any_needs_grad(int n, lg_tensor *const *inputs);

/* Records node `name` on *out when an input needs grad.  Returns the node
** for the caller to fill, or NULL when none was needed or on failure (then
** *out is released and set to NULL, so the caller returns *out either way). */
lg_node *lg_track(lg_tensor **out, const char *name, lg_backward_fn bw, int n,
                  lg_tensor *const *in);

/* n->saved[i] = t, taking the caller's reference (t may be NULL, then
** nothing is stored) and recording t's version for the check at backward.
** Every saved[] entry goes through here.  Returns t. */
lg_tensor *lg_node_save(lg_node *n, int i, lg_tensor *t);

/* Backward of n reads only the shape of input i, not its values (add, relu,
** which reads its saved output): the node keeps a ghost of it instead, a
** header with its shape, identity (id) and grad_fn but no storage, so that
** the activation is freed as soon as nothing else holds it.  PyTorch's nodes
** likewise save only what their backward reads.  A leaf that requires grad
** is kept (its .grad is accumulated into); so is any input when the ghost
** cannot be allocated. */
void lg_node_forget(lg_node *n, int i);
/* A ghost of t (see lg_node_forget); its data must never be read. */
lg_tensor *lg_ghost(const lg_tensor *t);
bool lg_is_ghost(const lg_tensor *t);

void lg_node_retain(lg_node *n);
void lg_node_release(lg_node *n);

/* y:backward(g): g may be NULL when y has one element.  Accumulates into
** .grad of every leaf that requires grad.  Frees the graph's saved state
** unless retain_graph.  Fails, before a node runs, when one of its inputs
** or saved tensors was written in place after the node took it. */
int lg_backward(lg_tensor *y, lg_tensor *g, bool retain_graph);

/* Called by lg_backward once per leaf and pass, when the leaf's .grad is
** final: after the last node that feeds it has run (not for leaves that got
** no gradient in the pass), so that a data-parallel wrapper can start
** reducing it while backward goes on (PyTorch's post-accumulate-grad hook).
** Runs with grad mode off; must not run backward itself.  Returns 0, or -1
** with lg_seterr, which ends the backward with that error. */
typedef int (*lg_grad_ready_fn)(lg_tensor *leaf, void *ctx);

/* Installs fn for this thread's next backward passes (NULL: none, the
** default, which costs nothing). */
void lg_set_grad_ready(lg_grad_ready_fn fn, void *ctx);

/* Gradients of sum_i <outputs[i], gouts[i]> with respect to inputs[] (leaves
** or not), written as new references into result[] (zeros where the output
** does not depend on an input).  gouts may be NULL (all outputs scalar).
** An input listed twice gets the same gradient in both places.
** With create_graph the results carry a graph of their own. */
int lg_grad(int n_out, lg_tensor **outputs, lg_tensor **gouts,
            int n_in, lg_tensor **inputs, lg_tensor **result,
            bool create_graph, bool retain_graph);

#endif
