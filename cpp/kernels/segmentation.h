// Semantic segmentation post-processing: per-pixel argmax over classes, read in place
// from NCHW, NHWC or NC1HWC2 score tensors, and resampling of the result to the image
// with the letterbox undone.
//
// Tie rule everywhere: the LOWEST class index among equal maxima wins (strict `>` while
// scanning classes in increasing order), as in the PP-Seg and DeepLabV3 demos.
// int8 scores are compared raw: with one positive scale for the whole tensor the
// dequantisation is monotonic, so the argmax is exact. fp16 scores are compared on an
// integer key ordering like the float values (+0 == -0). NaN: results are unspecified
// (fp32 compares with `>`, fp16 orders NaN beyond +/-inf): keep NaNs out of score tensors.
#pragma once

#include <cstdint>

#include "kernels/dense_common.h"

namespace rknn_fast::kernels {

// Class map (H, W) row-major; `out` holds uint8 when `out_u16` is false (classes <= 256)
// or uint16 (classes <= 65536). Requires classes >= 1.
void argmax_classes(const TensorView& scores, void* out, bool out_u16);

// Affine map from an output pixel (x, y) to continuous source-map coordinates:
//   sx = (x + 0.5) * ax + bx,   sy = (y + 0.5) * ay + by
// (pixel centres; source pixel i covers [i, i+1)). For a letterboxed model input of size
// (model_h, model_w) whose class map is (H, W): ax = scale * W / model_w,
// bx = pad_x * W / model_w, likewise for y.
struct PixelAffine {
    double ax = 1.0, bx = 0.0, ay = 1.0, by = 0.0;
};

// Nearest-neighbour resampling of a class map (H, W) to (out_h, out_w): the source
// pixel is floor(s), clamped to the map. `u16` selects uint16 elements for both arrays.
void resample_class_map_nearest(const void* map, int64_t height, int64_t width, bool u16,
                                const PixelAffine& affine, void* out, int64_t out_h,
                                int64_t out_w);

// Bilinear resampling of the class scores followed by argmax, per output pixel: source
// coordinate s - 0.5 clamped at 0 (align_corners=False, edges replicated), like
// torch.nn.functional.interpolate(mode="bilinear") and cv2.INTER_LINEAR. int8 scores are
// interpolated raw (an affine dequantisation commutes with interpolation, so the argmax is
// the same). Ties: lowest class index.
void resample_argmax_bilinear(const TensorView& scores, const PixelAffine& affine, void* out,
                              bool out_u16, int64_t out_h, int64_t out_w);

}  // namespace rknn_fast::kernels
