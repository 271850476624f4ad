// A small strict JSON parser for the documents embedded in .rknn files.
// Internal to cpp/format (the reader); not part of the agreed interface.
//
// Strict RFC 8259 syntax, plus the three tokens Python's json.dumps writes for
// non-finite floats (NaN, Infinity, -Infinity), because rknn-toolkit2 is Python.
// Bounded: nesting depth and node count are limited, and every error throws
// FormatError naming the document and the byte offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rknn_fast::format::json {

enum class Kind { Null, Bool, Number, String, Array, Object };

struct Value {
    Kind kind = Kind::Null;
    bool boolean = false;
    double number = 0.0;
    bool is_integer = false;  // the literal had no fraction or exponent and fits int64
    int64_t integer = 0;
    std::string string;
    std::vector<Value> items;                           // Array
    std::vector<std::pair<std::string, Value>> members;  // Object, in document order

    // First member named `key` of an object, or nullptr (also when this is not an object).
    const Value* find(std::string_view key) const;
};

struct Limits {
    size_t max_depth = 64;
    size_t max_nodes = 1u << 20;  // ~100 MB of nodes at worst; real summaries hold thousands
};

// Parses a whole document (surrounding whitespace allowed, nothing else after the value).
// `what` names the document in error messages ("trailing JSON", "input JSON"...).
Value parse(std::string_view text, const char* what, Limits limits = {});

}  // namespace rknn_fast::format::json
