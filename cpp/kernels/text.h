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

// The pixels a polygon with integer vertices covers under OpenCV's fillPoly rules (shift 0,
// 8-connected outline), into a zeroed-then-filled (height, width) mask of 0/1: the union of
// (a) every edge, first clipped to the map with integer intersections (horizontal borders, then
//     vertical ones, truncated divisions), drawn as an 8-connected Bresenham line walked from
//     its left end (the minor coordinate steps while the error term is negative), and
// (b) an even-odd scanline fill: each non-horizontal edge is active on rows [y_top, y_bottom)
//     and crosses row y at a 16.16 fixed-point x whose slope (truncated) comes from the edge as
//     clipped in (a), extrapolated from the clipped start (a clipped edge with no height gets
//     slope 0); each pair of sorted crossings fills [ceil(x_left), floor(x_right)].
// Exposed for tests; decode_dbnet uses the same rasteriser on a window around the polygon.
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
