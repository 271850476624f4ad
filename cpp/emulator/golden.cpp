#include "emulator/golden.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include "emulator/tensor_codec.h"

namespace rknn_fast::emulator {
namespace {

class Cursor {
  public:
    Cursor(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    uint32_t u32() {
        uint32_t v;
        std::memcpy(&v, take(4), 4);
        return v;
    }
    uint64_t u64() {
        uint64_t v;
        std::memcpy(&v, take(8), 8);
        return v;
    }
    const uint8_t* take(uint64_t n) {
        if (n > size_ - pos_) {
            throw GoldenError("golden file truncated: need " + std::to_string(n) + " bytes at offset " +
                              std::to_string(pos_) + ", file has " + std::to_string(size_));
        }
        const uint8_t* p = data_ + pos_;
        pos_ += static_cast<size_t>(n);
        return p;
    }
    size_t pos() const { return pos_; }
    size_t remaining() const { return size_ - pos_; }

  private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

GoldenTensor read_tensor(Cursor& c) {
    const size_t at = c.pos();
    GoldenTensor t;
    t.type = static_cast<int32_t>(c.u32());
    t.fmt = static_cast<int32_t>(c.u32());
    const uint32_t n_dims = c.u32();
    if (n_dims < 1 || n_dims > 16) {
        throw GoldenError("golden tensor at offset " + std::to_string(at) + ": n_dims " +
                          std::to_string(n_dims) + " not in 1..16");
    }
    const size_t elem = codec_type_size(t.type);
    if (elem == 0) {
        throw GoldenError("golden tensor at offset " + std::to_string(at) + ": unsupported type " +
                          std::to_string(t.type));
    }
    uint64_t count = 1;
    for (uint32_t i = 0; i < n_dims; ++i) {
        const uint32_t d = c.u32();
        t.dims.push_back(d);
        count *= d;
        if (count > (uint64_t(1) << 40)) throw GoldenError("golden tensor too large");
    }
    const uint64_t n_bytes = c.u64();
    if (n_bytes != count * elem) {
        throw GoldenError("golden tensor at offset " + std::to_string(at) + ": n_bytes " +
                          std::to_string(n_bytes) + " != prod(dims) x element size " +
                          std::to_string(count * elem));
    }
    const uint8_t* p = c.take(n_bytes);
    t.data.assign(p, p + n_bytes);
    return t;
}

}  // namespace

std::vector<GoldenRecord> parse_golden(const uint8_t* data, size_t size) {
    Cursor c(data, size);
    if (size < 24 || std::memcmp(c.take(8), "RKGOLD01", 8) != 0) {
        throw GoldenError("not a golden file (magic RKGOLD01 missing)");
    }
    const uint32_t n_inputs = c.u32();
    const uint32_t n_outputs = c.u32();
    const uint32_t n_records = c.u32();
    c.u32();  // reserved
    // Each tensor takes at least 20 bytes, which bounds the counts before allocating.
    const uint64_t per_record = (uint64_t(n_inputs) + n_outputs) * 20;
    if (n_inputs == 0 || n_outputs == 0 || per_record * n_records > c.remaining()) {
        throw GoldenError("golden header counts (" + std::to_string(n_inputs) + " inputs, " +
                          std::to_string(n_outputs) + " outputs, " + std::to_string(n_records) +
                          " records) do not fit the file");
    }
    std::vector<GoldenRecord> records(n_records);
    for (auto& r : records) {
        for (uint32_t i = 0; i < n_inputs; ++i) r.inputs.push_back(read_tensor(c));
        for (uint32_t i = 0; i < n_outputs; ++i) r.outputs.push_back(read_tensor(c));
    }
    if (c.remaining() != 0) {
        throw GoldenError("golden file has " + std::to_string(c.remaining()) +
                          " trailing bytes after the last record");
    }
    return records;
}

std::vector<GoldenRecord> read_golden_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw GoldenError("cannot open golden file " + path);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    try {
        return parse_golden(bytes.data(), bytes.size());
    } catch (const GoldenError& e) {
        throw GoldenError(path + ": " + e.what());
    }
}

}  // namespace rknn_fast::emulator
