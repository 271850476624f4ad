#include "emulator/state.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "abi/rknn_abi.h"

namespace rknn_fast::emulator {

namespace {

const char* const kApiNames[kApiCount] = {
    "rknn_init", "rknn_dup_context", "rknn_destroy", "rknn_query", "rknn_inputs_set",
    "rknn_set_batch_core_num", "rknn_set_core_mask", "rknn_run", "rknn_wait", "rknn_outputs_get",
    "rknn_outputs_release", "rknn_create_mem_from_phys", "rknn_create_mem_from_fd",
    "rknn_create_mem", "rknn_create_mem2", "rknn_destroy_mem",
    "rknn_set_weight_mem", "rknn_set_internal_mem", "rknn_set_io_mem", "rknn_set_input_shape",
    "rknn_set_input_shapes", "rknn_mem_sync"};

std::vector<std::string> split(const std::string& text, const char* separators) {
    std::vector<std::string> words;
    std::string word;
    for (char ch : text) {
        if (std::string(separators).find(ch) != std::string::npos) {
            if (!word.empty()) words.push_back(word);
            word.clear();
        } else {
            word += ch;
        }
    }
    if (!word.empty()) words.push_back(word);
    return words;
}

bool parse_int(const std::string& text, int64_t& out) {
    if (text.empty()) return false;
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 0);
    if (end == nullptr || *end != '\0') return false;
    out = v;
    return true;
}

// Fault targets by their short names ("run", "init", ... or the full rknn_* name).
bool api_from_name(const std::string& name, Api& api) {
    for (int i = 0; i < kApiCount; ++i) {
        const std::string full = kApiNames[i];
        if (name == full || "rknn_" + name == full) {
            api = static_cast<Api>(i);
            return true;
        }
    }
    return false;
}

std::string json_escape(const std::string& s) {
    std::string out;
    for (char ch : s) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (static_cast<unsigned char>(ch) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(ch));
            out += buf;
        } else {
            out += ch;
        }
    }
    return out;
}

}  // namespace

const char* api_name(Api api) { return kApiNames[static_cast<int>(api)]; }

void Counters::reset() {
    for (auto& c : calls) c = 0;
    inputs_set_bytes = 0;
    outputs_get_bytes = 0;
    io_mem_input_bytes = 0;
    io_mem_output_bytes = 0;
    mem_sync_calls = 0;
    mem_sync_to_device = 0;
    mem_sync_from_device = 0;
    runs = 0;
    runs_failed = 0;
    golden_runs = 0;
    synthetic_runs = 0;
    skipped_runs = 0;
    model_parses = 0;
    for (auto& c : core_runs) c = 0;
    max_concurrent_runs = concurrent_runs.load();
    last_input_hash = 0;
    last_golden_record = -1;
}

Emulator& Emulator::get() {
    // Constructed on first use (from any API call), so the environment is read when the
    // library is first used rather than during static initialisation of the process. Never
    // destroyed: worker threads of runs in flight at process exit may still count.
    static Emulator* instance = new Emulator();
    return *instance;
}

Emulator::Emulator() { load_environment(); }

void Emulator::load_environment() {
    int64_t v = 0;
    const char* env = std::getenv("RKNN_EMU_NPU_TIME_US");
    npu_time_us_ = (env != nullptr && parse_int(env, v) && v >= 0) ? v : 0;
    env = std::getenv("RKNN_EMU_LOG");
    log_level_ = (env != nullptr && parse_int(env, v)) ? static_cast<int>(v) : 1;
    skip_compute_ = false;  // control-only setting (benchmarking aid)
    {
        std::lock_guard<std::mutex> lock(mutex_);
        faults_.clear();
        golden_override_.clear();
        golden_override_set_ = false;
    }
    env = std::getenv("RKNN_EMU_FAULTS");
    if (env != nullptr) {
        for (const std::string& command : split(env, ";")) {
            std::string reply;
            if (arm_fault(split("fault " + command, " \t"), reply) != 0) {
                log_error("RKNN_EMU_FAULTS: " + reply);
            }
        }
    }
}

std::string Emulator::golden_override() const {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (golden_override_set_) return golden_override_;
    }
    // Read at every init so that a process can point consecutive models at different sets.
    const char* env = std::getenv("RKNN_EMU_GOLDEN");
    return env != nullptr ? std::string(env) : std::string();
}

FaultHit Emulator::check_fault(Api api) {
    std::lock_guard<std::mutex> lock(mutex_);
    FaultHit result;
    for (auto it = faults_.begin(); it != faults_.end();) {
        if (it->api != api) {
            ++it;
            continue;
        }
        ++it->seen;
        if (!result.hit && it->seen >= it->at && it->seen < it->at + it->count) {
            result.hit = true;
            result.code = it->code;
            result.timeout = it->timeout;
            result.hang_ms = it->hang_ms;
        }
        if (it->seen + 1 >= it->at + it->count) {
            it = faults_.erase(it);  // spent
        } else {
            ++it;
        }
    }
    return result;
}

void Emulator::log_error(const std::string& message) const {
    if (log_level_.load() >= 1) std::fprintf(stderr, "E RKNN-EMU: %s\n", message.c_str());
}

void Emulator::log_warning(const std::string& message) const {
    if (log_level_.load() >= 1) std::fprintf(stderr, "W RKNN-EMU: %s\n", message.c_str());
}

void Emulator::log_info(const std::string& message) const {
    if (log_level_.load() >= 2) std::fprintf(stderr, "I RKNN-EMU: %s\n", message.c_str());
}

int Emulator::arm_fault(const std::vector<std::string>& words, std::string& reply) {
    // fault <api>[=N] [code=C] [count=K]      the N-th call of <api> from now fails with C
    // fault timeout[=N] [ms=M] [count=K]      the N-th run hangs M ms, then RKNN_ERR_TIMEOUT
    // fault clear
    if (words.size() < 2) {
        reply = "usage: fault <api>[=N] [code=C] [count=K] | fault timeout[=N] [ms=M] | fault clear";
        return RKNN_ERR_PARAM_INVALID;
    }
    if (words[1] == "clear") {
        std::lock_guard<std::mutex> lock(mutex_);
        faults_.clear();
        reply = "ok";
        return RKNN_SUCC;
    }
    Fault fault;
    const std::string& target = words[1];
    const size_t eq = target.find('=');
    const std::string name = target.substr(0, eq);
    if (name == "timeout") {
        fault.api = Api::run;
        fault.timeout = true;
        fault.code = RKNN_ERR_TIMEOUT;
    } else if (!api_from_name(name, fault.api)) {
        reply = "unknown fault target '" + name + "'";
        return RKNN_ERR_PARAM_INVALID;
    }
    int64_t v = 0;
    if (eq != std::string::npos) {
        if (!parse_int(target.substr(eq + 1), v) || v < 1) {
            reply = "expected a call number >= 1 in '" + target + "'";
            return RKNN_ERR_PARAM_INVALID;
        }
        fault.at = static_cast<uint64_t>(v);
    }
    for (size_t i = 2; i < words.size(); ++i) {
        const size_t e = words[i].find('=');
        const std::string key = words[i].substr(0, e);
        if (e == std::string::npos || !parse_int(words[i].substr(e + 1), v)) {
            reply = "expected key=integer, got '" + words[i] + "'";
            return RKNN_ERR_PARAM_INVALID;
        }
        if (key == "code" && v < 0 && v > -100) {
            fault.code = static_cast<int>(v);
        } else if (key == "count" && v >= 1) {
            fault.count = static_cast<uint64_t>(v);
        } else if (key == "ms" && fault.timeout && v >= 0) {
            fault.hang_ms = v;
        } else if ((key == "at" || key == "run") && v >= 1) {
            fault.at = static_cast<uint64_t>(v);
        } else {
            reply = "bad fault parameter '" + words[i] + "'";
            return RKNN_ERR_PARAM_INVALID;
        }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    faults_.push_back(fault);
    reply = "ok";
    return RKNN_SUCC;
}

std::string Emulator::counters_json() const {
    const Counters& c = counters;
    std::ostringstream o;
    o << "{\"calls\": {";
    for (int i = 0; i < kApiCount; ++i) {
        o << (i ? ", " : "") << '"' << kApiNames[i] << "\": " << c.calls[i].load();
    }
    o << "}, \"inputs_set_bytes\": " << c.inputs_set_bytes.load()
      << ", \"outputs_get_bytes\": " << c.outputs_get_bytes.load()
      << ", \"io_mem_input_bytes\": " << c.io_mem_input_bytes.load()
      << ", \"io_mem_output_bytes\": " << c.io_mem_output_bytes.load()
      << ", \"mem_sync_calls\": " << c.mem_sync_calls.load()
      << ", \"mem_sync_to_device\": " << c.mem_sync_to_device.load()
      << ", \"mem_sync_from_device\": " << c.mem_sync_from_device.load()
      << ", \"runs\": " << c.runs.load() << ", \"runs_failed\": " << c.runs_failed.load()
      << ", \"golden_runs\": " << c.golden_runs.load()
      << ", \"synthetic_runs\": " << c.synthetic_runs.load() << ", \"skipped_runs\": " << c.skipped_runs.load()
      << ", \"model_parses\": " << c.model_parses.load() << ", \"core_runs\": ["
      << c.core_runs[0].load() << ", " << c.core_runs[1].load() << ", " << c.core_runs[2].load()
      << "], \"max_concurrent_runs\": " << c.max_concurrent_runs.load()
      << ", \"last_input_hash\": \"" << std::hex << c.last_input_hash.load() << std::dec
      << "\", \"last_golden_record\": " << c.last_golden_record.load() << "}";
    return o.str();
}

std::string Emulator::config_json() {
    std::ostringstream o;
    o << "{\"npu_time_us\": " << npu_time_us_.load() << ", \"log\": " << log_level_.load()
      << ", \"skip_compute\": " << (skip_compute_.load() ? "true" : "false")
      << ", \"golden\": \"" << json_escape(golden_override()) << "\", \"faults\": [";
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < faults_.size(); ++i) {
        const Fault& f = faults_[i];
        o << (i ? ", " : "") << "{\"api\": \"" << api_name(f.api) << "\", \"at\": " << f.at
          << ", \"count\": " << f.count << ", \"code\": " << f.code
          << ", \"timeout\": " << (f.timeout ? "true" : "false") << ", \"seen\": " << f.seen << "}";
    }
    o << "]}";
    return o.str();
}

int Emulator::control(const std::string& command, std::string& reply) {
    const std::vector<std::string> words = split(command, " \t\n");
    if (words.empty()) {
        reply = "empty command";
        return RKNN_ERR_PARAM_INVALID;
    }
    const std::string& verb = words[0];
    if (verb == "counters" && words.size() == 1) {
        reply = counters_json();
        return RKNN_SUCC;
    }
    if (verb == "synthetic_runs" && words.size() == 1) {  // one counter, cheap to poll
        reply = std::to_string(counters.synthetic_runs.load());
        return RKNN_SUCC;
    }
    if (verb == "reset_counters" && words.size() == 1) {
        counters.reset();
        reply = "ok";
        return RKNN_SUCC;
    }
    if (verb == "reset" && words.size() == 1) {
        counters.reset();
        load_environment();
        reply = "ok";
        return RKNN_SUCC;
    }
    if (verb == "config" && words.size() == 1) {
        reply = config_json();
        return RKNN_SUCC;
    }
    if (verb == "fault") return arm_fault(words, reply);
    if (verb == "set" && words.size() == 2) {
        const size_t eq = words[1].find('=');
        const std::string key = words[1].substr(0, eq);
        const std::string value = eq == std::string::npos ? "" : words[1].substr(eq + 1);
        int64_t v = 0;
        if (key == "npu_time_us" && parse_int(value, v) && v >= 0) {
            npu_time_us_ = v;
        } else if (key == "skip_compute" && parse_int(value, v) && (v == 0 || v == 1)) {
            skip_compute_ = v == 1;
        } else if (key == "log" && parse_int(value, v)) {
            log_level_ = static_cast<int>(v);
        } else if (key == "golden" && eq != std::string::npos) {
            std::lock_guard<std::mutex> lock(mutex_);
            golden_override_ = value;
            golden_override_set_ = true;
        } else {
            reply = "bad setting '" + words[1] + "' (npu_time_us=N, log=N, golden=PATH, skip_compute=0|1)";
            return RKNN_ERR_PARAM_INVALID;
        }
        reply = "ok";
        return RKNN_SUCC;
    }
    if (verb == "help") {
        reply =
            "counters | synthetic_runs | reset_counters | reset | config | set npu_time_us=N | set log=N | "
            "set golden=PATH | set skip_compute=0|1 | fault <api>[=N] [code=C] [count=K] | fault timeout[=N] [ms=M] | "
            "fault clear";
        return RKNN_SUCC;
    }
    reply = "unknown command '" + command + "' (try 'help')";
    return RKNN_ERR_PARAM_INVALID;
}

}  // namespace rknn_fast::emulator
