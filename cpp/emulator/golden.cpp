#include "emulator/golden.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>

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
    const uint32_t flags = c.u32();
    if ((flags & ~kGoldenFlagFingerprint) != 0) {
        throw GoldenError("unknown header flags " + std::to_string(flags) + " (known: 1 = model fingerprint)");
    }
    if (flags & kGoldenFlagFingerprint) c.take(32);  // the model's SHA-256: not needed to replay
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

bool read_golden_fingerprint(const std::string& path, bool& has_fingerprint, Sha256Digest& fingerprint) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    char head[24 + 32];
    f.read(head, sizeof head);
    const std::streamsize got = f.gcount();
    if (got < 24 || std::memcmp(head, "RKGOLD01", 8) != 0) return false;
    uint32_t flags;
    std::memcpy(&flags, head + 20, 4);
    has_fingerprint = (flags & kGoldenFlagFingerprint) != 0;
    if (has_fingerprint) {
        if (got < static_cast<std::streamsize>(sizeof head)) return false;
        std::memcpy(fingerprint.data(), head + 24, 32);
    }
    return true;
}

namespace {

bool is_directory(const std::string& path) {
    struct stat st {};
    return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The `*.golden` files of a directory, sorted by name.
std::vector<std::string> goldens_in(const std::string& dir) {
    std::vector<std::string> names;
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return names;
    while (const dirent* e = readdir(d)) {
        const std::string name = e->d_name;
        if (ends_with(name, ".golden")) names.push_back(name);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    for (auto& n : names) n = dir + "/" + n;
    return names;
}

std::string directory_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

}  // namespace

std::string find_golden(const std::string& model_path, const std::string& search_path,
                        const std::function<Sha256Digest()>& fingerprint,
                        const std::function<void(const std::string&)>& note) {
    std::optional<Sha256Digest> model_digest;
    const auto digest = [&]() -> const Sha256Digest& {
        if (!model_digest) model_digest = fingerprint();
        return *model_digest;
    };
    // A fingerprinted golden matching the model; fingerprint-less ones only beside it.
    const auto matches = [&](const std::string& path, bool allow_unfingerprinted) {
        bool has = false;
        Sha256Digest fp{};
        // An unreadable or malformed file beside the model is taken (and refused by the
        // reader with the reason) rather than silently ignored.
        if (!read_golden_fingerprint(path, has, fp)) return allow_unfingerprinted;
        if (!has) {
            if (!allow_unfingerprinted) note(path + ": no model fingerprint, skipped (only used beside its model)");
            return allow_unfingerprinted;
        }
        if (fp == digest()) return true;
        if (allow_unfingerprinted) note(path + ": fingerprint is another model's, skipped");
        return false;
    };
    std::vector<std::string> tried;
    if (!model_path.empty()) {
        std::string sibling = model_path;
        if (ends_with(sibling, ".rknn")) sibling.resize(sibling.size() - 5);
        sibling += ".golden";
        if (access(sibling.c_str(), R_OK) == 0) {
            if (matches(sibling, true)) return sibling;
            tried.push_back(sibling);
        }
        for (const std::string& path : goldens_in(directory_of(model_path))) {
            if (std::find(tried.begin(), tried.end(), path) != tried.end()) continue;
            bool has = false;
            Sha256Digest fp{};
            // Silent here: a directory of models holds many other models' goldens.
            if (read_golden_fingerprint(path, has, fp) && has && fp == digest()) return path;
        }
    }
    size_t start = 0;
    while (start <= search_path.size()) {
        size_t end = search_path.find(':', start);
        if (end == std::string::npos) end = search_path.size();
        const std::string entry = search_path.substr(start, end - start);
        start = end + 1;
        if (entry.empty()) continue;
        if (is_directory(entry)) {
            for (const std::string& path : goldens_in(entry)) {
                bool has = false;
                Sha256Digest fp{};
                if (read_golden_fingerprint(path, has, fp) && has && fp == digest()) return path;
            }
        } else if (matches(entry, false)) {
            return entry;
        }
    }
    return {};
}

}  // namespace rknn_fast::emulator
