// Tensor print-out (Tensor::str, operator<<, format_tensor): PyTorch's torch/_tensor_str.py
// rules re-derived for Strata, so the same tensor prints the same text in both.
//
// Shaped as two passes over the elements that will be shown (all of them, or the edges of each
// dim when summarized): the first picks one format for the whole tensor (int / whole-float /
// fixed / scientific and the column width), the second lays the elements out with nested
// brackets. Elements are read in place through the strides, so no view is ever materialized;
// a tensor on another device is copied to the CPU once.
#include "tensor/print.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ostream>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "tensor/semantic.h"

namespace strata {
namespace {

// The indices shown along a dim of `size`; -1 stands for the "..." between the two edges.
std::vector<int64_t> shown_indices(int64_t size, bool summarize, int64_t edgeitems) {
  std::vector<int64_t> out;
  if (summarize && size > 2 * edgeitems) {
    for (int64_t i = 0; i < edgeitems; ++i) out.push_back(i);
    out.push_back(-1);
    for (int64_t i = size - edgeitems; i < size; ++i) out.push_back(i);
  } else {
    for (int64_t i = 0; i < size; ++i) out.push_back(i);
  }
  return out;
}

// One element, read from raw bytes of a CPU tensor.
struct Element {
  const char* p;
};

// The text form shared by all elements of one tensor (PyTorch's _Formatter).
class ElementFormat {
 public:
  ElementFormat(DType dtype, const std::vector<Element>& shown, const PrintOptions& opts)
      : dtype_(dtype), precision_(opts.precision) {
    if (!is_floating(dtype)) {
      for (Element e : shown) width_ = std::max<int64_t>(width_, static_cast<int64_t>(plain(e).size()));
      return;
    }
    double lo = INFINITY, hi = 0.0;
    bool any = false;
    for (Element e : shown) {
      const double v = value(e);
      if (!std::isfinite(v) || v == 0.0) continue;
      any = true;
      lo = std::min(lo, std::fabs(v));
      hi = std::max(hi, std::fabs(v));
      if (v != std::ceil(v)) int_mode_ = false;
    }
    if (any) {
      if (int_mode_) {
        sci_mode_ = hi / lo > 1000.0 || hi > 1.0e8;
      } else {
        sci_mode_ = hi / lo > 1000.0 || hi > 1.0e8 || lo < 1.0e-4;
      }
      // Unlike PyTorch, a forced mode also sets the width (PyTorch pads to the automatic one).
      if (opts.sci_mode) sci_mode_ = *opts.sci_mode;
      for (Element e : shown) {
        const double v = value(e);
        if (!std::isfinite(v) || v == 0.0) continue;
        const int64_t extra = (int_mode_ && !sci_mode_) ? 1 : 0;  // the "." of a whole float
        width_ = std::max<int64_t>(width_, static_cast<int64_t>(number(v).size()) + extra);
      }
    }
    if (opts.sci_mode) sci_mode_ = *opts.sci_mode;
  }

  int64_t width() const { return width_; }

  // The element's text, right-aligned to width().
  std::string operator()(Element e) const {
    std::string s;
    if (!is_floating(dtype_)) {
      s = plain(e);
    } else {
      const double v = value(e);
      s = number(v);
      if (int_mode_ && !sci_mode_ && std::isfinite(v)) s += ".";
    }
    const int64_t pad = width_ - static_cast<int64_t>(s.size());
    return pad > 0 ? std::string(static_cast<size_t>(pad), ' ') + s : s;
  }

 private:
  double value(Element e) const {
    return visit_dtype(dtype_, [&]<class T>() {
      T v;
      std::memcpy(&v, e.p, sizeof(T));
      return static_cast<double>(static_cast<compute_t<T>>(v));
    });
  }
  // Integers and bools as Python prints them.
  std::string plain(Element e) const {
    return visit_dtype(dtype_, [&]<class T>() -> std::string {
      if constexpr (std::is_same_v<T, bool>) {
        unsigned char b;
        std::memcpy(&b, e.p, 1);
        return b ? "True" : "False";
      } else if constexpr (std::is_integral_v<T>) {
        T v;
        std::memcpy(&v, e.p, sizeof(T));
        return fmt::format("{}", static_cast<int64_t>(v));
      } else {
        return "";
      }
    });
  }
  // A float in the tensor's mode, without padding; non-finite values as Python spells them.
  std::string number(double v) const {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (sci_mode_) return fmt::format("{:.{}e}", v, precision_);
    if (int_mode_) return fmt::format("{:.0f}", v);
    return fmt::format("{:.{}f}", v, precision_);
  }

  DType dtype_;
  int precision_;
  bool int_mode_ = true;
  bool sci_mode_ = false;
  int64_t width_ = 1;
};

// Walks a CPU tensor's shown elements and lays them out (_tensor_str_with_formatter).
class Layout {
 public:
  Layout(const Tensor& cpu, const PrintOptions& opts)
      : t_(cpu), opts_(opts), summarize_(cpu.numel() > opts.threshold),
        base_(static_cast<const char*>(cpu.raw_data())), format_(cpu.dtype(), collect(), opts) {}

  std::string render(int64_t indent) const { return block(0, 0, indent); }

 private:
  Element at(int64_t offset) const { return {base_ + offset * t_.itemsize()}; }

  std::vector<Element> collect() const {
    std::vector<Element> out;
    collect_from(0, 0, out);
    return out;
  }
  void collect_from(int64_t d, int64_t offset, std::vector<Element>& out) const {
    if (d == t_.dim()) {
      out.push_back(at(offset));
      return;
    }
    for (int64_t i : shown_indices(t_.size(d), summarize_, opts_.edgeitems))
      if (i >= 0) collect_from(d + 1, offset + i * t_.stride(d), out);
  }

  std::string block(int64_t d, int64_t offset, int64_t indent) const {
    const int64_t ndim = t_.dim();
    if (ndim == 0) return format_(at(offset));
    if (d == ndim - 1) return row(d, offset, indent);
    std::string out = "[";
    const std::string sep = "," + std::string(static_cast<size_t>(ndim - d - 1), '\n') +
                            std::string(static_cast<size_t>(indent + 1), ' ');
    bool first = true;
    for (int64_t i : shown_indices(t_.size(d), summarize_, opts_.edgeitems)) {
      if (!first) out += sep;
      first = false;
      out += i < 0 ? "..." : block(d + 1, offset + i * t_.stride(d), indent + 1);
    }
    return out + "]";
  }

  std::string row(int64_t d, int64_t offset, int64_t indent) const {
    const int64_t element_length = format_.width() + 2;  // with ", "
    const int64_t room = opts_.linewidth - indent;
    const int64_t per_line = std::max<int64_t>(
        1, static_cast<int64_t>(std::floor(static_cast<double>(room) / static_cast<double>(element_length))));
    std::string out = "[";
    int64_t on_line = 0;
    for (int64_t i : shown_indices(t_.size(d), summarize_, opts_.edgeitems)) {
      if (on_line == per_line) {
        out += ",\n" + std::string(static_cast<size_t>(indent + 1), ' ');
        on_line = 0;
      } else if (on_line > 0) {
        out += ", ";
      }
      out += i < 0 ? " ..." : format_(at(offset + i * t_.stride(d)));
      ++on_line;
    }
    return out + "]";
  }

  const Tensor& t_;
  const PrintOptions& opts_;
  bool summarize_;
  const char* base_;
  ElementFormat format_;
};

// Appends ", suffix" to the text, wrapping onto a new line when it would pass linewidth.
std::string add_suffixes(std::string text, const std::vector<std::string>& suffixes, int64_t indent,
                         int64_t linewidth) {
  const size_t nl = text.rfind('\n');
  int64_t last_line = nl == std::string::npos ? static_cast<int64_t>(text.size()) + 2
                                              : static_cast<int64_t>(text.size() - nl) + 1;
  for (const std::string& s : suffixes) {
    const int64_t len = static_cast<int64_t>(s.size());
    if (last_line + len + 2 > linewidth) {
      text += ",\n" + std::string(static_cast<size_t>(indent), ' ') + s;
      last_line = indent + len;
    } else {
      text += ", " + s;
      last_line += len + 2;
    }
  }
  return text + ")";
}

}  // namespace

std::string format_tensor(const Tensor& t, const PrintOptions& opts) {
  if (!t.defined()) return "tensor(undefined)";
  const std::string prefix = std::string(t.semantic_type() ? t.semantic_type()->name : "tensor") + "(";
  const int64_t indent = static_cast<int64_t>(prefix.size());
  std::vector<std::string> suffixes;
  if (!t.device().is_cpu()) suffixes.push_back(fmt::format("device='{}'", t.device()));

  std::string body;
  if (t.numel() == 0) {
    if (t.dim() != 1) suffixes.push_back(fmt::format("shape={}", t.shape()));
    if (t.dtype() != DType::F32) suffixes.push_back(fmt::format("dtype={}", t.dtype()));
    body = "[]";
  } else {
    const DType d = t.dtype();
    if (d != DType::F32 && d != DType::I64 && d != DType::Bool)
      suffixes.push_back(fmt::format("dtype={}", d));
    Tensor cpu;
    {
      NoGradGuard no_grad;
      cpu = t.device().is_cpu() ? t : t.detach().cpu();
    }
    body = Layout(cpu, opts).render(indent);
  }

  if (const auto fn = t.grad_fn()) {
    suffixes.push_back("grad_fn=<" + fn->name() + ">");
  } else if (t.requires_grad()) {
    suffixes.push_back("requires_grad=True");
  }
  return add_suffixes(prefix + body, suffixes, indent, opts.linewidth);
}

std::string Tensor::str() const { return format_tensor(*this); }

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace strata
