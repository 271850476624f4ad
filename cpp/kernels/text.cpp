// DBNet post-processing kernels (see text.h for the contract of each function).
#include "kernels/text.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "kernels/half.h"

namespace rknn_fast::kernels {
namespace {

// Per-element reader of a ProbMap as float32: int8 through a 256-entry table.
struct MapReader {
    const ProbMap& m;
    float lut[256];
    explicit MapReader(const ProbMap& map) : m(map) {
        if (m.dtype == DType::Int8)
            for (int q = -128; q < 128; ++q)
                lut[q + 128] = (static_cast<float>(q) - static_cast<float>(m.zero_point)) * m.scale;
        else
            std::memset(lut, 0, sizeof(lut));
    }
};

// Sum of the map over the set pixels of `mask` (window rows [y0, y0 + rows), columns
// [x0, x0 + cols)), run by run: the covered pixels of a row are found with memchr and each run
// is summed without branches (4 double accumulators).
template <typename T, typename Conv>
void masked_sum(const ProbMap& m, const uint8_t* mask, int64_t x0, int64_t y0, int64_t cols,
                int64_t rows, Conv conv, double& sum, int64_t& count) {
    const T* base = static_cast<const T*>(m.data);
    const int64_t sw = m.stride_w;
    for (int64_t r = 0; r < rows; ++r) {
        const T* row = base + (y0 + r) * m.stride_h + x0 * sw;
        const uint8_t* mr = mask + r * cols;
        int64_t x = 0;
        while (x < cols) {
            const void* hit = std::memchr(mr + x, 1, static_cast<size_t>(cols - x));
            if (!hit) break;
            x = static_cast<const uint8_t*>(hit) - mr;
            int64_t e = x + 1;
            while (e < cols && mr[e]) ++e;
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int64_t i = x;
            for (; i + 4 <= e; i += 4) {
                s0 += static_cast<double>(conv(row[i * sw]));
                s1 += static_cast<double>(conv(row[(i + 1) * sw]));
                s2 += static_cast<double>(conv(row[(i + 2) * sw]));
                s3 += static_cast<double>(conv(row[(i + 3) * sw]));
            }
            for (; i < e; ++i) s0 += static_cast<double>(conv(row[i * sw]));
            sum += (s0 + s1) + (s2 + s3);
            count += e - x;
            x = e;
        }
    }
}

// Outside-codes of a point for the rectangle [0, right] x [0, bottom].
inline int outcode(int64_t x, int64_t y, int64_t right, int64_t bottom) {
    return (x < 0 ? 1 : 0) | (x > right ? 2 : 0) | (y < 0 ? 4 : 0) | (y > bottom ? 8 : 0);
}

// Clips the segment a -> b to [0, right] x [0, bottom] the way OpenCV's line drawing does
// before walking it (integer intersections, truncated divisions): first each end outside
// above/below is moved onto that horizontal border, then each end still outside left/right
// onto that vertical border. The walk then starts from the clipped ends, so the pixels of a
// partly visible edge depend on where it was cut. Returns false when nothing is visible.
bool clip_segment(int64_t right, int64_t bottom, int64_t& ax, int64_t& ay, int64_t& bx, int64_t& by) {
    int ca = outcode(ax, ay, right, bottom), cb = outcode(bx, by, right, bottom);
    if ((ca | cb) == 0) return true;
    if (ca & cb) return false;
    if (ca & 12) {
        const int64_t edge = (ca & 4) ? 0 : bottom;
        ax += (edge - ay) * (bx - ax) / (by - ay);
        ay = edge;
        ca = (ax < 0 ? 1 : 0) | (ax > right ? 2 : 0);
    }
    if (cb & 12) {
        const int64_t edge = (cb & 4) ? 0 : bottom;
        bx += (edge - by) * (bx - ax) / (by - ay);
        by = edge;
        cb = (bx < 0 ? 1 : 0) | (bx > right ? 2 : 0);
    }
    if ((ca & cb) == 0 && (ca | cb) != 0) {
        if (ca) {
            const int64_t edge = (ca & 1) ? 0 : right;
            ay += (edge - ax) * (by - ay) / (bx - ax);
            ax = edge;
            ca = 0;
        }
        if (cb) {
            const int64_t edge = (cb & 1) ? 0 : right;
            by += (edge - bx) * (by - ay) / (bx - ax);
            bx = edge;
            cb = 0;
        }
    }
    return (ca | cb) == 0;
}

struct Window {
    int64_t x0, y0, cols, rows;
};

// Rasterises the polygon into `mask` (window-sized, zeroed by the caller). Returns false when
// the window is empty.
bool rasterise(const int32_t* xy, int64_t n, int64_t height, int64_t width, std::vector<uint8_t>& mask,
               Window& win) {
    if (n < 1 || height < 1 || width < 1) return false;
    int64_t minx = xy[0], maxx = xy[0], miny = xy[1], maxy = xy[1];
    for (int64_t i = 1; i < n; ++i) {
        minx = std::min<int64_t>(minx, xy[2 * i]);
        maxx = std::max<int64_t>(maxx, xy[2 * i]);
        miny = std::min<int64_t>(miny, xy[2 * i + 1]);
        maxy = std::max<int64_t>(maxy, xy[2 * i + 1]);
    }
    const int64_t wx0 = std::max<int64_t>(minx, 0), wx1 = std::min<int64_t>(maxx, width - 1);
    const int64_t wy0 = std::max<int64_t>(miny, 0), wy1 = std::min<int64_t>(maxy, height - 1);
    if (wx0 > wx1 || wy0 > wy1) return false;
    win = Window{wx0, wy0, wx1 - wx0 + 1, wy1 - wy0 + 1};
    mask.assign(static_cast<size_t>(win.cols * win.rows), 0);
    auto set = [&](int64_t x, int64_t y) {
        if (x >= wx0 && x <= wx1 && y >= wy0 && y <= wy1) mask[(y - wy0) * win.cols + (x - wx0)] = 1;
    };
    auto span = [&](int64_t y, int64_t a, int64_t b) {
        if (y < wy0 || y > wy1) return;
        a = std::max(a, wx0);
        b = std::min(b, wx1);
        if (a > b) return;
        std::memset(&mask[(y - wy0) * win.cols + (a - wx0)], 1, static_cast<size_t>(b - a + 1));
    };
    // (a) the outline: 8-connected lines walked from the left end (the lower x; equal x: as given).
    for (int64_t i = 0; i < n; ++i) {
        const int64_t j = i == 0 ? n - 1 : i - 1;  // edge from vertex j to vertex i
        int64_t ax = xy[2 * j], ay = xy[2 * j + 1], bx = xy[2 * i], by = xy[2 * i + 1];
        if (!clip_segment(width - 1, height - 1, ax, ay, bx, by)) continue;
        if (ax > bx) {
            std::swap(ax, bx);
            std::swap(ay, by);
        }
        const int64_t ddx = bx - ax, ddy = by - ay;
        const int64_t sy = ddy < 0 ? -1 : 1;
        const int64_t adx = ddx, ady = ddy < 0 ? -ddy : ddy;
        const bool x_major = adx >= ady;
        const int64_t major = x_major ? adx : ady, minor = x_major ? ady : adx;
        int64_t err = major - 2 * minor;
        int64_t x = ax, y = ay;
        for (int64_t k = 0; k <= major; ++k) {
            set(x, y);
            const bool step_minor = err < 0;
            err -= 2 * minor;
            if (step_minor) err += 2 * major;
            if (x_major) {
                x += 1;
                if (step_minor) y += sy;
            } else {
                y += sy;
                if (step_minor) x += 1;
            }
        }
    }
    // (b) the even-odd scanline fill of the non-horizontal edges.
    struct Edge {
        int64_t y_top, y_bottom, x, dx;
    };
    thread_local std::vector<Edge> edges;
    edges.clear();
    for (int64_t i = 0; i < n; ++i) {
        const int64_t j = i == 0 ? n - 1 : i - 1;
        int64_t ax = xy[2 * j], ay = xy[2 * j + 1], bx = xy[2 * i], by = xy[2 * i + 1];
        if (ay == by) continue;
        // The direction comes from the segment as clipped for drawing (rows stay the original ones):
        // x on row y is extrapolated from the clipped start.
        int64_t cax = ax, cay = ay, cbx = bx, cby = by;
        clip_segment(width - 1, height - 1, cax, cay, cbx, cby);
        if (ay > by) {
            std::swap(ax, bx);
            std::swap(ay, by);
            std::swap(cax, cbx);
            std::swap(cay, cby);
        }
        const int64_t dx = cby == cay ? 0 : ((cbx - cax) * 65536) / (cby - cay);
        edges.push_back(Edge{ay, by, cax * 65536 + (ay - cay) * dx, dx});
    }
    thread_local std::vector<int64_t> xs;
    const int64_t row_end = std::min(maxy, wy1 + 1);
    for (int64_t y = std::max(miny, wy0); y < row_end; ++y) {
        xs.clear();
        for (const Edge& e : edges)
            if (y >= e.y_top && y < e.y_bottom) xs.push_back(e.x + (y - e.y_top) * e.dx);
        std::sort(xs.begin(), xs.end());
        for (size_t k = 0; k + 1 < xs.size(); k += 2) span(y, (xs[k] + 65535) >> 16, xs[k + 1] >> 16);
    }
    return true;
}

thread_local std::vector<uint8_t> g_mask;

template <typename Fn>
void with_reader(const ProbMap& m, Fn&& fn) {
    switch (m.dtype) {
        case DType::Int8: {
            const MapReader r(m);
            fn(static_cast<const int8_t*>(nullptr), [&r](int8_t q) { return r.lut[q + 128]; });
            break;
        }
        case DType::Float16:
            fn(static_cast<const uint16_t*>(nullptr), [](uint16_t h) { return half_to_float(h); });
            break;
        default:
            fn(static_cast<const float*>(nullptr), [](float v) { return v; });
            break;
    }
}

inline float f32(double v) { return static_cast<float>(v); }

// Convex hull (monotone chain, collinear points dropped), counter-clockwise in a y-up frame.
void convex_hull(const double* xy, int64_t n, std::vector<double>& hull) {
    thread_local std::vector<int64_t> idx;
    idx.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) idx[i] = i;
    std::sort(idx.begin(), idx.end(), [xy](int64_t a, int64_t b) {
        return xy[2 * a] < xy[2 * b] || (xy[2 * a] == xy[2 * b] && xy[2 * a + 1] < xy[2 * b + 1]);
    });
    thread_local std::vector<int64_t> h;
    h.assign(static_cast<size_t>(2 * n + 1), 0);
    auto cross = [xy](int64_t o, int64_t a, int64_t b) {
        return (xy[2 * a] - xy[2 * o]) * (xy[2 * b + 1] - xy[2 * o + 1]) -
               (xy[2 * a + 1] - xy[2 * o + 1]) * (xy[2 * b] - xy[2 * o]);
    };
    int64_t k = 0;
    for (int64_t i = 0; i < n; ++i) {
        while (k >= 2 && cross(h[k - 2], h[k - 1], idx[i]) <= 0) --k;
        h[k++] = idx[i];
    }
    for (int64_t i = n - 2, t = k + 1; i >= 0; --i) {
        while (k >= t && cross(h[k - 2], h[k - 1], idx[i]) <= 0) --k;
        h[k++] = idx[i];
    }
    hull.clear();
    const int64_t m = n > 1 ? k - 1 : k;
    for (int64_t i = 0; i < m; ++i) {
        hull.push_back(xy[2 * h[i]]);
        hull.push_back(xy[2 * h[i] + 1]);
    }
    // all points equal: one point; monotone chain may return it twice
    if (hull.size() == 4 && hull[0] == hull[2] && hull[1] == hull[3]) hull.resize(2);
}

// Orders 4 corners: stable by x, then each pair of two by y (stable).
void order_quad(double c[8]) {
    int idx[4] = {0, 1, 2, 3};
    std::stable_sort(idx, idx + 4, [c](int a, int b) { return c[2 * a] < c[2 * b]; });
    int left[2] = {idx[0], idx[1]}, right[2] = {idx[2], idx[3]};
    if (c[2 * left[1] + 1] < c[2 * left[0] + 1]) std::swap(left[0], left[1]);
    if (c[2 * right[1] + 1] < c[2 * right[0] + 1]) std::swap(right[0], right[1]);
    const int order[4] = {left[0], right[0], right[1], left[1]};
    double out[8];
    for (int i = 0; i < 4; ++i) {
        out[2 * i] = c[2 * order[i]];
        out[2 * i + 1] = c[2 * order[i] + 1];
    }
    std::memcpy(c, out, sizeof(out));
}

}  // namespace

namespace {

// One row of prob > thresh as 0/255 (contiguous rows take the vectorisable loops).
void threshold_row(const ProbMap& m, int64_t y, float thresh, int first_pass, uint8_t* out) {
    const int64_t w = m.width, sw = m.stride_w;
    switch (m.dtype) {
        case DType::Int8: {
            // dequantisation is increasing in q: pass <=> q >= the first passing value
            const int8_t* row = static_cast<const int8_t*>(m.data) + y * m.stride_h;
            if (sw == 1) {
                for (int64_t x = 0; x < w; ++x) out[x] = static_cast<uint8_t>(-static_cast<int>(row[x] >= first_pass));
            } else {
                for (int64_t x = 0; x < w; ++x) out[x] = row[x * sw] >= first_pass ? 255 : 0;
            }
            break;
        }
        case DType::Float16: {
            const uint16_t* row = static_cast<const uint16_t*>(m.data) + y * m.stride_h;
            for (int64_t x = 0; x < w; ++x) out[x] = half_to_float(row[x * sw]) > thresh ? 255 : 0;
            break;
        }
        default: {
            const float* row = static_cast<const float*>(m.data) + y * m.stride_h;
            if (sw == 1) {
                for (int64_t x = 0; x < w; ++x) out[x] = static_cast<uint8_t>(-static_cast<int>(row[x] > thresh));
            } else {
                for (int64_t x = 0; x < w; ++x) out[x] = row[x * sw] > thresh ? 255 : 0;
            }
            break;
        }
    }
}

}  // namespace

void dbnet_bitmap(const ProbMap& map, float thresh, bool dilate, uint8_t* bitmap) {
    const int64_t h = map.height, w = map.width;
    // int8: the first of the 256 values whose float32 dequantisation passes (128: none).
    int first_pass = 128;
    if (map.dtype == DType::Int8) {
        const MapReader r(map);
        for (int q = 127; q >= -128 && r.lut[q + 128] > thresh; --q) first_pass = q;
    }
    if (!dilate) {
        for (int64_t y = 0; y < h; ++y) threshold_row(map, y, thresh, first_pass, bitmap + y * w);
        return;
    }
    // out(y, x) = OR of the passing flags at (y, x), (y, x - 1), (y - 1, x), (y - 1, x - 1).
    std::vector<uint8_t> rows(static_cast<size_t>(2 * w), 0);
    uint8_t* prev = rows.data();  // row y - 1 (zeros above the map)
    uint8_t* cur = prev + w;
    for (int64_t y = 0; y < h; ++y) {
        uint8_t* out = bitmap + y * w;
        threshold_row(map, y, thresh, first_pass, cur);
        out[0] = static_cast<uint8_t>(cur[0] | prev[0]);
        for (int64_t x = 1; x < w; ++x) out[x] = static_cast<uint8_t>(cur[x] | cur[x - 1] | prev[x] | prev[x - 1]);
        std::swap(prev, cur);
    }
}

void polygon_mask(const int32_t* xy, int64_t n, int64_t height, int64_t width, uint8_t* mask) {
    std::memset(mask, 0, static_cast<size_t>(height * width));
    std::vector<uint8_t> win_mask;
    Window win{};
    if (!rasterise(xy, n, height, width, win_mask, win)) return;
    for (int64_t r = 0; r < win.rows; ++r)
        std::memcpy(mask + (win.y0 + r) * width + win.x0, &win_mask[r * win.cols], static_cast<size_t>(win.cols));
}

double polygon_mean(const ProbMap& map, const int32_t* xy, int64_t n) {
    Window win{};
    if (!rasterise(xy, n, map.height, map.width, g_mask, win)) return 0.0;
    double sum = 0.0;
    int64_t count = 0;
    with_reader(map, [&](auto tag, auto conv) {
        using T = std::remove_const_t<std::remove_pointer_t<decltype(tag)>>;
        masked_sum<T>(map, g_mask.data(), win.x0, win.y0, win.cols, win.rows, conv, sum, count);
    });
    return count ? sum / static_cast<double>(count) : 0.0;
}

double min_area_quad(const double* xy, int64_t n, double corners[8]) {
    std::fill(corners, corners + 8, 0.0);
    if (n < 1) return 0.0;
    thread_local std::vector<double> hull;
    convex_hull(xy, n, hull);
    const int64_t m = static_cast<int64_t>(hull.size() / 2);
    if (m == 1) {
        for (int i = 0; i < 4; ++i) {
            corners[2 * i] = f32(hull[0]);
            corners[2 * i + 1] = f32(hull[1]);
        }
        return 0.0;
    }
    double best = -1.0, best_short = 0.0;
    double c[8] = {};
    for (int64_t i = 0; i < m; ++i) {
        const int64_t j = (i + 1) % m;
        const double ex = hull[2 * j] - hull[2 * i], ey = hull[2 * j + 1] - hull[2 * i + 1];
        const double len = std::hypot(ex, ey);
        if (len == 0.0) continue;
        const double ux = ex / len, uy = ey / len;  // along the edge
        const double vx = -uy, vy = ux;             // its normal
        double u0 = 0, u1 = 0, v0 = 0, v1 = 0;
        for (int64_t k = 0; k < m; ++k) {
            const double px = hull[2 * k] - hull[2 * i], py = hull[2 * k + 1] - hull[2 * i + 1];
            const double u = px * ux + py * uy, v = px * vx + py * vy;
            u0 = std::min(u0, u);
            u1 = std::max(u1, u);
            v0 = std::min(v0, v);
            v1 = std::max(v1, v);
        }
        const double area = (u1 - u0) * (v1 - v0);
        if (best < 0 || area < best) {
            best = area;
            best_short = std::min(u1 - u0, v1 - v0);
            const double us[4] = {u0, u1, u1, u0}, vs[4] = {v0, v0, v1, v1};
            for (int k = 0; k < 4; ++k) {
                c[2 * k] = hull[2 * i] + us[k] * ux + vs[k] * vx;
                c[2 * k + 1] = hull[2 * i + 1] + us[k] * uy + vs[k] * vy;
            }
        }
    }
    for (int k = 0; k < 8; ++k) corners[k] = f32(c[k]);
    order_quad(corners);
    return best_short;
}

void unclip_convex(const double* xy, int64_t n, double ratio, double* out) {
    std::memcpy(out, xy, static_cast<size_t>(2 * n) * sizeof(double));
    if (n < 3) return;
    double signed_area = 0.0, perimeter = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        const int64_t j = (i + 1) % n;
        signed_area += xy[2 * i] * xy[2 * j + 1] - xy[2 * j] * xy[2 * i + 1];
        perimeter += std::hypot(xy[2 * j] - xy[2 * i], xy[2 * j + 1] - xy[2 * i + 1]);
    }
    signed_area *= 0.5;
    const double area = std::fabs(signed_area);
    if (perimeter == 0.0 || area == 0.0) return;
    const double d = area * ratio / perimeter;
    const double sign = signed_area > 0 ? 1.0 : -1.0;
    thread_local std::vector<double> e, nrm;
    e.assign(static_cast<size_t>(2 * n), 0.0);
    nrm.assign(static_cast<size_t>(2 * n), 0.0);
    for (int64_t i = 0; i < n; ++i) {
        const int64_t j = (i + 1) % n;
        e[2 * i] = xy[2 * j] - xy[2 * i];
        e[2 * i + 1] = xy[2 * j + 1] - xy[2 * i + 1];
        double len = std::hypot(e[2 * i], e[2 * i + 1]);
        if (len == 0.0) len = 1.0;
        nrm[2 * i] = sign * e[2 * i + 1] / len;
        nrm[2 * i + 1] = -sign * e[2 * i] / len;
    }
    for (int64_t i = 0; i < n; ++i) {
        const int64_t j = (i + n - 1) % n;  // the previous edge ends at vertex i
        const double d1x = e[2 * j], d1y = e[2 * j + 1], d2x = e[2 * i], d2y = e[2 * i + 1];
        const double den = d1x * d2y - d1y * d2x;
        if (std::fabs(den) < 1e-12) {
            out[2 * i] = xy[2 * i] + d * nrm[2 * i];
            out[2 * i + 1] = xy[2 * i + 1] + d * nrm[2 * i + 1];
            continue;
        }
        const double ajx = xy[2 * j] + d * nrm[2 * j], ajy = xy[2 * j + 1] + d * nrm[2 * j + 1];
        const double aix = xy[2 * i] + d * nrm[2 * i], aiy = xy[2 * i + 1] + d * nrm[2 * i + 1];
        const double dx = aix - ajx, dy = aiy - ajy;
        const double t = (dx * d2y - dy * d2x) / den;
        out[2 * i] = ajx + t * d1x;
        out[2 * i + 1] = ajy + t * d1y;
    }
    for (int64_t k = 0; k < 2 * n; ++k) out[k] = f32(out[k]);
}

void dbnet_boxes(const ProbMap& map, const Contour* contours, int64_t n_contours,
                 const DbnetParams& p, std::vector<float>& quads, std::vector<float>& scores) {
    thread_local std::vector<double> pts;
    for (int64_t ci = 0; ci < n_contours; ++ci) {
        const Contour& c = contours[ci];
        if (c.n < 1) continue;
        pts.resize(static_cast<size_t>(2 * c.n));
        for (int64_t k = 0; k < 2 * c.n; ++k) pts[k] = static_cast<double>(c.xy[k]);
        double quad[8];
        if (min_area_quad(pts.data(), c.n, quad) < p.min_size) continue;
        double score;
        if (p.slow_score) {
            score = polygon_mean(map, c.xy, c.n);
        } else {
            // the corners truncated towards zero (numpy astype(int32))
            int32_t iq[8];
            for (int k = 0; k < 8; ++k) iq[k] = static_cast<int32_t>(std::trunc(quad[k]));
            score = polygon_mean(map, iq, 4);
        }
        if (score < p.box_thresh) continue;
        double grown[8], box[8];
        unclip_convex(quad, 4, p.unclip_ratio, grown);
        if (min_area_quad(grown, 4, box) < p.min_size + 2) continue;
        for (int k = 0; k < 4; ++k) {
            double x = (box[2 * k] - p.offset_x) * p.gain_x, y = (box[2 * k + 1] - p.offset_y) * p.gain_y;
            x = std::min(std::max(x, 0.0), p.clip_w);
            y = std::min(std::max(y, 0.0), p.clip_h);
            quads.push_back(f32(x));
            quads.push_back(f32(y));
        }
        scores.push_back(f32(score));
    }
}

}  // namespace rknn_fast::kernels
