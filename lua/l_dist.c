/*
** The C half of lg.dist: Open MPI's collectives on tensors.  The public
** functions, with their documentation, are in lua/luagan/dist.lua; this
** file gives it the table lg._dist.
**
** The job.  MPI is initialised on the first call of any function here, and
** only when the process was started by mpirun (OMPI_COMM_WORLD_SIZE is
** set): `luagan script.lua` never touches MPI and is a job of one process,
** as is a build without Open MPI (LG_HAVE_MPI 0), where every collective is
** the identity.
**
** Exit.  An on_exit handler ends the job: on status 0, MPI_Finalize; on any
** other status (a Lua error reported by luagan or lua5.4, os.exit(1)) with
** more than one rank, a line naming the rank and MPI_Abort, which makes
** mpirun kill every other rank at once.  MPI_Finalize there instead would
** hang the job: it waits for ranks that wait in a collective for this one.
**
** Errors.  MPI_ERRORS_RETURN on MPI_COMM_WORLD turns a failed call into a
** Lua error with MPI's message; the rank then exits nonzero and the job
** aborts as above.
*/
#include "luagan.h"
#include "dist.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LG_HAVE_MPI
#define LG_HAVE_MPI 0
#endif
#if LG_HAVE_MPI
#include <mpi.h>
#endif

enum { UNTOUCHED, SINGLE, RUNNING };
enum { OP_SUM, OP_MEAN, OP_MAX, OP_MIN };

static struct {
  int state;
  int rank, size;
} job = {UNTOUCHED, 0, 1};

/* {====================================================== transport
** Everything that calls MPI, and a fallback without it.  Each returns 0,
** or -1 with lg_seterr("dist.NAME: ..."); the collectives are called only
** when job.size > 1.  tr_start sets job or raises. */

#if LG_HAVE_MPI

/* MPI's message for error code rc (set with lg_seterr); returns -1. */
static int mpi_seterr(const char *name, int rc) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "error %d", rc);
  lg_seterr("dist.%s: MPI: %s (rank %d of %d)", name, msg, job.rank, job.size);
  return -1;
}

/* Counts are ints in MPI: large buffers go in chunks. */
static int chunk(int64_t left) { return left > INT_MAX ? INT_MAX : (int)left; }

static int tr_allreduce(float *data, int64_t n, int op, const char *name) {
  static const MPI_Op ops[] = {MPI_SUM, MPI_SUM, MPI_MAX, MPI_MIN};
  for (int64_t done = 0; done < n;) {
    int count = chunk(n - done);
    int rc = MPI_Allreduce(MPI_IN_PLACE, data + done, count, MPI_FLOAT, ops[op], MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_seterr(name, rc);
    done += count;
  }
  return 0;
}

/* Non-blocking: starts the sum of data[0..n) over the ranks, one request
** per chunk into req (chunks(n) of them). */
static int tr_iallreduce(float *data, int64_t n, MPI_Request *req) {
  for (int64_t done = 0; done < n; req++) {
    int count = chunk(n - done);
    int rc = MPI_Iallreduce(MPI_IN_PLACE, data + done, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                            req);
    if (rc != MPI_SUCCESS) return mpi_seterr("iallreduce", rc);
    done += count;
  }
  return 0;
}

/* Waits for (test false) or polls (test true: *done tells) n requests. */
static int tr_complete(MPI_Request *req, int n, bool test, int *done) {
  int rc = test ? MPI_Testall(n, req, done, MPI_STATUSES_IGNORE)
                : MPI_Waitall(n, req, MPI_STATUSES_IGNORE);
  if (!test) *done = 1;
  return rc == MPI_SUCCESS ? 0 : mpi_seterr(test ? "test" : "wait", rc);
}

static int tr_finalized(void) {
  int fin = 1;
  return MPI_Finalized(&fin) != MPI_SUCCESS || fin;
}

static int tr_broadcast(float *data, int64_t n, int root) {
  for (int64_t done = 0; done < n;) {
    int count = chunk(n - done);
    int rc = MPI_Bcast(data + done, count, MPI_FLOAT, root, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_seterr("broadcast", rc);
    done += count;
  }
  return 0;
}

/* every rank's nbytes of src into dst, in rank order (same machine type
** everywhere: the bytes are not converted) */
static int tr_allgather(const void *src, void *dst, int64_t nbytes, const char *name) {
  if (nbytes > INT_MAX) {
    lg_seterr("dist.%s: %lld bytes per rank, more than 2^31-1", name, (long long)nbytes);
    return -1;
  }
  int rc = MPI_Allgather(src, (int)nbytes, MPI_BYTE, dst, (int)nbytes, MPI_BYTE, MPI_COMM_WORLD);
  return rc == MPI_SUCCESS ? 0 : mpi_seterr(name, rc);
}

static int tr_barrier(void) {
  int rc = MPI_Barrier(MPI_COMM_WORLD);
  return rc == MPI_SUCCESS ? 0 : mpi_seterr("barrier", rc);
}

static void tr_abort(int code) {
  if (job.state == RUNNING) MPI_Abort(MPI_COMM_WORLD, code);
}

static int sum_hook(float *data, int64_t n, void *ctx) {
  (void)ctx;
  return tr_allreduce(data, n, OP_SUM, "sum");
}

static void at_exit(int status, void *arg) {
  (void)arg;
  int fin = 1;
  if (job.state != RUNNING || (MPI_Finalized(&fin) == MPI_SUCCESS && fin)) return;
  if (status != 0 && job.size > 1) {
    fprintf(stderr, "luagan: rank %d of %d exits with status %d: aborting every rank\n",
            job.rank, job.size, status);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, status);
  }
  MPI_Finalize();
}

/* Open MPI loads its components with dlopen, and they need libmpi's symbols
** in the global namespace.  A stock lua5.4 loads luagan.so (and with it
** libmpi) RTLD_LOCAL; promoting the loaded libmpi to RTLD_GLOBAL fixes it
** (what mpi4py does).  In the luagan executable it is already global. */
static void promote_libmpi(void) {
  Dl_info info;
  if (dladdr((void *)MPI_Init, &info) && info.dli_fname)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
}

static void tr_start(lua_State *L, const char *world) {
  int provided, rc;
  (void)world;
  promote_libmpi();
  /* OpenMP threads never call MPI: only the main thread does */
  rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
  if (rc != MPI_SUCCESS) luaL_error(L, "dist: MPI_Init failed (error %d)", rc);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &job.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &job.size);
  job.state = RUNNING;
  on_exit(at_exit, NULL);
  lg_set_allreduce(sum_hook, NULL);
}

#else   /* no MPI: a job of one process; the collectives are never reached */

static int no_mpi(const char *name) {
  lg_seterr("dist.%s: this luagan was built without Open MPI", name);
  return -1;
}
static int tr_allreduce(float *data, int64_t n, int op, const char *name) {
  (void)data, (void)n, (void)op;
  return no_mpi(name);
}
static int tr_broadcast(float *data, int64_t n, int root) {
  (void)data, (void)n, (void)root;
  return no_mpi("broadcast");
}
static int tr_allgather(const void *src, void *dst, int64_t nbytes, const char *name) {
  (void)src, (void)dst, (void)nbytes;
  return no_mpi(name);
}
static int tr_barrier(void) { return no_mpi("barrier"); }
static void tr_abort(int code) { (void)code; }
typedef int MPI_Request;
static int tr_iallreduce(float *data, int64_t n, MPI_Request *req) {
  (void)data, (void)n, (void)req;
  return no_mpi("iallreduce");
}
static int tr_complete(MPI_Request *req, int n, bool test, int *done) {
  (void)req, (void)n, (void)test;
  *done = 1;
  return 0;
}
static int tr_finalized(void) { return 1; }

static void tr_start(lua_State *L, const char *world) {
  if (atoi(world) > 1)
    luaL_error(L, "dist: started by mpirun with %s processes, but this luagan was built "
               "without Open MPI (install libopenmpi-dev and rebuild)", world);
  job.state = SINGLE;
}

#endif

/* }====================================================== */

/* {====================================================== the job */

/* The job, started on first use. */
static void ensure_job(lua_State *L) {
  const char *world = getenv("OMPI_COMM_WORLD_SIZE");
  if (job.state != UNTOUCHED) return;
  if (world == NULL) job.state = SINGLE;
  else tr_start(L, world);
}

/* True when collectives must talk to other ranks. */
static int multi(lua_State *L) {
  ensure_job(L);
  return job.size > 1;
}

/* }====================================================== */

/* {====================================================== queries */

/* C.rank() -> 0-based rank; C.size() -> number of ranks */
static int d_rank (lua_State *L) {
  ensure_job(L);
  lua_pushinteger(L, job.rank);
  return 1;
}

static int d_size (lua_State *L) {
  ensure_job(L);
  lua_pushinteger(L, job.size);
  return 1;
}

/* C.info() -> {rank, size, mpi = built with MPI, running = MPI initialised} */
static int d_info (lua_State *L) {
  ensure_job(L);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, job.rank);
  lua_setfield(L, -2, "rank");
  lua_pushinteger(L, job.size);
  lua_setfield(L, -2, "size");
  lua_pushboolean(L, LG_HAVE_MPI);
  lua_setfield(L, -2, "mpi");
  lua_pushboolean(L, job.state == RUNNING);
  lua_setfield(L, -2, "running");
  return 1;
}

/* }====================================================== */

/* {====================================================== collectives */

/* The tensor at arg, to be written in place by a collective: contiguous,
** outside any graph (as copy_).  The callers allocate nothing after it, so
** the pointer stays valid (see luagan.h). */
static lg_tensor *check_target(lua_State *L, int arg, const char *op) {
  lg_tensor *t = lgL_checktensor(L, arg);
  lgL_checkinplace(L, t, op);
  if (!lg_is_contiguous(t))
    luaL_error(L, "%s: the tensor must be contiguous (reduce x:contiguous() and copy it back)",
               op);
  return t;
}

/* A 0-based rank argument, checked against the job's size. */
static int check_root(lua_State *L, int arg, const char *op) {
  return (int)lgL_checkintrange(L, arg, op, "root", 0, job.size - 1);
}

/* C.allreduce(t, op) -> t: in place, op "sum" (default), "mean", "max", "min" */
static int d_allreduce (lua_State *L) {
  static const char *const ops[] = {"sum", "mean", "max", "min", NULL};
  int op = luaL_checkoption(L, 2, "sum", ops);
  lg_tensor *t = check_target(L, 1, "dist.allreduce");
  if (multi(L)) {
    lg_bump_version(t);
    if (tr_allreduce(lg_data(t), t->numel, op, "allreduce")) return lgL_coreerror(L);
    if (op == OP_MEAN) {
      float *d = lg_data(t), n = (float)job.size;
      for (int64_t i = 0; i < t->numel; i++) d[i] /= n;
    }
  }
  lua_settop(L, 1);
  return 1;
}

/* C.broadcast(t, root) -> t: root's values into t on every rank, in place */
static int d_broadcast (lua_State *L) {
  lg_tensor *t = check_target(L, 1, "dist.broadcast");
  int root;
  ensure_job(L);
  root = check_root(L, 2, "dist.broadcast");
  if (job.size > 1) {
    lg_bump_version(t);
    if (tr_broadcast(lg_data(t), t->numel, root)) return lgL_coreerror(L);
  }
  lua_settop(L, 1);
  return 1;
}

/* Every rank's shape of t, gathered, must be the same: else raises on every
** rank (they all see the same table) naming the first rank that differs. */
static void check_same_shape(lua_State *L, const lg_tensor *t) {
  int64_t mine[LG_MAXDIM + 1] = {0}, *all;
  char b1[160], b2[160];
  mine[0] = t->ndim;
  memcpy(mine + 1, t->shape, sizeof(int64_t) * (size_t)t->ndim);
  all = (int64_t *)lua_newuserdatauv(L, sizeof mine * (size_t)job.size, 0);
  if (tr_allgather(mine, all, sizeof mine, "allgather")) lgL_coreerror(L);
  for (int r = 1; r < job.size; r++) {
    const int64_t *a = all, *b = all + r * (LG_MAXDIM + 1);
    if (memcmp(a, b, sizeof mine) != 0)
      luaL_error(L, "dist.allgather: the ranks hold different shapes: rank 0 %s, rank %d %s",
                 lg_dims_str(a + 1, (int)a[0], b1, sizeof b1), r,
                 lg_dims_str(b + 1, (int)b[0], b2, sizeof b2));
  }
  lua_pop(L, 1);
}

/* C.allgather(t) -> every rank's t stacked along a new first dim: [size, ...] */
static int d_allgather (lua_State *L) {
  int64_t shape[LG_MAXDIM + 1];
  lg_tensor **r, *t = lgL_checktensor(L, 1), *c;
  char b[160];
  if (t->ndim == LG_MAXDIM)
    return luaL_error(L, "dist.allgather: %s has %d dims, the most a result can hold",
                      lg_shape_str(t, b, sizeof b), LG_MAXDIM);
  ensure_job(L);
  if (job.size > 1) check_same_shape(L, t);   /* allocates: the pointer is taken again */
  r = lgL_newslot(L);
  t = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  shape[0] = job.size;
  memcpy(shape + 1, t->shape, sizeof(int64_t) * (size_t)t->ndim);
  lgL_puttensor(L, r, lg_empty(t->ndim + 1, shape));
  if (job.size == 1) {
    lg_copy_to(t, lg_data(*r));
  } else {
    if ((c = lg_contiguous(t)) == NULL) return lgL_coreerror(L);
    int rc = tr_allgather(lg_data(c), lg_data(*r), c->numel * (int64_t)sizeof(float),
                          "allgather");
    lg_release(c);
    if (rc) return lgL_coreerror(L);
  }
  lgL_account(L);
  return 1;
}

/* C.sum(x) -> x summed over the ranks, differentiable (lg_dist_sum) */
static int d_sum (lua_State *L) {
  lg_tensor **r;
  lgL_checktensor(L, 1);
  ensure_job(L);
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_dist_sum(lgL_checktensor(L, 1)));
}

/* C.barrier() */
static int d_barrier (lua_State *L) {
  if (multi(L) && tr_barrier()) return lgL_coreerror(L);
  return 0;
}

/* {------------------------------------------------------ gradient buckets */

/* A started iallreduce: its requests, n of them until complete (0 after);
** the tensor it writes is the userdata's user value, kept alive with it. */
#define REQUEST_MT "luagan.dist.request"
typedef struct {
  int n;
  MPI_Request req[];
} request;

static int chunks(int64_t n) { return n == 0 ? 0 : (int)((n - 1) / INT_MAX + 1); }

/* C.iallreduce(t) -> request: starts summing t over the ranks, in place;
** C.wait(request) finishes it.  t must not be touched until then. */
static int d_iallreduce (lua_State *L) {
  lg_tensor *t = check_target(L, 1, "dist.iallreduce");
  int n = multi(L) ? chunks(t->numel) : 0;
  request *r = (request *)lua_newuserdatauv(L, sizeof *r + (size_t)n * sizeof(MPI_Request), 1);
  r->n = 0;
  luaL_setmetatable(L, REQUEST_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  if (n > 0) {
    t = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
    lg_bump_version(t);
    r->n = n;   /* before starting: a failure leaves the started ones to __gc */
    if (tr_iallreduce(lg_data(t), t->numel, r->req)) {
      r->n = 0;
      return lgL_coreerror(L);
    }
  }
  return 1;
}

/* C.wait(request) waits for it; C.test(request) -> done, progressing it
** (Open MPI moves a non-blocking collective mostly inside MPI calls). */
static int complete(lua_State *L, bool test) {
  request *r = (request *)luaL_checkudata(L, 1, REQUEST_MT);
  int done = 1;
  if (r->n > 0) {
    if (tr_complete(r->req, r->n, test, &done)) return lgL_coreerror(L);
    if (done) r->n = 0;
  }
  lua_pushboolean(L, done);
  return 1;
}
static int d_wait (lua_State *L) { return complete(L, false); }
static int d_test (lua_State *L) { return complete(L, true); }

/* A request dropped unfinished: MPI forbids freeing a collective's
** request, so wait (every rank drops the same ones) */
static int request_gc (lua_State *L) {
  request *r = (request *)lua_touserdata(L, 1);
  int done;
  if (r->n > 0 && !tr_finalized()) tr_complete(r->req, r->n, false, &done);
  r->n = 0;
  return 0;
}

/* The tensors of the list at arg (of n), in a scratch userdata it pushes;
** the pointers are taken after that allocation. */
static lg_tensor **checkparams(lua_State *L, int arg, int *n) {
  luaL_checktype(L, arg, LUA_TTABLE);
  *n = (int)lua_rawlen(L, arg);
  lg_tensor **ps = (lg_tensor **)lua_newuserdatauv(L, sizeof *ps * (size_t)(*n + 1), 0);
  for (int i = 0; i < *n; i++) {
    lua_rawgeti(L, arg, i + 1);
    if ((ps[i] = lgL_totensor(L, lua_gettop(L))) == NULL)
      luaL_error(L, "dist: parameter %d is a %s, not a tensor", i + 1, luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  return ps;
}

/* The flat buffer at 1 for the parameters at 2: contiguous, sized to fit. */
static float *checkflat(lua_State *L, lg_tensor **ps, int n, const char *op) {
  lg_tensor *flat = check_target(L, 1, op);
  int64_t total = 0;
  for (int i = 0; i < n; i++) total += ps[i]->numel;
  if (total != flat->numel)
    luaL_error(L, "%s: the parameters hold %lld values, the buffer %lld", op, (long long)total,
               (long long)flat->numel);
  lg_bump_version(flat);
  return lg_data(flat);
}

/* C.pack(flat, params): every .grad (zeros where nil) into flat, in order */
static int d_pack (lua_State *L) {
  int n;
  lg_tensor **ps = checkparams(L, 2, &n);
  lg_pack_grads(checkflat(L, ps, n, "dist.pack"), n, ps);
  return 0;
}

/* C.unpack(flat, params, divisor): flat / divisor into every .grad */
static int d_unpack (lua_State *L) {
  float divisor = (float)luaL_checknumber(L, 3);
  int n;
  lg_tensor **ps = checkparams(L, 2, &n);
  if (lg_unpack_grads(checkflat(L, ps, n, "dist.unpack"), n, ps, divisor))
    return lgL_coreerror(L);
  lgL_account(L);
  return 0;
}

/* C.grad_id(p) -> the id of p.grad's header, or nil: tells a gradient that
** backward made anew (after zero_grad) from one it added to in place */
static int d_grad_id (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1);
  if (t->grad) lua_pushinteger(L, (lua_Integer)t->grad->id);
  else lua_pushnil(L);
  return 1;
}

/* }------------------------------------------------------ */

/* FNV-1a, 64 bits: a hash of s for comparing values across ranks. */
static uint64_t fnv1a(const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
  return h;
}

/* C.hashes(s) -> {hash on rank 0, hash on rank 1, ...} (integers) */
static int d_hashes (lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  uint64_t h = fnv1a(s, n), *all;
  ensure_job(L);
  all = (uint64_t *)lua_newuserdatauv(L, sizeof h * (size_t)job.size, 0);
  all[0] = h;
  if (job.size > 1 && tr_allgather(&h, all, sizeof h, "check_same")) return lgL_coreerror(L);
  lua_createtable(L, job.size, 0);
  for (int r = 0; r < job.size; r++) {
    lua_pushinteger(L, (lua_Integer)all[r]);
    lua_rawseti(L, -2, r + 1);
  }
  return 1;
}

/* C.abort(message, code): prints the message naming the rank and ends the
** whole job with code (MPI_Abort); in a job of one process, exit(code). */
static int d_abort (lua_State *L) {
  const char *msg = luaL_optstring(L, 1, "aborted");
  int code = lua_isnoneornil(L, 2) ? 1 : (int)lgL_checkintrange(L, 2, "dist.abort", "code", 1, 255);
  ensure_job(L);
  fprintf(stderr, "luagan: rank %d of %d aborts the job: %s\n", job.rank, job.size, msg);
  fflush(stderr);
  tr_abort(code);
  exit(code);
}

/* }====================================================== */

static const luaL_Reg funcs[] = {
  {"rank", d_rank},
  {"size", d_size},
  {"info", d_info},
  {"allreduce", d_allreduce},
  {"broadcast", d_broadcast},
  {"allgather", d_allgather},
  {"sum", d_sum},
  {"barrier", d_barrier},
  {"hashes", d_hashes},
  {"abort", d_abort},
  {"iallreduce", d_iallreduce},
  {"wait", d_wait},
  {"test", d_test},
  {"pack", d_pack},
  {"unpack", d_unpack},
  {"grad_id", d_grad_id},
  {NULL, NULL}
};

int lgL_opendist (lua_State *L) {
  if (luaL_newmetatable(L, REQUEST_MT)) {
    lua_pushcfunction(L, request_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  lua_newtable(L);
  lgL_setfuncs(L, funcs);
  return 1;
}
