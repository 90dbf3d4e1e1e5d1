// einsum by reduction to ops that already exist, so autograd and every device come for free:
//   1. parse the equation into one list of labels per operand (ellipsis dims get labels of their
//      own, right-aligned across operands so that they broadcast like numpy batch dims);
//   2. per operand, take diagonals of repeated labels ("ii->i": multiply by an identity mask and
//      sum one of the two dims) and sum labels that no other operand and not the output uses;
//   3. contract operands left to right: permute each side to [batch.., free.., contracted..],
//      reshape to [batch.., M, K] and [batch.., K, N], one matmul (broadcasting batch dims),
//      reshape back;
//   4. permute to the output order.
// "ij,jk->ik", "bij,bkj->bik" and "bhqd,bhkd->bhqk" thus become a single GEMM whose transposed
// operand is a view (a trans flag), not a copy.
#include <algorithm>
#include <numeric>

#include "tensor/ops.h"
#include "tensor/ops/check.h"

namespace strata {
namespace {

using Labels = std::vector<int>;

constexpr int kLetters = 52;  // A-Z: 0..25, a-z: 26..51 (ASCII order); ellipsis dims: 52 + i

int label_of(char c) { return c >= 'A' && c <= 'Z' ? c - 'A' : 26 + (c - 'a'); }

std::string label_name(int l) {
  if (l >= kLetters) return "...";
  return std::string(1, l < 26 ? static_cast<char>('A' + l) : static_cast<char>('a' + l - 26));
}

// One term of the equation: its letters, and where the ellipsis sits among them (-1: none).
struct Term {
  Labels letters;
  int ellipsis_at = -1;
};

Term parse_term(const std::string& eq, const std::string& text) {
  Term t;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.') {
      STRATA_CHECK(text.compare(i, 3, "...") == 0, ValueError,
                   "einsum: '.' must be part of an ellipsis '...' in equation '{}'", eq);
      STRATA_CHECK(t.ellipsis_at < 0, ValueError, "einsum: term '{}' has more than one ellipsis in equation '{}'",
                   text, eq);
      t.ellipsis_at = static_cast<int>(t.letters.size());
      i += 2;
    } else {
      STRATA_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'), ValueError,
                   "einsum: invalid subscript '{}' in equation '{}' (letters a-z, A-Z and '...' only)", c, eq);
      t.letters.push_back(label_of(c));
    }
  }
  return t;
}

// The term's labels with its ellipsis expanded to `ellipsis_dims` labels, right-aligned within
// the `ellipsis_rank` broadcast ellipsis labels.
Labels expand_term(const Term& t, int64_t ellipsis_dims, int64_t ellipsis_rank) {
  Labels out(t.letters.begin(), t.letters.end());
  if (t.ellipsis_at < 0) return out;
  Labels dots;
  for (int64_t i = 0; i < ellipsis_dims; ++i) dots.push_back(static_cast<int>(kLetters + ellipsis_rank - ellipsis_dims + i));
  out.insert(out.begin() + t.ellipsis_at, dots.begin(), dots.end());
  return out;
}

struct Parsed {
  std::vector<Labels> inputs;
  Labels output;
};

Parsed parse(const std::string& equation, const std::vector<Tensor>& operands) {
  std::string eq;
  for (char c : equation)
    if (c != ' ') eq += c;
  const size_t arrow = eq.find("->");
  STRATA_CHECK(arrow == std::string::npos || eq.find("->", arrow + 2) == std::string::npos, ValueError,
               "einsum: more than one '->' in equation '{}'", equation);
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> texts;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    texts.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  STRATA_CHECK(texts.size() == operands.size(), ValueError,
               "einsum: equation '{}' has {} operand terms but {} operands were given", equation, texts.size(),
               operands.size());

  std::vector<Term> terms;
  int64_t ellipsis_rank = 0;
  std::vector<int64_t> ellipsis_dims(texts.size(), 0);
  for (size_t i = 0; i < texts.size(); ++i) {
    terms.push_back(parse_term(equation, texts[i]));
    const int64_t letters = static_cast<int64_t>(terms[i].letters.size()), nd = operands[i].dim();
    if (terms[i].ellipsis_at < 0) {
      STRATA_CHECK(letters == nd, ValueError,
                   "einsum: term '{}' has {} subscripts but operand {} has {} dims (shape {}) in equation '{}'",
                   texts[i], letters, i, nd, operands[i].shape(), equation);
    } else {
      STRATA_CHECK(letters <= nd, ValueError,
                   "einsum: term '{}' has {} subscripts besides '...' but operand {} has only {} dims (shape {}) "
                   "in equation '{}'", texts[i], letters, i, nd, operands[i].shape(), equation);
      ellipsis_dims[i] = nd - letters;
      ellipsis_rank = std::max(ellipsis_rank, ellipsis_dims[i]);
    }
  }
  Parsed p;
  for (size_t i = 0; i < terms.size(); ++i) p.inputs.push_back(expand_term(terms[i], ellipsis_dims[i], ellipsis_rank));

  std::vector<int> count(kLetters + ellipsis_rank, 0);
  for (const Labels& l : p.inputs)
    for (int x : l) ++count[x];
  if (arrow != std::string::npos) {
    const std::string rhs = eq.substr(arrow + 2);
    STRATA_CHECK(rhs.find(',') == std::string::npos, ValueError, "einsum: the output of equation '{}' has a ','",
                 equation);
    const Term out = parse_term(equation, rhs);
    for (size_t i = 0; i < out.letters.size(); ++i) {
      const int l = out.letters[i];
      STRATA_CHECK(count[l] > 0, ValueError, "einsum: output subscript '{}' does not appear in any operand of equation '{}'",
                   label_name(l), equation);
      STRATA_CHECK(std::count(out.letters.begin(), out.letters.end(), l) == 1, ValueError,
                   "einsum: output subscript '{}' appears more than once in equation '{}'", label_name(l), equation);
    }
    p.output = expand_term(out, ellipsis_rank, ellipsis_rank);
  } else {
    // Implicit output: the broadcast ellipsis dims, then every letter used exactly once, sorted.
    for (int64_t i = 0; i < ellipsis_rank; ++i) p.output.push_back(static_cast<int>(kLetters + i));
    for (int l = 0; l < kLetters; ++l)
      if (count[l] == 1) p.output.push_back(l);
  }
  return p;
}

// A tensor and the label of each of its dims.
struct Labeled {
  Tensor t;
  Labels labels;
};

int64_t position(const Labels& ls, int l) {
  auto it = std::find(ls.begin(), ls.end(), l);
  return it == ls.end() ? -1 : static_cast<int64_t>(it - ls.begin());
}
bool contains(const Labels& ls, int l) { return position(ls, l) >= 0; }

// Sums the dims of x whose labels satisfy `drop`.
template <class Pred>
Labeled sum_labels(Labeled x, Pred drop) {
  Dims dims;
  Labels kept;
  for (size_t d = 0; d < x.labels.size(); ++d) {
    if (drop(x.labels[d])) dims.push_back(static_cast<int64_t>(d));
    else kept.push_back(x.labels[d]);
  }
  if (dims.empty()) return x;
  return {sum(x.t, dims), kept};
}

// Collapses every repeated label of x to its diagonal ("ii" -> "i").
Labeled take_diagonals(Labeled x, const std::string& eq) {
  for (size_t p = 0; p < x.labels.size(); ++p) {
    for (size_t q = p + 1; q < x.labels.size();) {
      if (x.labels[q] != x.labels[p]) {
        ++q;
        continue;
      }
      const int64_t n = x.t.size(p);
      STRATA_CHECK(x.t.size(q) == n, ShapeError,
                   "einsum: subscript '{}' repeats in one operand with sizes {} and {} (shape {}) in equation '{}'",
                   label_name(x.labels[p]), n, x.t.size(q), x.t.shape(), eq);
      Shape mask_shape(x.labels.size(), 1);
      mask_shape[p] = n;
      mask_shape[q] = n;
      Tensor mask = eye(n, n, {.dtype = x.t.dtype(), .device = x.t.device()}).view(mask_shape);
      x.t = sum(x.t * mask, {static_cast<int64_t>(q)});
      x.labels.erase(x.labels.begin() + q);
    }
  }
  return x;
}

// The product of the sizes of x's dims labelled `ls`.
int64_t size_of(const Labeled& x, const Labels& ls) {
  int64_t n = 1;
  for (int l : ls) n *= x.t.size(position(x.labels, l));
  return n;
}

// x permuted to `order` (a permutation of its labels).
Tensor permuted(const Labeled& x, const Labels& order) {
  std::vector<int64_t> perm;
  for (int l : order) perm.push_back(position(x.labels, l));
  return x.t.permute(perm);
}

// Contracts a and b over their shared labels that `keep` rejects; keeps shared labels that
// `keep` accepts as batch dims (broadcasting size 1 against n like matmul).
template <class Keep>
Labeled contract(Labeled a, Labeled b, Keep keep) {
  a = sum_labels(std::move(a), [&](int l) { return !keep(l) && !contains(b.labels, l); });
  b = sum_labels(std::move(b), [&](int l) { return !keep(l) && !contains(a.labels, l); });
  Labels batch, contracted, a_free, b_free;
  for (int l : a.labels) {
    if (!contains(b.labels, l)) a_free.push_back(l);
    else if (keep(l)) batch.push_back(l);
    else contracted.push_back(l);
  }
  for (int l : b.labels)
    if (!contains(a.labels, l)) b_free.push_back(l);
  // A contracted label of size 1 on one side and n on the other broadcasts: sum the n side first.
  for (int l : contracted) {
    const int64_t pa = position(a.labels, l), pb = position(b.labels, l);
    if (a.t.size(pa) == b.t.size(pb)) continue;
    if (a.t.size(pa) == 1) b.t = sum(b.t, {pb}, /*keepdim=*/true);
    else a.t = sum(a.t, {pa}, /*keepdim=*/true);
  }
  Shape a_shape, b_shape, out_shape;
  for (int l : batch) {
    a_shape.push_back(a.t.size(position(a.labels, l)));
    b_shape.push_back(b.t.size(position(b.labels, l)));
    out_shape.push_back(std::max(a_shape.back(), b_shape.back()));
  }
  const int64_t m = size_of(a, a_free), k = size_of(a, contracted), n = size_of(b, b_free);
  a_shape.push_back(m);
  a_shape.push_back(k);
  b_shape.push_back(k);
  b_shape.push_back(n);
  Labels a_order = batch, b_order = batch, out_labels = batch;
  a_order.insert(a_order.end(), a_free.begin(), a_free.end());
  a_order.insert(a_order.end(), contracted.begin(), contracted.end());
  b_order.insert(b_order.end(), contracted.begin(), contracted.end());
  b_order.insert(b_order.end(), b_free.begin(), b_free.end());
  for (int l : a_free) out_shape.push_back(a.t.size(position(a.labels, l)));
  for (int l : b_free) out_shape.push_back(b.t.size(position(b.labels, l)));
  out_labels.insert(out_labels.end(), a_free.begin(), a_free.end());
  out_labels.insert(out_labels.end(), b_free.begin(), b_free.end());
  Tensor r = matmul(permuted(a, a_order).reshape(a_shape), permuted(b, b_order).reshape(b_shape));
  return {r.reshape(out_shape), out_labels};
}

// Every label has one size across operands, where size 1 broadcasts.
void check_sizes(const std::string& eq, const std::vector<Labeled>& xs) {
  struct Seen {
    int64_t size = 1;
    size_t operand = 0;
  };
  std::vector<Seen> seen;
  for (size_t i = 0; i < xs.size(); ++i) {
    for (size_t d = 0; d < xs[i].labels.size(); ++d) {
      const int l = xs[i].labels[d];
      const int64_t s = xs[i].t.size(static_cast<int64_t>(d));
      if (static_cast<size_t>(l) >= seen.size()) seen.resize(l + 1);
      if (s == 1 || s == seen[l].size) continue;
      STRATA_CHECK(seen[l].size == 1, ShapeError,
                   "einsum: subscript '{}' has size {} in operand {} (shape {}) but {} in operand {} (shape {}) "
                   "in equation '{}'", label_name(l), seen[l].size, seen[l].operand, xs[seen[l].operand].t.shape(), s,
                   i, xs[i].t.shape(), eq);
      seen[l] = {s, i};
    }
  }
}

}  // namespace

Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands) {
  STRATA_CHECK(!operands.empty(), ValueError, "einsum: no operands given for equation '{}'", equation);
  for (const Tensor& t : operands) check_defined("einsum", t, "operand");
  for (const Tensor& t : operands) {
    check_same_device("einsum", operands[0], t);
    STRATA_CHECK(t.dtype() == operands[0].dtype() && is_floating(t.dtype()), DTypeError,
                 "einsum: operands must share one floating dtype, got {} and {} in equation '{}'", operands[0].dtype(),
                 t.dtype(), equation);
  }
  Parsed p = parse(equation, operands);

  std::vector<Labeled> xs;
  for (size_t i = 0; i < operands.size(); ++i) xs.push_back({operands[i], p.inputs[i]});
  for (auto& x : xs) x = take_diagonals(std::move(x), equation);
  check_sizes(equation, xs);
  // Labels used by one operand only and absent from the output are summed before any product.
  for (size_t i = 0; i < xs.size(); ++i) {
    xs[i] = sum_labels(std::move(xs[i]), [&](int l) {
      if (contains(p.output, l)) return false;
      for (size_t j = 0; j < xs.size(); ++j)
        if (j != i && contains(xs[j].labels, l)) return false;
      return true;
    });
  }
  Labeled acc = xs[0];
  for (size_t i = 1; i < xs.size(); ++i) {
    acc = contract(std::move(acc), xs[i], [&](int l) {
      if (contains(p.output, l)) return true;
      for (size_t j = i + 1; j < xs.size(); ++j)
        if (contains(xs[j].labels, l)) return true;
      return false;
    });
  }
  acc = sum_labels(std::move(acc), [&](int l) { return !contains(p.output, l); });
  if (acc.t.dim() == 0) return acc.t;
  return permuted(acc, p.output);
}

}  // namespace strata
