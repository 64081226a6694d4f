/*
** Direct convolution for stride 1: the sums read the image where it lies,
** with no column matrix (no im2col for conv2d, no col2im for the input
** gradient, no packing of a large operand).
**
** Why: on the refiner's 3x3 convs at 32 channels on 28x28 (batch 64),
** im2col, col2im and sgemm's packing took more time than the multiply-adds
** themselves (perf: 37% against 33% in the micro-kernel).  A stride-1 conv
** is a sum of shifted copies of the input rows, each scaled by one weight:
**
**   y[n,o,oh,ow] = b[o] + sum_{c,i,j} w[o,c,i,j] x[n,c,oh-ph+i, ow-pw+j]
**
** The register tile is OB output channels x 2 vectors of one output row
** (the same 12x2 / 6x2 accumulators as lg_sgemm's micro-kernel): per tap
** (c,i,j) two masked loads of the input row shifted by j - pw (the mask
** zeroes the lanes that fall in the padding) and OB broadcast weights.
** The weights are packed once per call, block by block, as
** [C][kh][kw][rows]: the output channels shared evenly over the fewest
** blocks of at most OB rows, a multiple of RQ (16 channels were 12 + 12
** with 8 rows of zeros: a third of the multiply-adds of simgan's
** 16-channel convs were wasted; see block_at).  The epilogue (an addend,
** then relu or leaky relu) is applied to the accumulators before the
** store, so a conv followed by them costs no extra pass.
**
** Every output element is the bias plus the taps in the order c, i, j,
** computed by one thread: results do not depend on the thread count.
*/
#include "conv_direct.h"
#include "internal.h"

#include <string.h>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include "conv_simd.h"

#define SEG (2 * VW)          /* output columns per tile */

/* Worth it when the tiles are mostly full: the row segments cover at least
** 70% real columns and there are at least OB/2 output channels (the tile's
** rows past O are computed and dropped).  Measured on the shapes of
** tests/bench/conv_layers.c; a 7x7 or 8x8 grid wastes too many lanes and
** goes through im2col. */
bool lg_conv_direct_ok(int64_t o, int64_t wo, int64_t kw) {
  int64_t segs = (wo + SEG - 1) / SEG;
  return kw <= 16 && o >= OB / 2 && wo * 10 >= segs * SEG * 7;
}

/* One sample's input with its padding made real: plane c is [hp][wp],
** hp = h + 2 ph, the image at rows ph.., columns pw.., zeros around it, and
** wp wide enough for every load of the last tile.  With it the tap loop
** loads whole vectors without masks (masked loads were the bottleneck:
** half of the samples of the first version sat on them). */
typedef struct {
  int64_t hp, wp;
} padded;

static padded padded_size(const lg_direct_geom *g) {
  int64_t segs = (g->wo + SEG - 1) / SEG;
  return (padded){g->h + 2 * g->ph, segs * SEG + g->kw - 1};
}

/* dst[0..count) = src[0..count) in vectors, the tail masked: a row is a
** few vectors, and a memcpy call per row cost more than the copy (memcpy
** and memset were 10% of simgan's step at 16 channels). */
static inline void copy_row(float *dst, const float *src, int64_t count) {
  int64_t i = 0;
  for (; i + VW <= count; i += VW) vstoreu(dst + i, vloadu(src + i));
  if (i < count) {
    vmask m = lanes(0, count - i);
    vstore_mask(dst + i, m, vload_mask(src + i, m));
  }
}

/* Channels c0 .. c1-1 of sample n into its padded buffer.  The buffer is
** zeroed once per call: the borders are at the same places for every
** sample, and only the image rows are written here. */
static void pad_sample(const lg_direct_geom *g, padded p, const float *x, int64_t n, int64_t c0,
                       int64_t c1, float *xp) {
  for (int64_t c = c0; c < c1; c++)
    for (int64_t ih = 0; ih < g->h; ih++)
      copy_row(xp + (c * p.hp + ih + g->ph) * p.wp + g->pw,
               x + ((n * g->c + c) * g->h + ih) * g->w, g->w);
}


/* One tile: `rows` output channels from o0 of sample n (ob of them
** stored), columns ow0 .. ow0+SEG-1 of every output row, from the padded
** sample xp.  wp: the block's packed weights [C][kh][kw][rows], bp: its
** bias (rows floats); the activation ep applied before the store. */
static inline __attribute__((always_inline)) void
tile_kw(const lg_direct_geom *g, padded p, const float *xp, const float *wp, const float *bp,
        lg_epilogue ep, int64_t n, int64_t o0, int64_t ob, int64_t ow0, int64_t kw, int rows,
        float *y) {
  vmask out0 = lanes(0, g->wo - ow0), out1 = lanes(0, g->wo - ow0 - VW);
  vec slope = vbcast(ep.slope);
  int64_t kk = g->kh * kw;
  for (int64_t oh = 0; oh < g->ho; oh++) {
    vec acc[OB][2];
    #pragma GCC unroll 16
    for (int r = 0; r < rows; r++) acc[r][0] = acc[r][1] = vbcast(bp[r]);
    for (int64_t c = 0; c < g->c; c++) {
      const float *plane = xp + (c * p.hp + oh) * p.wp + ow0;
      for (int64_t i = 0; i < g->kh; i++) {
        const float *row = plane + i * p.wp;
        const float *wk = wp + (c * kk + i * kw) * rows;
        #pragma GCC unroll 4
        for (int64_t j = 0; j < kw; j++, wk += rows) {
          vec v0 = vloadu(row + j), v1 = vloadu(row + j + VW);
          #pragma GCC unroll 16
          for (int r = 0; r < rows; r++) {
            vec a = vbcast(wk[r]);
            acc[r][0] = vfma(a, v0, acc[r][0]);
            acc[r][1] = vfma(a, v1, acc[r][1]);
          }
        }
      }
    }
    /* constant indices only: an acc[r] with r a variable would keep the
    ** whole tile in memory, stored after every multiply-add */
    float *dst = y + ((n * g->o + o0) * g->ho + oh) * g->wo + ow0;
    int64_t ld = g->ho * g->wo;
    #pragma GCC unroll 16
    for (int r = 0; r < rows; r++)
      if (r < ob) {
        vec a0 = acc[r][0], a1 = acc[r][1];
        if (ep.add) {
          const float *add = ep.add + (dst - y) + r * ld;
          a0 = vadd(a0, vload_mask(add, out0)), a1 = vadd(a1, vload_mask(add + VW, out1));
        }
        if (ep.act == LG_ACT_RELU) a0 = vrelu(a0), a1 = vrelu(a1);
        else if (ep.act == LG_ACT_LEAKY) a0 = vleaky(a0, slope), a1 = vleaky(a1, slope);
        vstore_mask(dst + r * ld, out0, a0);
        vstore_mask(dst + r * ld + VW, out1, a1);
      }
  }
}

/* The kernel widths of the workloads and the row counts as constants: the
** tap loop unrolled, the accumulators in registers. */
#define TILE_ROWS(kw_)                                                                     do {                                                                                       if (bl.rows == OB) tile_kw(g, p, xp, wp, bp, ep, n, bl.o0, bl.ob, ow0, kw_, OB, y);       else if (bl.rows == 2 * RQ) tile_kw(g, p, xp, wp, bp, ep, n, bl.o0, bl.ob, ow0, kw_, 2 * RQ, y);     else tile_kw(g, p, xp, wp, bp, ep, n, bl.o0, bl.ob, ow0, kw_, RQ, y);                   } while (0)

static void tile(const lg_direct_geom *g, padded p, const float *xp, const float *wp,
                 const float *bp, lg_epilogue ep, int64_t n, block bl, int64_t ow0, float *y) {
  if (g->kw == 3) TILE_ROWS(3);
  else if (g->kw == 1) TILE_ROWS(1);
  else TILE_ROWS(g->kw);
}

/* The blocks' packed weights from w: the weight of output channel o,
** input channel c, tap (i,j) is w[o*so + c*sc + i'*kw + j'] with (i',j') =
** (i,j), or (kh-1-i, kw-1-j) when flip; rows past O are zero.  pb: the
** blocks' biases (zeros when bias is NULL). */
static void pack_weights(const lg_direct_geom *g, const float *w, int64_t so, int64_t sc,
                         bool flip, const float *bias, float *packed, float *pb) {
  int64_t kk = g->kh * g->kw;
  for (int64_t b = 0; b < block_count(g->o); b++) {
    block bl = block_at(g->o, b);
    float *dst = packed + bl.o0 * g->c * kk;
    for (int64_t c = 0; c < g->c; c++)
      for (int64_t t = 0; t < kk; t++)
        for (int64_t r = 0; r < bl.rows; r++) {
          int64_t o = bl.o0 + r, src = flip ? kk - 1 - t : t;
          dst[(c * kk + t) * bl.rows + r] = r < bl.ob ? w[o * so + c * sc + src] : 0.0f;
        }
    for (int64_t r = 0; r < bl.rows; r++) pb[bl.o0 + r] = bias && r < bl.ob ? bias[bl.o0 + r] : 0.0f;
  }
}

int lg_conv_direct(const lg_direct_geom *g, const float *x, const float *w, bool transposed_w,
                   const float *bias, lg_epilogue ep, float *y) {
  int64_t kk = g->kh * g->kw, blocks = block_count(g->o);
  size_t nw = (size_t)(blocks * OB * g->c * kk), nb = (size_t)(blocks * OB);
  /* Threads take whole samples: each pads its sample once into its own
  ** buffer, then runs every tile of it.  The buffers and the packed
  ** weights live in the convolutions' workspace, kept across calls: a
  ** fresh allocation per call was paid in page faults. */
  padded p = padded_size(g);
  int64_t segs = (g->wo + SEG - 1) / SEG;
  size_t pad_floats = ((size_t)(g->c * p.hp * p.wp) + 15) & ~(size_t)15;
  int threads = conv_thread_count(g, g->n);
  float *pads = lg_conv_workspace(pad_floats * (size_t)threads + nw + nb);
  if (!pads) return -1;
  float *packed = pads + pad_floats * (size_t)threads, *pb = packed + nw;
  /* w is [O,C,kh,kw], or for the input gradient of a conv [C,O,kh,kw],
  ** read flipped (the adjoint of a stride-1 conv is a conv with the kernel
  ** turned by 180 degrees and the channels swapped). */
  if (transposed_w) pack_weights(g, w, kk, g->o * kk, true, bias, packed, pb);
  else pack_weights(g, w, g->c * kk, kk, false, bias, packed, pb);
  memset(pads, 0, pad_floats * (size_t)threads * sizeof(float));
  #pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (int64_t n = 0; n < g->n; n++) {
    float *xp = pads + pad_floats * (size_t)lg_thread_num();
    pad_sample(g, p, x, n, 0, g->c, xp);
    for (int64_t b = 0; b < blocks; b++) {
      block bl = block_at(g->o, b);
      const float *wp = packed + bl.o0 * g->c * kk, *bp = pb + bl.o0;
      for (int64_t s = 0; s < segs; s++) tile(g, p, xp, wp, bp, ep, n, bl, s * SEG, y);
    }
  }
  return 0;
}

/* {====================================================== weight gradient
** gw[o,c,i,j] = sum over n, oh, ow of gy[n,o,oh,ow] xp[n,c,oh+i,ow+j], xp
** the padded sample.  The tile is OW output channels x the 3 taps j of one
** (c, i), each accumulator a vector of per-lane partial sums along ow: per
** step one load of gy per channel and 3 shifted loads of xp for 3 OW
** multiply-adds.  The lanes are summed once, at the end.
**
** Two ways to split the work over threads, both leaving gw independent of
** the thread count:
** - by samples, when one copy of the tiles fits in half an L2 (256 KB):
**   WCHUNKS fixed chunks of samples (fewer for a smaller batch; never tied
**   to the thread count), each adding its samples in order into its own
**   copy of the tiles, the copies summed in chunk order at the end.  A
**   thread pads only its own samples: split by tiles, both threads padded
**   every sample of simgan's 16-channel convs (2.5x one thread's padding).
** - by tiles, for larger layers (the refiner's 32 channels: 590 KB of
**   tiles): a tile runs over every sample in order on one thread, which
**   pads the channels its tiles read.
** Kernel width 3 only: the tap count is a constant, and the accumulators
** stay in registers. */

#ifdef __AVX512F__
#define OW 8                   /* 8 x 3 accumulators + 3 + 1 of the 32 registers */
#else
#define OW 4                   /* 4 x 3 + 3 + 1 of the 16 */
#endif
#define WCHUNKS 8
#define WCHUNK_BYTES (256 << 10)

bool lg_conv_direct_weight_ok(int64_t o, int64_t wo, int64_t kw) {
  int64_t segs = (wo + SEG - 1) / SEG;
  return kw == 3 && o >= OW && wo * 10 >= segs * SEG * 7;
}

/* Channels o0 .. o1-1 of gy of sample n into [blocks*OW][ho][rw], zeros
** past wo and past O (the buffer zeroed once per call: only the rows of gy
** are written here). */
static void pad_grid(const lg_direct_geom *g, int64_t rw, const float *gy, int64_t n, int64_t o0,
                     int64_t o1, float *gp) {
  for (int64_t o = o0; o < o1; o++)
    for (int64_t oh = 0; oh < g->ho; oh++)
      copy_row(gp + (o * g->ho + oh) * rw, gy + ((n * g->o + o) * g->ho + oh) * g->wo, g->wo);
}

/* Adds one sample to tile (b, c, i): part holds its OW x 3 accumulators. */
static void wtile(const lg_direct_geom *g, padded p, int64_t rw, const float *xp, const float *gp,
                  int64_t b, int64_t c, int64_t i, float *part) {
  vec acc[OW][3];
  #pragma GCC unroll 16
  for (int r = 0; r < OW; r++)
    for (int j = 0; j < 3; j++) acc[r][j] = vloadu(part + (r * 3 + j) * VW);
  int64_t plane = g->ho * rw;
  for (int64_t oh = 0; oh < g->ho; oh++) {
    const float *xr = xp + (c * p.hp + oh + i) * p.wp, *gr = gp + (b * OW * g->ho + oh) * rw;
    for (int64_t v = 0; v < rw; v += VW) {
      vec x0 = vloadu(xr + v), x1 = vloadu(xr + v + 1), x2 = vloadu(xr + v + 2);
      #pragma GCC unroll 16
      for (int r = 0; r < OW; r++) {
        vec e = vloadu(gr + r * plane + v);
        __asm__("" : "+v"(e));   /* one load, not one folded into each of the 3 FMAs */
        acc[r][0] = vfma(e, x0, acc[r][0]);
        acc[r][1] = vfma(e, x1, acc[r][1]);
        acc[r][2] = vfma(e, x2, acc[r][2]);
      }
    }
  }
  #pragma GCC unroll 16
  for (int r = 0; r < OW; r++)
    for (int j = 0; j < 3; j++) vstoreu(part + (r * 3 + j) * VW, acc[r][j]);
}

int lg_conv_direct_weight(const lg_direct_geom *g, const float *x, const float *gy, float *gw) {
  padded p = padded_size(g);
  int64_t segs = (g->wo + SEG - 1) / SEG, rw = segs * SEG, blocks = (g->o + OW - 1) / OW;
  int64_t tiles = blocks * g->c * g->kh, tile_floats = OW * 3 * VW;
  size_t chunk_floats = (size_t)(tiles * tile_floats);
  bool by_samples = chunk_floats * sizeof(float) <= WCHUNK_BYTES;
  int64_t chunks = by_samples ? (g->n < WCHUNKS ? g->n : WCHUNKS) : 1;
  int threads = conv_thread_count(g, by_samples ? chunks : tiles);
  int64_t ranges = by_samples ? 1 : threads, units = chunks * ranges;   /* tile ranges per chunk */
  size_t pad_floats = ((size_t)(g->c * p.hp * p.wp) + 15) & ~(size_t)15;
  size_t grid_floats = ((size_t)(blocks * OW * g->ho * rw) + 15) & ~(size_t)15;
  size_t total = chunk_floats * (size_t)chunks + (pad_floats + grid_floats) * (size_t)threads;
  float *parts = lg_conv_workspace(total);   /* kept across calls, as lg_conv_direct's */
  if (!parts) return -1;
  memset(parts, 0, total * sizeof(float));   /* the sums, and the padding's zeros */
  float *bufs = parts + chunk_floats * (size_t)chunks;
  #pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (int64_t u = 0; u < units; u++) {
    int64_t k = u / ranges, r = u % ranges;
    int64_t lo = tiles * r / ranges, hi = tiles * (r + 1) / ranges;
    float *xp = bufs + (pad_floats + grid_floats) * (size_t)lg_thread_num(), *gp = xp + pad_floats;
    float *part = parts + chunk_floats * (size_t)k;
    /* what these tiles read: the channels of x and gy to pad */
    int64_t per_block = g->c * g->kh, b0 = lo / per_block, b1 = hi > lo ? (hi - 1) / per_block : b0;
    int64_t c0 = b0 == b1 ? lo / g->kh % g->c : 0, c1 = b0 == b1 ? (hi - 1) / g->kh % g->c + 1 : g->c;
    int64_t o0 = b0 * OW, o1 = (b1 + 1) * OW < g->o ? (b1 + 1) * OW : g->o;
    for (int64_t n = g->n * k / chunks; lo < hi && n < g->n * (k + 1) / chunks; n++) {
      pad_sample(g, p, x, n, c0, c1, xp);
      pad_grid(g, rw, gy, n, o0, o1, gp);
      for (int64_t q = lo; q < hi; q++) {
        int64_t i = q % g->kh, c = q / g->kh % g->c, b = q / (g->kh * g->c);
        wtile(g, p, rw, xp, gp, b, c, i, part + q * tile_floats);
      }
    }
  }
  for (int64_t q = 0; q < tiles; q++) {
    int64_t i = q % g->kh, c = q / g->kh % g->c, b = q / (g->kh * g->c);
    for (int64_t r = 0; r < OW && b * OW + r < g->o; r++)
      for (int64_t j = 0; j < 3; j++) {
        /* the chunks' copies lane by lane (a vector add), then the lanes */
        const float *first = parts + q * tile_floats + (r * 3 + j) * VW;
        vec acc = vloadu(first);
        for (int64_t k = 1; k < chunks; k++) acc = vadd(acc, vloadu(first + chunk_floats * (size_t)k));
        float lanes[VW], sum = 0.0f;
        vstoreu(lanes, acc);
        for (int l = 0; l < VW; l++) sum += lanes[l];
        gw[(((b * OW + r) * g->c + c) * g->kh + i) * 3 + j] = sum;
      }
  }
  return 0;
}

/* }====================================================== */

#else

bool lg_conv_direct_ok(int64_t o, int64_t wo, int64_t kw) {
  (void)o, (void)wo, (void)kw;
  return false;
}

int lg_conv_direct(const lg_direct_geom *g, const float *x, const float *w, bool transposed_w,
                   const float *bias, lg_epilogue ep, float *y) {
  (void)g, (void)x, (void)w, (void)transposed_w, (void)bias, (void)ep, (void)y;
  return lg_seterr("conv2d: no direct convolution in this build"), -1;
}

bool lg_conv_direct_weight_ok(int64_t o, int64_t wo, int64_t kw) {
  (void)o, (void)wo, (void)kw;
  return false;
}

int lg_conv_direct_weight(const lg_direct_geom *g, const float *x, const float *gy, float *gw) {
  (void)g, (void)x, (void)gy, (void)gw;
  return lg_seterr("conv2d_weight: no direct convolution in this build"), -1;
}

#endif
