// JPEG decoding with libjpeg(-turbo) (see image_jpeg.h). libjpeg reports errors through a
// callback that must not return; it long-jumps back to decode_jpeg_libjpeg, whose frame holds
// only trivially destructible locals between the setjmp and the jump (the output vector belongs
// to the caller), so nothing is skipped that needs destroying.
#include "data/image_jpeg.h"

#if STRATA_HAVE_LIBJPEG
#include <csetjmp>
#include <cstdio>

#include <jpeglib.h>
#endif

namespace strata::data::detail {

#if STRATA_HAVE_LIBJPEG
namespace {

struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void on_message(j_common_ptr) {}  // warnings (e.g. premature end of data) are not printed

}  // namespace

bool libjpeg_available() { return true; }

bool decode_jpeg_libjpeg(const uint8_t* bytes, size_t size, int channels, Image& out, std::string& error) {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.output_message = on_message;
  err.message[0] = '\0';
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    error = err.message;
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    jpeg_destroy_decompress(&cinfo);
    error = "CMYK JPEG";
    return false;
  }
  cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const int w = static_cast<int>(cinfo.output_width), h = static_cast<int>(cinfo.output_height);
  out.h = h;
  out.w = w;
  out.c = channels;
  out.data.resize(size_t(h) * size_t(w) * size_t(channels));
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.data.data() + size_t(cinfo.output_scanline) * size_t(w) * size_t(channels);
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  out.kind = channels == 1 ? ImageKind::BW : ImageKind::Image;
  return true;
}

#else

bool libjpeg_available() { return false; }

bool decode_jpeg_libjpeg(const uint8_t*, size_t, int, Image&, std::string& error) {
  error = "built without libjpeg";
  return false;
}

#endif

}  // namespace strata::data::detail
