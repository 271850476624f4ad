// DBNet text-detection post-processing: binarisation of the probability map and the
// per-contour work (min-area rectangle, box score, unclip, final rectangle, mapping to image
// pixels). Contour finding itself is done by the caller (OpenCV's findContours on the bitmap
// this file produces); contours arrive as (n, 2) int32 x, y pixel coordinates.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/tensor_view.h"

namespace rknn_fast::kernels {

// A (height, width) probability map read in place, strides in elements. int8 values are
// dequantised as float32((float32(q) - zero_point) * scale) (numpy's float32 arithmetic);
// float16/float32 are read as they are.
struct ProbMap {
    const void* data = nullptr;
    DType dtype = DType::Float32;
    int64_t height = 0, width = 0;
    int64_t stride_h = 0, stride_w = 1;
    float scale = 1.0f;
    int32_t zero_point = 0;
};

// bitmap[y * width + x] = 255 where prob > thresh (strict), else 0. With `dilate`, the 2x2
// dilation of that mask with the anchor at the kernel's bottom-right element (OpenCV's
// default anchor for an even 2x2 kernel): a pixel is set when it or its left, upper or
// upper-left neighbour (inside the map) passes.
void dbnet_bitmap(const ProbMap& map, float thresh, bool dilate, uint8_t* bitmap);

// The pixels a polygon with integer vertices covers, OpenCV fillPoly rules (shift 0, 8-connected
// outline): the union of (a) every edge drawn as an 8-connected Bresenham line from its left
// end (ties step along the major axis only) and (b) the even-odd scanline fill where each
// non-horizontal edge, active on rows [y_top, y_bottom), crosses row y at
// x_top + (y - y_top) * dx in 16.16 fixed point (dx truncated), spans [round(xl), round(xr)].
// Calls visit(y, x0, x1) for covered runs clipped to [0, width) x [0, height) (a pixel may be
// reported once per row only). Exposed for tests through polygon_mask.
void polygon_mask(const int32_t* xy, int64_t n, int64_t height, int64_t width, uint8_t* mask);

// Mean of the map over the polygon's fillPoly pixels inside the map; 0 when it covers none.
double polygon_mean(const ProbMap& map, const int32_t* xy, int64_t n);

// Minimum-area enclosing rectangle of points (n, 2) (convex hull + one rectangle per hull
// edge). corners: 4 (x, y) in the DBNet order (by x, each side's pair by y: top-left,
// top-right, bottom-right, bottom-left); returns the short side (0 for fewer than 3 hull points
// spanning no area).
double min_area_quad(const double* xy, int64_t n, double corners[8]);

// The project's unclip: every edge of a convex polygon moved outwards by
// area * ratio / perimeter, consecutive edges intersected (mitred corners). Polygons with no
// area or perimeter are returned unchanged. out has n (x, y).
void unclip_convex(const double* xy, int64_t n, double ratio, double* out);

struct DbnetParams {
    double box_thresh = 0.5;
    double unclip_ratio = 1.6;
    double min_size = 3.0;
    bool slow_score = false;  // mean inside the contour instead of the min-area rectangle
    // image = (map - offset) * gain per axis, then clipped to [0, clip_w] x [0, clip_h]
    double gain_x = 1.0, offset_x = 0.0, gain_y = 1.0, offset_y = 0.0;
    double clip_w = 0.0, clip_h = 0.0;
};

struct Contour {
    const int32_t* xy = nullptr;  // (n, 2) x, y
    int64_t n = 0;
};

// For each contour in order: min-area rectangle (dropped when its short side < min_size),
// score (dropped when < box_thresh), unclip, min-area rectangle again (dropped when its short
// side < min_size + 2), mapped to the image. Appends (4, 2) quads (DBNet order) and scores.
void dbnet_boxes(const ProbMap& map, const Contour* contours, int64_t n_contours,
                 const DbnetParams& params, std::vector<float>& quads, std::vector<float>& scores);

}  // namespace rknn_fast::kernels
