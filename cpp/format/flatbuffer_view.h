// Minimal, bounds-checked read access to a FlatBuffer (internal to cpp/format).
//
// Only what the .rknn reader needs: tables through their vtables, scalars, strings and
// vectors of scalars or tables. Every position is a size_t inside [0, size); every length,
// count and relative offset read from the buffer is checked with overflow-safe arithmetic
// (compare against what is left, never add first), and anything out of bounds throws
// FormatError naming the offset. Nothing here recurses, so malformed offsets that point
// back at themselves cannot loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "format/rknn_file.h"

namespace rknn_fast::format::fb {

class Buffer {
  public:
    Buffer(const uint8_t* data, size_t size, const char* what) : data_(data), size_(size), what_(what) {}

    size_t size() const { return size_; }
    const uint8_t* data() const { return data_; }

    [[noreturn]] void fail(size_t offset, std::string_view msg) const {
        throw FormatError(std::string(what_) + ": " + std::string(msg) + " (at blob offset " +
                          std::to_string(offset) + ")");
    }

    // Throws unless [pos, pos + n) lies inside the buffer.
    void require(size_t pos, size_t n, std::string_view msg) const {
        if (pos > size_ || n > size_ - pos) fail(pos, msg);
    }

    template <class T>
    T read(size_t pos, std::string_view msg) const {
        require(pos, sizeof(T), msg);
        T v;
        std::memcpy(&v, data_ + pos, sizeof(T));  // unaligned-safe; the host is little endian
        return v;
    }

    // Follows a uoffset_t stored at `pos` (relative to `pos`).
    size_t follow(size_t pos, std::string_view msg) const {
        const uint32_t rel = read<uint32_t>(pos, msg);
        if (rel > size_ - pos) fail(pos, msg);  // pos + 4 <= size_ holds after read()
        return pos + rel;
    }

  private:
    const uint8_t* data_;
    size_t size_;
    const char* what_;
};

// A vector of fixed-size elements: `count` elements starting at `first`.
struct VectorRef {
    size_t first = 0;
    size_t count = 0;
    bool present = false;
};

class Table {
  public:
    // Validates the table at `pos`: its vtable and its inline area must lie inside the buffer.
    Table(const Buffer& buf, size_t pos, const char* name) : buf_(&buf), pos_(pos), name_(name) {
        const int32_t soff = buf.read<int32_t>(pos, msg("table header outside the buffer"));
        // vtable = table - soffset, in 64-bit signed arithmetic so no operand can wrap.
        const int64_t vt = static_cast<int64_t>(pos) - static_cast<int64_t>(soff);
        if (vt < 0 || static_cast<uint64_t>(vt) > buf.size()) buf.fail(pos, msg("vtable offset outside the buffer"));
        vt_ = static_cast<size_t>(vt);
        vt_len_ = buf.read<uint16_t>(vt_, msg("vtable outside the buffer"));
        table_len_ = buf.read<uint16_t>(vt_ + 2, msg("vtable outside the buffer"));
        if (vt_len_ < 4 || (vt_len_ & 1u) != 0) buf.fail(vt_, msg("invalid vtable length"));
        buf.require(vt_, vt_len_, msg("vtable runs past the end of the buffer"));
        if (table_len_ < 4) buf.fail(vt_, msg("invalid table length"));
        buf.require(pos, table_len_, msg("table runs past the end of the buffer"));
    }

    size_t pos() const { return pos_; }

    // Position of the field at vtable byte offset `slot` whose inline width is `width`;
    // 0 when the field is absent (a present field can never sit at the table start).
    size_t field(uint16_t slot, size_t width) const {
        if (static_cast<size_t>(slot) + 2 > vt_len_) return 0;
        const uint16_t off = buf_->read<uint16_t>(vt_ + slot, msg("vtable entry outside the buffer"));
        if (off == 0) return 0;
        if (off < 4 || width > table_len_ || off > table_len_ - width)
            buf_->fail(pos_, msg("field " + std::to_string(slot) + " lies outside its table"));
        return pos_ + off;
    }

    template <class T>
    T scalar(uint16_t slot, T fallback) const {
        const size_t p = field(slot, sizeof(T));
        return p ? buf_->read<T>(p, msg("scalar outside the buffer")) : fallback;
    }

    bool has(uint16_t slot) const { return field(slot, 4) != 0; }

    // A string (or byte vector) field; `present` tells absent from empty.
    std::string_view string(uint16_t slot, bool* present = nullptr) const {
        const size_t p = field(slot, 4);
        if (present) *present = p != 0;
        if (!p) return {};
        const size_t s = buf_->follow(p, msg("string offset outside the buffer"));
        const uint32_t n = buf_->read<uint32_t>(s, msg("string length outside the buffer"));
        buf_->require(s + 4, n, msg("string runs past the end of the buffer"));
        return {reinterpret_cast<const char*>(buf_->data() + s + 4), n};
    }

    // A vector whose elements are `elem_size` bytes each.
    VectorRef vector(uint16_t slot, size_t elem_size) const {
        VectorRef v;
        const size_t p = field(slot, 4);
        if (!p) return v;
        const size_t s = buf_->follow(p, msg("vector offset outside the buffer"));
        const uint32_t n = buf_->read<uint32_t>(s, msg("vector length outside the buffer"));
        // s + 4 <= size holds after read(); compare the count against the room left.
        if (n > (buf_->size() - s - 4) / elem_size)
            buf_->fail(s, msg("vector of " + std::to_string(n) + " elements runs past the end of the buffer"));
        v.first = s + 4;
        v.count = n;
        v.present = true;
        return v;
    }

    // Element `i` of a vector of tables (i < v.count).
    Table table_at(const VectorRef& v, size_t i, const char* name) const {
        const size_t slot = v.first + 4 * i;
        return Table(*buf_, buf_->follow(slot, msg("table offset outside the buffer")), name);
    }

    const Buffer& buffer() const { return *buf_; }

  private:
    const Buffer* buf_;
    size_t pos_;
    const char* name_;
    size_t vt_ = 0;
    uint16_t vt_len_ = 0;
    uint16_t table_len_ = 0;

    std::string msg(const std::string& what) const { return std::string(name_) + " table: " + what; }
};

}  // namespace rknn_fast::format::fb
