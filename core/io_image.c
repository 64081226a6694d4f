/*
** Images: PNG and JPEG in, PNG out (stb_image v2.27 / stb_image_write v1.16
** from Debian's libstb-dev, compiled here so that our configuration
** applies; libjpeg-turbo for JPEG), sample grids, and resizing for
** image-folder datasets.  lg_image_decode dispatches on the magic bytes:
** FF D8 FF is JPEG, the 8-byte PNG signature is PNG, anything else is
** refused as an unsupported format.
**
** Decoding untrusted PNGs.  Debian 12's stb_image carries open CVEs, nearly
** all in its decoders for formats other than PNG (JPEG, PNM, HDR, PIC and
** GIF: CVE-2021-42715/42716, CVE-2022-28041/28042, CVE-2023-43898,
** CVE-2023-45661...), and a PNG IDAT chunk length makes it realloc 2 GiB, so:
**   - only the PNG decoder is compiled (STBI_ONLY_PNG);
**   - we read the file ourselves (STBI_NO_STDIO) with a size cap;
**   - before stb sees the bytes, check_png walks the chunk list: signature,
**     chunk lengths inside the file, CRCs of critical chunks (stb ignores
**     CRCs; ancillary ones are not checked either, libpng's default policy),
**     IHDR fields, unknown critical chunks, and that the compressed
**     data could possibly hold the announced pixels (deflate expands at most
**     ~1032:1), so a 60-byte file cannot make us allocate for 16384x16384;
**   - stbi_info_from_memory then checks w*h*channels against MAX_SAMPLES;
**   - every allocation stb makes goes through capped_alloc, which refuses any
**     single block above MAX_ALLOC (the IDAT realloc OOM of v2.27);
**   - STBI_MAX_DIMENSIONS is 16384 per side.
** Channels: grey -> 1, grey+alpha -> 1, RGB and palette -> 3, RGBA -> 3.
** Alpha is dropped (not composited): GAN data sets are grey or RGB, and
** image.save writes 1 or 3 channels, so load(save(x)) round-trips.  16-bit
** PNGs keep their precision: values are v / 65535.
**
** Decoding untrusted JPEGs.  stb's JPEG decoder is not used: its open
** CVE-2022-28041/28042 are JPEG bugs, and libFuzzer+UBSan on v2.27's JPEG
** decoder with these same limits found, within 42k inputs (20 s), an
** out-of-bounds write in stbi__build_huffman (h->size[257]) and a reachable
** assert() abort in stbi__jpeg_huff_decode.  libjpeg-turbo (Debian
** security-maintained, libjpeg62-turbo) decodes instead, through the
** libjpeg API:
**   - its error_exit longjmps back to decode_jpeg, so a corrupt file is an
**     error message, never exit(); everything libjpeg allocated goes with
**     jpeg_destroy_decompress, and our tensor is released on that path;
**   - warnings: those that mean lost pixels (premature end of file or of a
**     data segment, a bad Huffman or arithmetic code, a broken progression,
**     a restart resync) are errors, because a training set should not
**     quietly hold grey-filled images; harmless ones (extraneous bytes
**     before a marker, an unknown JFIF revision or Adobe transform, a bad
**     ICC marker, odd SOS parameters in a sequential file) are ignored, at
**     most MAX_JPEG_WARNINGS of them, and nothing is printed;
**   - from the header alone (jpeg_read_header), before jpeg_start_decompress
**     allocates anything large: at most MAX_DIM per side, at most MAX_SAMPLES
**     samples, grey or YCbCr/RGB only (CMYK/YCCK and other component counts
**     are refused);
**   - libjpeg's own memory (the whole-image coefficient buffer of
**     progressive and multi-scan files) is capped by max_memory_to_use at
**     MAX_ALLOC: with no backing store, a larger request is an error;
**   - a progress monitor stops files with more than MAX_JPEG_SCANS scans
**     (each scan of a progressive file may walk the whole coefficient
**     buffer, so thousands of tiny scans would take minutes);
**   - our [C,H,W] tensor is allocated only after jpeg_start_decompress.
** Channels: grey -> 1, YCbCr and RGB -> 3 (libjpeg converts to RGB with its
** accurate integer IDCT and fancy upsampling).  Values are v / 255.
**
** grid and resize are data-handling ops: they copy values and record no
** autograd.  grid differs from torchvision's make_grid in two ways: a single
** image is padded like any other, and grey stays one channel.
*/
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
/* jpeglib.h needs size_t and FILE declared first (stdio.h above) */
#include <jerror.h>
#include <jpeglib.h>

#define MAX_DIM 16384                             /* pixels per side */
#define MAX_SAMPLES ((uint64_t)64 << 20)          /* w * h * channels in the file */
#define MAX_FILE ((uint64_t)128 << 20)            /* bytes */
/* The largest block a valid file needs is the 16-bit decode buffer
** (2 * MAX_SAMPLES) or the IDAT buffer (< 2 * MAX_FILE): 256 MiB. */
#define MAX_ALLOC ((size_t)256 << 20)
#define DEFLATE_MAX_RATIO 1032
#define MAX_JPEG_SCANS 500                        /* libjpeg-turbo's fuzzers use 500 */
#define MAX_JPEG_WARNINGS 100                     /* harmless warnings tolerated */

/* {====================================================== stb, configured */

/* Size of the last block capped_alloc refused, for the error message. */
static _Thread_local size_t refused_bytes;

static void *capped_alloc(void *p, size_t n) {
  if (n > MAX_ALLOC) {
    refused_bytes = n;
    return NULL;
  }
  return realloc(p, n ? n : 1);
}

/* The writer hands its deflate step to zlib: smaller files than stb's own
** compressor, and a well-tested one.  stb frees the result with free. */
static unsigned char *zlib_compress(unsigned char *data, int len, int *out_len, int quality) {
  (void)quality;
  uLongf n = compressBound((uLong)len);
  unsigned char *out = malloc(n);
  if (!out) return NULL;
  if (compress2(out, &n, data, (uLong)len, Z_DEFAULT_COMPRESSION) != Z_OK) {
    free(out);
    return NULL;
  }
  *out_len = (int)n;
  return out;
}

#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#define STBI_MAX_DIMENSIONS MAX_DIM
#define STBI_MALLOC(n) capped_alloc(NULL, (n))
#define STBI_REALLOC(p, n) capped_alloc((p), (n))
#define STBI_FREE(p) free(p)
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#define STBIW_ZLIB_COMPRESS zlib_compress
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION

/* stb is third-party code built with our warnings: silence what it trips.
** Unused-function stays off for the whole file: the compiler reports the
** static functions stb declares for the formats we compiled out (and a few
** 2.27 declares without defining) only at the end of the translation unit. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wshadow"
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

/* }====================================================== */

/* {====================================================== PNG structure check */

static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* What check_png learns from the header. */
typedef struct {
  uint32_t width, height;
  int depth, color_type, interlaced;
} png_info;

/* Samples per pixel as stored, by colour type (palette: the index). */
static int stored_channels(int color_type) {
  switch (color_type) {
    case 0: return 1;
    case 2: return 3;
    case 3: return 1;
    case 4: return 2;
    case 6: return 4;
    default: return 0;
  }
}

static bool valid_depth(int color_type, int depth) {
  switch (color_type) {
    case 0: return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3: return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2: case 4: case 6: return depth == 8 || depth == 16;
    default: return false;
  }
}

static void *check_ihdr(const unsigned char *d, uint32_t n, const char *what, png_info *info) {
  if (n != 13)
    return lg_seterr("image.load: %s: IHDR chunk has %u bytes, 13 expected", what, n);
  info->width = be32(d);
  info->height = be32(d + 4);
  info->depth = d[8];
  info->color_type = d[9];
  info->interlaced = d[12];
  if (info->width == 0 || info->height == 0)
    return lg_seterr("image.load: %s: image is %ux%u: zero-sized", what, info->width, info->height);
  if (info->width > MAX_DIM || info->height > MAX_DIM)
    return lg_seterr("image.load: %s: image is %ux%u, above the limit of %d pixels per side",
                     what, info->width, info->height, MAX_DIM);
  if (!stored_channels(info->color_type) || !valid_depth(info->color_type, info->depth))
    return lg_seterr("image.load: %s: invalid colour type %d with bit depth %d", what,
                     info->color_type, info->depth);
  if (d[10] != 0 || d[11] != 0 || d[12] > 1)
    return lg_seterr("image.load: %s: unknown compression, filter or interlace method "
                     "(%d, %d, %d)", what, d[10], d[11], d[12]);
  return info;
}

static bool is_type(const unsigned char *t, const char *name) { return memcmp(t, name, 4) == 0; }

/* Chunk types stb understands; other critical chunks make stb fail anyway. */
static bool known_critical(const unsigned char *t) {
  return is_type(t, "IHDR") || is_type(t, "PLTE") || is_type(t, "IDAT") ||
         is_type(t, "IEND") || is_type(t, "CgBI");
}

/* Walks the chunks of buf: every length inside the file, CRCs of critical
** chunks right, IHDR first and valid, an IDAT and an IEND, and enough
** compressed bytes for the image.  Fills info, or returns NULL with an error. */
static void *check_png(const unsigned char *buf, size_t len, const char *what, png_info *info) {
  uint64_t idat_bytes = 0;
  bool seen_ihdr = false, seen_iend = false;
  size_t pos = 8;
  while (pos < len && !seen_iend) {
    if (len - pos < 12)
      return lg_seterr("image.load: %s: truncated: %zu bytes at offset %zu, a chunk needs "
                       "at least 12", what, len - pos, pos);
    uint32_t n = be32(buf + pos);
    const unsigned char *type = buf + pos + 4, *data = buf + pos + 8;
    char name[5] = {0};
    for (int i = 0; i < 4; i++) name[i] = (type[i] >= 32 && type[i] < 127) ? (char)type[i] : '?';
    if (n > len - pos - 12)
      return lg_seterr("image.load: %s: truncated: chunk %s at offset %zu claims %u bytes, "
                       "%zu remain", what, name, pos, n, len - pos - 12);
    bool critical = !(type[0] & 0x20);
    if (critical && !known_critical(type))
      return lg_seterr("image.load: %s: unknown critical chunk %s at offset %zu", what, name, pos);
    if (critical) {
      uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), type, 4 + n);
      if (crc != be32(data + n))
        return lg_seterr("image.load: %s: chunk %s at offset %zu: CRC mismatch (file corrupt)",
                         what, name, pos);
    }
    if (!seen_ihdr && !is_type(type, "IHDR") && !is_type(type, "CgBI"))
      return lg_seterr("image.load: %s: chunk %s before IHDR", what, name);
    if (is_type(type, "IHDR")) {
      if (seen_ihdr) return lg_seterr("image.load: %s: more than one IHDR chunk", what);
      if (!check_ihdr(data, n, what, info)) return NULL;
      seen_ihdr = true;
    }
    /* stb would memcpy zero bytes into its still-NULL buffer (undefined) */
    if (is_type(type, "IDAT") && n == 0 && idat_bytes == 0)
      return lg_seterr("image.load: %s: empty IDAT chunk at offset %zu before the image data "
                       "(not supported)", what, pos);
    if (is_type(type, "IDAT")) idat_bytes += n;
    if (is_type(type, "IEND")) seen_iend = true;
    pos += 12 + (size_t)n;
  }
  if (!seen_ihdr) return lg_seterr("image.load: %s: no IHDR chunk", what);
  if (!idat_bytes) return lg_seterr("image.load: %s: no image data (no IDAT bytes)", what);
  if (!seen_iend) return lg_seterr("image.load: %s: truncated: no IEND chunk", what);
  uint64_t row = ((uint64_t)info->width * (uint64_t)stored_channels(info->color_type) *
                  (uint64_t)info->depth + 7) / 8;
  uint64_t need = (row + 1) * info->height;
  if (need / DEFLATE_MAX_RATIO > idat_bytes)
    return lg_seterr("image.load: %s: truncated: a %ux%u image needs %llu bytes of pixel data, "
                     "more than %llu compressed bytes can hold", what, info->width, info->height,
                     (unsigned long long)need, (unsigned long long)idat_bytes);
  return info;
}

/* }====================================================== */

/* {====================================================== decoding */

static void *stb_error(const char *what) {
  if (refused_bytes)
    return lg_seterr("image.load: %s: decoding needs a %zu-byte buffer, above the %zu-byte "
                     "limit (corrupt file?)", what, refused_bytes, MAX_ALLOC);
  return lg_seterr("image.load: %s: corrupt PNG (%s)", what, stbi_failure_reason());
}

/* Interleaved samples (h x w x c, 8 or 16 bits) -> planes [c,h,w] in [0,1].
** A division, not a multiply by 1/255: v / 255.0f is the float nearest the
** exact value, so an image saved from k / 255.0f loads back bit-identical. */
static void to_planes(const void *px, bool wide, int c, int h, int w, float *out) {
  const unsigned char *p8 = px;
  const unsigned short *p16 = px;
  int64_t plane = (int64_t)h * w;
  for (int64_t i = 0; i < plane; i++)
    for (int ch = 0; ch < c; ch++) {
      int64_t k = i * c + ch;
      out[ch * plane + i] = wide ? (float)p16[k] / 65535.0f : (float)p8[k] / 255.0f;
    }
}

static lg_tensor *decode_png(const unsigned char *buf, size_t len, const char *what) {
  png_info info = {0};
  if (!check_png(buf, len, what, &info)) return NULL;
  int w, h, comp;
  refused_bytes = 0;
  if (!stbi_info_from_memory(buf, (int)len, &w, &h, &comp)) return stb_error(what);
  if ((uint64_t)w * (uint64_t)h * (uint64_t)comp > MAX_SAMPLES)
    return lg_seterr("image.load: %s: %dx%d with %d channels is above the limit of %llu "
                     "samples", what, w, h, comp, (unsigned long long)MAX_SAMPLES);
  int c = comp >= 3 ? 3 : 1;
  bool wide = info.depth == 16;
  void *px = wide ? (void *)stbi_load_16_from_memory(buf, (int)len, &w, &h, &comp, c)
                  : (void *)stbi_load_from_memory(buf, (int)len, &w, &h, &comp, c);
  if (!px) return stb_error(what);
  lg_tensor *t = lg_empty(3, (int64_t[]){c, h, w});
  if (t) to_planes(px, wide, c, h, w, lg_data(t));
  stbi_image_free(px);
  return t;
}

/* {------------------------------------------------------ JPEG (libjpeg-turbo) */

/* Why libjpeg stopped decode_jpeg (by longjmp); msg holds its message. */
enum { JPEG_LIBJPEG = 1, JPEG_TRUNCATED, JPEG_TOO_MANY_WARNINGS, JPEG_MEMORY, JPEG_SCANS };

typedef struct {
  struct jpeg_error_mgr pub;    /* first: libjpeg hands us &pub */
  jmp_buf jump;
  int why;
  char msg[JMSG_LENGTH_MAX];
} jpeg_failure;

static _Noreturn void jpeg_stop(j_common_ptr cinfo, int why) {
  jpeg_failure *f = (jpeg_failure *)cinfo->err;
  f->why = why;
  (*cinfo->err->format_message)(cinfo, f->msg);
  longjmp(f->jump, 1);
}

/* error_exit: must not return. */
static void jpeg_on_error(j_common_ptr cinfo) {
  int code = cinfo->err->msg_code;
  jpeg_stop(cinfo, code == JERR_NO_BACKING_STORE || code == JERR_OUT_OF_MEMORY
                       ? JPEG_MEMORY : JPEG_LIBJPEG);
}

/* emit_message: level < 0 is a warning (corrupt data), >= 0 trace output. */
static void jpeg_on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  switch (cinfo->err->msg_code) {
    case JWRN_EXTRANEOUS_DATA:
    case JWRN_JFIF_MAJOR:
    case JWRN_ADOBE_XFORM:
    case JWRN_BOGUS_ICC:
    case JWRN_NOT_SEQUENTIAL:
      if (++cinfo->err->num_warnings <= MAX_JPEG_WARNINGS) return;
      jpeg_stop(cinfo, JPEG_TOO_MANY_WARNINGS);
    case JWRN_JPEG_EOF:
      jpeg_stop(cinfo, JPEG_TRUNCATED);
    default:
      jpeg_stop(cinfo, JPEG_LIBJPEG);
  }
}

static void jpeg_on_progress(j_common_ptr cinfo) {
  if (cinfo->is_decompressor && ((j_decompress_ptr)cinfo)->input_scan_number > MAX_JPEG_SCANS)
    jpeg_stop(cinfo, JPEG_SCANS);
}

static void *jpeg_error(const char *what, const jpeg_failure *f) {
  switch (f->why) {
    case JPEG_TRUNCATED:
      return lg_seterr("image.load: %s: truncated JPEG (%s)", what, f->msg);
    case JPEG_TOO_MANY_WARNINGS:
      return lg_seterr("image.load: %s: corrupt JPEG: more than %d warnings, the last: %s",
                       what, MAX_JPEG_WARNINGS, f->msg);
    case JPEG_MEMORY:
      return lg_seterr("image.load: %s: decoding needs more than the %zu-byte memory limit "
                       "(corrupt file?): %s", what, MAX_ALLOC, f->msg);
    case JPEG_SCANS:
      return lg_seterr("image.load: %s: JPEG has more than %d scans, above the limit "
                       "(corrupt file?)", what, MAX_JPEG_SCANS);
    default:
      return lg_seterr("image.load: %s: corrupt JPEG (%s)", what, f->msg);
  }
}

/* The work between setjmp and the end; any libjpeg error longjmps out of
** here.  *out receives the tensor as soon as it exists, so the caller can
** release it on that path.  Returns false (with lg_seterr) on a refusal. */
static bool jpeg_run(j_decompress_ptr cinfo, struct jpeg_progress_mgr *progress,
                     const unsigned char *buf, size_t len, const char *what,
                     lg_tensor *volatile *out) {
  jpeg_create_decompress(cinfo);   /* zeroes all but cinfo->err */
  cinfo->progress = progress;
  cinfo->mem->max_memory_to_use = (long)MAX_ALLOC;
  jpeg_mem_src(cinfo, buf, (unsigned long)len);
  jpeg_read_header(cinfo, TRUE);
  JDIMENSION w = cinfo->image_width, h = cinfo->image_height;
  if (w == 0 || h == 0) {
    lg_seterr("image.load: %s: image is %ux%u: zero-sized", what, w, h);
    return false;
  }
  if (w > MAX_DIM || h > MAX_DIM) {
    lg_seterr("image.load: %s: image is %ux%u, above the limit of %d pixels per side", what,
              w, h, MAX_DIM);
    return false;
  }
  int c;
  switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE: c = 1; break;
    case JCS_YCbCr: case JCS_RGB: c = 3; break;
    case JCS_CMYK: case JCS_YCCK:
      lg_seterr("image.load: %s: CMYK JPEG%s is not supported (grey and RGB only: convert it, "
                "e.g. with ImageMagick's mogrify -colorspace sRGB)", what,
                cinfo->jpeg_color_space == JCS_YCCK ? " (YCCK-coded)" : "");
      return false;
    default:
      lg_seterr("image.load: %s: JPEG with %d components of unknown colour space is not "
                "supported (grey and RGB only)", what, cinfo->num_components);
      return false;
  }
  if (cinfo->num_components != c) {   /* libjpeg guarantees this; be explicit */
    lg_seterr("image.load: %s: JPEG has %d components, %d expected", what,
              cinfo->num_components, c);
    return false;
  }
  if ((uint64_t)w * h * (uint64_t)c > MAX_SAMPLES) {
    lg_seterr("image.load: %s: %ux%u with %d channels is above the limit of %llu samples",
              what, w, h, c, (unsigned long long)MAX_SAMPLES);
    return false;
  }
  cinfo->out_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
  cinfo->dct_method = JDCT_ISLOW;
  jpeg_start_decompress(cinfo);
  if (cinfo->output_width != w || cinfo->output_height != h || cinfo->output_components != c) {
    lg_seterr("image.load: %s: libjpeg output %ux%ux%d differs from the header's %ux%ux%d",
              what, cinfo->output_width, cinfo->output_height, cinfo->output_components, w, h, c);
    return false;
  }
  /* freed by jpeg_destroy_decompress, on every path */
  JSAMPARRAY row =
      (*cinfo->mem->alloc_sarray)((j_common_ptr)cinfo, JPOOL_IMAGE, w * (JDIMENSION)c, 1);
  lg_tensor *t = lg_empty(3, (int64_t[]){c, h, w});
  if (!t) return false;
  *out = t;
  float *d = lg_data(t);
  int64_t plane = (int64_t)h * w;
  while (cinfo->output_scanline < h) {
    int64_t y = cinfo->output_scanline;
    if (jpeg_read_scanlines(cinfo, row, 1) != 1) {   /* cannot happen with a memory source */
      lg_seterr("image.load: %s: libjpeg returned no scanline at row %lld", what, (long long)y);
      return false;
    }
    const unsigned char *r = row[0];
    for (int ch = 0; ch < c; ch++) {
      float *o = d + ch * plane + y * w;
      for (JDIMENSION x = 0; x < w; x++) o[x] = (float)r[x * (JDIMENSION)c + ch] / 255.0f;
    }
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

static lg_tensor *decode_jpeg(const unsigned char *buf, size_t len, const char *what) {
  struct jpeg_decompress_struct cinfo;
  jpeg_failure failure;
  struct jpeg_progress_mgr progress;
  lg_tensor *volatile t = NULL;
  memset(&cinfo, 0, sizeof cinfo);
  memset(&failure, 0, sizeof failure);
  memset(&progress, 0, sizeof progress);
  cinfo.err = jpeg_std_error(&failure.pub);
  failure.pub.error_exit = jpeg_on_error;
  failure.pub.emit_message = jpeg_on_message;
  progress.progress_monitor = jpeg_on_progress;
  if (setjmp(failure.jump)) {
    jpeg_destroy_decompress(&cinfo);
    lg_release(t);
    return jpeg_error(what, &failure);
  }
  bool ok = jpeg_run(&cinfo, &progress, buf, len, what, &t);
  jpeg_destroy_decompress(&cinfo);
  if (ok) return t;
  lg_release(t);
  return NULL;
}

/* }------------------------------------------------------ */

lg_tensor *lg_image_decode(const unsigned char *buf, size_t len, const char *what) {
  if (len == 0) return lg_seterr("image.load: %s: empty file", what);
  if (len > MAX_FILE)
    return lg_seterr("image.load: %s: %zu bytes, above the %llu-byte limit", what, len,
                     (unsigned long long)MAX_FILE);
  if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
    return decode_jpeg(buf, len, what);
  if (len >= 8 && memcmp(buf, png_signature, 8) == 0) return decode_png(buf, len, what);
  return lg_seterr("image.load: %s: unsupported image format (not a PNG or JPEG file: bad "
                   "signature)", what);
}

lg_tensor *lg_image_load(const char *path) {
  size_t len = 0;
  unsigned char *buf = lg_read_file("image.load", path, MAX_FILE, &len);
  if (!buf) return NULL;
  lg_tensor *t = lg_image_decode(buf, len, path);
  free(buf);
  return t;
}

/* }====================================================== */

/* {====================================================== encoding */

/* Shape of an image to save: [C,H,W] with C 1 or 3, or [H,W]. */
static bool save_shape(const lg_tensor *img, int *c, int *h, int *w) {
  char b[128];
  lg_shape_str(img, b, sizeof b);
  int nd = img->ndim;
  if (nd != 2 && !(nd == 3 && (img->shape[0] == 1 || img->shape[0] == 3))) {
    lg_seterr("image.save: shape %s: expected [C,H,W] with C = 1 or 3, or [H,W]", b);
    return false;
  }
  int64_t hh = img->shape[nd - 2], ww = img->shape[nd - 1];
  if (hh < 1 || ww < 1 || hh > MAX_DIM || ww > MAX_DIM) {
    lg_seterr("image.save: shape %s: height and width must be 1..%d", b, MAX_DIM);
    return false;
  }
  *c = nd == 3 ? (int)img->shape[0] : 1;
  *h = (int)hh;
  *w = (int)ww;
  return true;
}

/* [0,1] -> 0..255 as torchvision's save_image: clamp, scale, round half up.
** NaN becomes 0, so a diverged sample still saves (black) rather than
** stopping a run. */
static unsigned char to_byte(float v) {
  if (!(v > 0.0f)) return 0;
  if (v >= 1.0f) return 255;
  return (unsigned char)(v * 255.0f + 0.5f);
}

static bool has_png_suffix(const char *path) {
  size_t n = strlen(path);
  return n >= 4 && strcasecmp(path + n - 4, ".png") == 0;
}

static int write_all(int fd, const unsigned char *p, size_t n) {
  while (n) {
    ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k == 0) errno = ENOSPC;   /* no progress and no error: treat as a full disk */
    if (k <= 0) return -1;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* Writes bytes to a temporary file next to path, fsyncs it and renames it
** over path: a reader (or a crash) never sees half an image. */
static int write_atomic(const char *path, const unsigned char *bytes, size_t n) {
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp) {
    lg_seterr("image.save: path too long: '%s'", path);
    return -1;
  }
  /* O_CREAT|O_EXCL under a random name: a file or symbolic link planted at
  ** a guessable name cannot receive the write */
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    lg_seterr("image.save: cannot create a file next to '%s': %s", path, strerror(errno));
    return -1;
  }
  mode_t mask = umask(0);   /* mkstemp makes 0600; an image gets the usual 0666 & ~umask */
  umask(mask);
  (void)fchmod(fd, 0666 & ~mask);   /* best effort: some file systems have no modes */
  if (write_all(fd, bytes, n) || fsync(fd)) {
    lg_seterr("image.save: writing '%s' failed: %s", tmp, strerror(errno));
    close(fd);
    unlink(tmp);
    return -1;
  }
  if (close(fd) || rename(tmp, path)) {
    lg_seterr("image.save: cannot write '%s': %s", path, strerror(errno));
    unlink(tmp);
    return -1;
  }
  return 0;
}

int lg_image_save(const char *path, lg_tensor *img) {
  int c, h, w;
  if (!img) {
    lg_seterr("image.save: no image");
    return -1;
  }
  if (!save_shape(img, &c, &h, &w)) return -1;
  if (!has_png_suffix(path)) {
    lg_seterr("image.save: '%s': only PNG is written; use a name ending in .png", path);
    return -1;
  }
  lg_tensor *x = lg_contiguous(img);
  if (!x) return -1;
  int64_t plane = (int64_t)h * w;
  unsigned char *px = malloc((size_t)(plane * c));
  if (!px) {
    lg_release(x);
    lg_seterr("image.save: out of memory for a %dx%d image", w, h);
    return -1;
  }
  const float *d = lg_data(x);
  for (int64_t i = 0; i < plane; i++)
    for (int ch = 0; ch < c; ch++) px[i * c + ch] = to_byte(d[ch * plane + i]);
  lg_release(x);
  int n = 0;
  unsigned char *png = stbi_write_png_to_mem(px, w * c, w, h, c, &n);
  free(px);
  if (!png) {
    lg_seterr("image.save: out of memory encoding a %dx%d PNG", w, h);
    return -1;
  }
  int rc = write_atomic(path, png, (size_t)n);
  free(png);
  return rc;
}

/* }====================================================== */

/* {====================================================== grid */

lg_tensor *lg_image_grid(lg_tensor *batch, int nrow, int padding, float pad_value) {
  char b[128];
  if (!batch) return lg_seterr("image.grid: no batch");
  if (batch->ndim != 4)
    return lg_seterr("image.grid: batch of shape %s: expected [N,C,H,W]",
                     lg_shape_str(batch, b, sizeof b));
  if (batch->shape[0] < 1)
    return lg_seterr("image.grid: batch of shape %s is empty", lg_shape_str(batch, b, sizeof b));
  if (nrow < 1) return lg_seterr("image.grid: nrow must be >= 1, got %d", nrow);
  if (padding < 0) return lg_seterr("image.grid: padding must be >= 0, got %d", padding);
  /* the batch is copied whole (lg_contiguous), so it must be a size we
  ** could allocate; then every sum and product of the grid's geometry is
  ** checked, since an expanded batch or a huge padding can overflow it */
  if (!lg_check_shape("image.grid", 4, batch->shape)) return NULL;
  int64_t n = batch->shape[0], c = batch->shape[1], h = batch->shape[2], w = batch->shape[3];
  int64_t cols = n < nrow ? n : nrow, rows = (n + cols - 1) / cols;
  int64_t cell_h, cell_w, shape[3] = {c, 0, 0};
  if (!lg_add_ok(h, padding, &cell_h) || !lg_add_ok(w, padding, &cell_w) ||
      !lg_mul_ok(rows, cell_h, &shape[1]) || !lg_add_ok(shape[1], padding, &shape[1]) ||
      !lg_mul_ok(cols, cell_w, &shape[2]) || !lg_add_ok(shape[2], padding, &shape[2]))
    return lg_seterr("image.grid: a grid of %s with padding %d is too large",
                     lg_shape_str(batch, b, sizeof b), padding);
  if (!lg_check_shape("image.grid", 3, shape)) return NULL;
  lg_tensor *x = lg_contiguous(batch);
  if (!x) return NULL;
  lg_tensor *g = lg_full(3, shape, pad_value);
  if (!g) {
    lg_release(x);
    return NULL;
  }
  const float *src = lg_data(x);
  float *dst = lg_data(g);
  for (int64_t k = 0; k < n; k++) {
    int64_t top = (k / cols) * cell_h + padding, left = (k % cols) * cell_w + padding;
    for (int64_t ch = 0; ch < c; ch++)
      for (int64_t y = 0; y < h; y++)
        memcpy(dst + (ch * shape[1] + top + y) * shape[2] + left,
               src + ((k * c + ch) * h + y) * w, sizeof(float) * (size_t)w);
  }
  lg_release(x);
  return g;
}

/* }====================================================== */

/* {====================================================== resize */

/* One axis of a separable resampling: output index i reads `taps` inputs
** from first[i] with weights w[i * taps ..]; unused taps weigh 0. */
typedef struct {
  int64_t *first;
  float *w;
  int taps;
} axis_map;

static void free_axis(axis_map *m) {
  free(m->first);
  free(m->w);
}

/* Area averaging (box filter) from `in` to `out` < in samples.  In units of
** 1/out input pixels, output i covers [i*in, (i+1)*in) and input k covers
** [k*out, (k+1)*out): the overlaps are exact integers. */
static void area_taps(int64_t in, int64_t out, axis_map *m) {
  for (int64_t i = 0; i < out; i++) {
    int64_t lo = i * in, hi = lo + in, first = lo / out;
    m->first[i] = first;
    for (int t = 0; t < m->taps; t++) {
      int64_t k = first + t, a = k * out, z = a + out;
      int64_t overlap = (z < hi ? z : hi) - (a > lo ? a : lo);
      m->w[i * m->taps + t] = k < in && overlap > 0 ? (float)overlap / (float)in : 0.0f;
    }
  }
}

/* Linear interpolation from `in` to `out` > in samples at pixel centres, as
** PyTorch's bilinear with align_corners=False. */
static void linear_taps(int64_t in, int64_t out, axis_map *m) {
  for (int64_t i = 0; i < out; i++) {
    double src = ((double)i + 0.5) * (double)in / (double)out - 0.5;
    if (src < 0) src = 0;
    int64_t k = (int64_t)src;
    float f = (float)(src - (double)k);
    if (k >= in - 1) {
      k = in - 1;
      f = 0.0f;
    }
    m->first[i] = k;
    m->w[i * 2] = 1.0f - f;
    m->w[i * 2 + 1] = f;
  }
}

static bool make_axis(int64_t in, int64_t out, axis_map *m) {
  m->taps = out < in ? (int)((in + out - 1) / out) + 1 : out > in ? 2 : 1;
  m->first = malloc(sizeof(int64_t) * (size_t)out);
  m->w = malloc(sizeof(float) * (size_t)out * (size_t)m->taps);
  if (!m->first || !m->w) return false;
  if (out < in) area_taps(in, out, m);
  else if (out > in) linear_taps(in, out, m);
  else
    for (int64_t i = 0; i < out; i++) {
      m->first[i] = i;
      m->w[i] = 1.0f;
    }
  return true;
}

/* dst[p][i][j] = sum_t w[i,t] * src[p][first[i]+t][j]  (resamples dim -2),
** or along dim -1 when `rows` is false. */
static void resample(const float *src, float *dst, int64_t planes, int64_t in_h, int64_t in_w,
                     int64_t out_h, int64_t out_w, const axis_map *m, bool rows) {
  for (int64_t p = 0; p < planes; p++) {
    const float *s = src + p * in_h * in_w;
    float *d = dst + p * out_h * out_w;
    for (int64_t i = 0; i < out_h; i++)
      for (int64_t j = 0; j < out_w; j++) {
        int64_t o = rows ? i : j;
        const float *wt = m->w + o * m->taps;
        float acc = 0.0f;
        for (int t = 0; t < m->taps; t++) {
          if (wt[t] == 0.0f) continue;   /* also skips taps past the edge */
          int64_t k = m->first[o] + t;
          acc += wt[t] * (rows ? s[k * in_w + j] : s[i * in_w + k]);
        }
        d[i * out_w + j] = acc;
      }
  }
}

lg_tensor *lg_image_resize(lg_tensor *img, int h, int w) {
  char b[128];
  if (!img) return lg_seterr("image.resize: no image");
  if (img->ndim < 2)
    return lg_seterr("image.resize: shape %s: expected [C,H,W] (or [H,W], [N,C,H,W])",
                     lg_shape_str(img, b, sizeof b));
  if (h < 1 || w < 1 || h > MAX_DIM || w > MAX_DIM)
    return lg_seterr("image.resize: size %dx%d: height and width must be 1..%d", h, w, MAX_DIM);
  int nd = img->ndim;
  int64_t in_h = img->shape[nd - 2], in_w = img->shape[nd - 1];
  if (in_h < 1 || in_w < 1)
    return lg_seterr("image.resize: shape %s has no pixels", lg_shape_str(img, b, sizeof b));
  int64_t planes = img->numel / (in_h * in_w), shape[LG_MAXDIM];
  memcpy(shape, img->shape, sizeof(int64_t) * (size_t)nd);
  shape[nd - 2] = in_h;
  shape[nd - 1] = w;
  axis_map mw = {0}, mh = {0};
  lg_tensor *x = NULL, *tmp = NULL, *out = NULL;
  if (!make_axis(in_w, w, &mw) || !make_axis(in_h, h, &mh)) {
    lg_seterr("image.resize: out of memory");
    goto done;
  }
  if (!(x = lg_contiguous(img)) || !(tmp = lg_empty(nd, shape))) goto done;
  resample(lg_data(x), lg_data(tmp), planes, in_h, in_w, in_h, w, &mw, false);
  shape[nd - 2] = h;
  if (!(out = lg_empty(nd, shape))) goto done;
  resample(lg_data(tmp), lg_data(out), planes, in_h, w, h, w, &mh, true);
done:
  free_axis(&mw);
  free_axis(&mh);
  lg_release(x);
  lg_release(tmp);
  return out;
}

/* }====================================================== */
