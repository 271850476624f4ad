#include "format/json_lite.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

#include "format/rknn_file.h"

namespace rknn_fast::format::json {

const Value* Value::find(std::string_view key) const {
    if (kind != Kind::Object) return nullptr;
    for (const auto& m : members)
        if (m.first == key) return &m.second;
    return nullptr;
}

namespace {

class Parser {
  public:
    Parser(std::string_view text, const char* what, Limits limits)
        : s_(text), what_(what), limits_(limits) {}

    Value parse_document() {
        skip_ws();
        Value v = parse_value(0);
        skip_ws();
        if (pos_ != s_.size()) fail("unexpected data after the JSON value");
        return v;
    }

  private:
    std::string_view s_;
    const char* what_;
    Limits limits_;
    size_t pos_ = 0;
    size_t nodes_ = 0;

    [[noreturn]] void fail(const std::string& msg) const {
        throw FormatError(std::string(what_) + ": invalid JSON at byte " + std::to_string(pos_) +
                          ": " + msg);
    }

    bool at_end() const { return pos_ >= s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[pos_]; }

    void skip_ws() {
        while (!at_end()) {
            char c = s_[pos_];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
            ++pos_;
        }
    }

    bool consume_literal(std::string_view lit) {
        if (s_.size() - pos_ >= lit.size() && s_.substr(pos_, lit.size()) == lit) {
            pos_ += lit.size();
            return true;
        }
        return false;
    }

    Value parse_value(size_t depth) {
        if (depth > limits_.max_depth) fail("nesting deeper than " + std::to_string(limits_.max_depth));
        if (++nodes_ > limits_.max_nodes) fail("more than " + std::to_string(limits_.max_nodes) + " values");
        if (at_end()) fail("unexpected end of document");
        Value v;
        char c = peek();
        if (c == '{') {
            v.kind = Kind::Object;
            ++pos_;
            skip_ws();
            if (peek() == '}') {
                ++pos_;
                return v;
            }
            for (;;) {
                skip_ws();
                if (peek() != '"') fail("expected a string key");
                std::string key = parse_string();
                skip_ws();
                if (peek() != ':') fail("expected ':'");
                ++pos_;
                skip_ws();
                Value member = parse_value(depth + 1);
                v.members.emplace_back(std::move(key), std::move(member));
                skip_ws();
                if (peek() == ',') {
                    ++pos_;
                    continue;
                }
                if (peek() == '}') {
                    ++pos_;
                    return v;
                }
                fail("expected ',' or '}'");
            }
        }
        if (c == '[') {
            v.kind = Kind::Array;
            ++pos_;
            skip_ws();
            if (peek() == ']') {
                ++pos_;
                return v;
            }
            for (;;) {
                skip_ws();
                v.items.push_back(parse_value(depth + 1));
                skip_ws();
                if (peek() == ',') {
                    ++pos_;
                    continue;
                }
                if (peek() == ']') {
                    ++pos_;
                    return v;
                }
                fail("expected ',' or ']'");
            }
        }
        if (c == '"') {
            v.kind = Kind::String;
            v.string = parse_string();
            return v;
        }
        if (consume_literal("true")) {
            v.kind = Kind::Bool;
            v.boolean = true;
            return v;
        }
        if (consume_literal("false")) {
            v.kind = Kind::Bool;
            return v;
        }
        if (consume_literal("null")) return v;
        // Python's json module writes these for non-finite floats.
        if (consume_literal("NaN")) {
            v.kind = Kind::Number;
            v.number = std::numeric_limits<double>::quiet_NaN();
            return v;
        }
        if (consume_literal("Infinity")) {
            v.kind = Kind::Number;
            v.number = std::numeric_limits<double>::infinity();
            return v;
        }
        if (consume_literal("-Infinity")) {
            v.kind = Kind::Number;
            v.number = -std::numeric_limits<double>::infinity();
            return v;
        }
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
        fail(std::string("unexpected character 0x") + hex2(static_cast<unsigned char>(c)));
    }

    static std::string hex2(unsigned char c) {
        const char* digits = "0123456789abcdef";
        return {digits[c >> 4], digits[c & 15]};
    }

    static bool is_digit(char c) { return c >= '0' && c <= '9'; }

    Value parse_number() {
        const size_t start = pos_;
        bool integral = true;
        if (peek() == '-') ++pos_;
        if (peek() == '0') {
            ++pos_;
        } else if (is_digit(peek())) {
            while (is_digit(peek())) ++pos_;
        } else {
            fail("invalid number");
        }
        if (peek() == '.') {
            integral = false;
            ++pos_;
            if (!is_digit(peek())) fail("invalid number: digit expected after '.'");
            while (is_digit(peek())) ++pos_;
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (!is_digit(peek())) fail("invalid number: digit expected in exponent");
            while (is_digit(peek())) ++pos_;
        }
        const char* first = s_.data() + start;
        const char* last = s_.data() + pos_;
        Value v;
        v.kind = Kind::Number;
        // from_chars is locale independent (strtod is not).
        auto r = std::from_chars(first, last, v.number);
        if (r.ec == std::errc::result_out_of_range) {
            v.number = (*first == '-') ? -std::numeric_limits<double>::infinity()
                                       : std::numeric_limits<double>::infinity();
        } else if (r.ec != std::errc() || r.ptr != last) {
            fail("invalid number");
        }
        if (integral) {
            int64_t i = 0;
            auto ri = std::from_chars(first, last, i);
            if (ri.ec == std::errc() && ri.ptr == last) {
                v.is_integer = true;
                v.integer = i;
            }
        }
        return v;
    }

    unsigned hex4() {
        if (s_.size() - pos_ < 4) fail("truncated \\u escape");
        unsigned u = 0;
        for (int i = 0; i < 4; ++i) {
            char c = s_[pos_++];
            u <<= 4;
            if (c >= '0' && c <= '9') u |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f') u |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') u |= static_cast<unsigned>(c - 'A' + 10);
            else fail("invalid \\u escape");
        }
        return u;
    }

    static void append_utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    // Length of the valid UTF-8 sequence starting at pos_ (1..4), or 0 when invalid.
    size_t utf8_sequence_length() const {
        auto byte = [&](size_t i) { return static_cast<unsigned char>(s_[pos_ + i]); };
        const size_t left = s_.size() - pos_;
        const unsigned char b0 = byte(0);
        size_t n;
        unsigned cp;
        if (b0 < 0x80) return 1;
        if (b0 >= 0xC2 && b0 <= 0xDF) { n = 2; cp = b0 & 0x1Fu; }
        else if (b0 >= 0xE0 && b0 <= 0xEF) { n = 3; cp = b0 & 0x0Fu; }
        else if (b0 >= 0xF0 && b0 <= 0xF4) { n = 4; cp = b0 & 0x07u; }
        else return 0;
        if (left < n) return 0;
        for (size_t i = 1; i < n; ++i) {
            if ((byte(i) & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (byte(i) & 0x3Fu);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        return n;
    }

    std::string parse_string() {
        ++pos_;  // opening quote
        std::string out;
        for (;;) {
            if (at_end()) fail("unterminated string");
            const char c = s_[pos_];
            if (c == '"') {
                ++pos_;
                return out;
            }
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
            if (c == '\\') {
                ++pos_;
                if (at_end()) fail("unterminated escape");
                const char e = s_[pos_++];
                switch (e) {
                    case '"': out += '"'; break;
                    case '\\': out += '\\'; break;
                    case '/': out += '/'; break;
                    case 'b': out += '\b'; break;
                    case 'f': out += '\f'; break;
                    case 'n': out += '\n'; break;
                    case 'r': out += '\r'; break;
                    case 't': out += '\t'; break;
                    case 'u': {
                        unsigned cp = hex4();
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                            if (!consume_literal("\\u")) fail("unpaired surrogate in \\u escape");
                            const unsigned lo = hex4();
                            if (lo < 0xDC00 || lo > 0xDFFF) fail("invalid low surrogate in \\u escape");
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                            fail("unpaired surrogate in \\u escape");
                        }
                        append_utf8(out, cp);
                        break;
                    }
                    default: fail("invalid escape");
                }
                continue;
            }
            const size_t n = utf8_sequence_length();
            if (n == 0) fail("invalid UTF-8 in string");
            out.append(s_.data() + pos_, n);
            pos_ += n;
        }
    }
};

}  // namespace

Value parse(std::string_view text, const char* what, Limits limits) {
    return Parser(text, what, limits).parse_document();
}

}  // namespace rknn_fast::format::json
