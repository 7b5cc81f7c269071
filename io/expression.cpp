// Recursive-descent parser emitting postfix code, and a stack machine that runs it.
#include "io/expression.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace glia {

namespace {

using expr_detail::Instr;
using expr_detail::Op;

// The evaluation stack lives in a fixed array so that evaluating allocates nothing;
// no realistic per-neuron formula comes near this depth.
constexpr int kMaxDepth = 64;
constexpr int kMaxNesting = 100; // guards the parser's recursion

struct Function {
  std::string_view name;
  Op op;
  int arity;
};
constexpr Function kFunctions[] = {{"exp", Op::exp, 1}, {"log", Op::log, 1}, {"sqrt", Op::sqrt, 1},
                                   {"abs", Op::abs, 1}, {"min", Op::min, 2}, {"max", Op::max, 2},
                                   {"pow", Op::pow, 2}};

const Function* find_function(std::string_view name) {
  for (const auto& f : kFunctions)
    if (f.name == name) return &f;
  return nullptr;
}

double apply(Op op, double a, double b) {
  switch (op) {
  case Op::neg:
    return -a;
  case Op::add:
    return a + b;
  case Op::sub:
    return a - b;
  case Op::mul:
    return a * b;
  case Op::div:
    return a / b;
  case Op::pow:
    return std::pow(a, b);
  case Op::exp:
    return std::exp(a);
  case Op::log:
    return std::log(a);
  case Op::sqrt:
    return std::sqrt(a);
  case Op::abs:
    return std::fabs(a);
  case Op::min:
    return std::fmin(a, b);
  case Op::max:
    return std::fmax(a, b);
  default:
    return 0.0;
  }
}

int arity(Op op) {
  switch (op) {
  case Op::constant:
  case Op::variable:
    return 0;
  case Op::neg:
  case Op::exp:
  case Op::log:
  case Op::sqrt:
  case Op::abs:
    return 1;
  default:
    return 2;
  }
}

double run(const std::vector<Instr>& code, const double* values) {
  if (code.empty()) return 0.0; // a default-constructed BoundExpression
  double st[kMaxDepth];
  int top = 0;
  for (const Instr& in : code) {
    switch (in.op) {
    case Op::constant:
      st[top++] = in.value;
      break;
    case Op::variable:
      st[top++] = values[in.slot];
      break;
    case Op::neg:
    case Op::exp:
    case Op::log:
    case Op::sqrt:
    case Op::abs:
      st[top - 1] = apply(in.op, st[top - 1], 0.0);
      break;
    default:
      st[top - 2] = apply(in.op, st[top - 2], st[top - 1]);
      --top;
      break;
    }
  }
  return st[0];
}

class Parser {
public:
  explicit Parser(const std::string& text) : s_(text) {}

  void parse(std::vector<Instr>& code, std::vector<std::string>& vars) {
    code_ = &code;
    vars_ = &vars;
    skip_space();
    if (pos_ == s_.size()) fail("empty expression", 0);
    expression(0);
    skip_space();
    if (pos_ != s_.size()) fail("unexpected '" + std::string(1, s_[pos_]) + "'", pos_);
  }

private:
  [[noreturn]] void fail(const std::string& what, std::size_t at) const {
    throw std::invalid_argument(what + " at column " + std::to_string(at + 1) + " of '" + s_ + "'");
  }

  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) {
      if (pos_ == s_.size())
        fail(std::string("expected '") + c + "' but the expression ended", pos_);
      fail(std::string("expected '") + c + "', got '" + s_[pos_] + "'", pos_);
    }
  }

  // Emits an operator, folding it into a constant when its operands are constants.
  void emit(Op op) {
    auto& c = *code_;
    const int n = arity(op);
    if (static_cast<int>(c.size()) >= n &&
        std::all_of(c.end() - n, c.end(), [](const Instr& i) { return i.op == Op::constant; })) {
      const double a = c[c.size() - n].value;
      const double b = n == 2 ? c.back().value : 0.0;
      c.resize(c.size() - n);
      c.push_back({Op::constant, 0, apply(op, a, b)});
      return;
    }
    c.push_back({op, 0, 0.0});
  }

  void expression(int nesting) {
    if (nesting > kMaxNesting) fail("expression nested too deeply", pos_);
    term(nesting);
    for (;;) {
      if (accept('+')) {
        term(nesting);
        emit(Op::add);
      } else if (accept('-')) {
        term(nesting);
        emit(Op::sub);
      } else {
        return;
      }
    }
  }

  void term(int nesting) {
    unary(nesting);
    for (;;) {
      if (accept('*')) {
        unary(nesting);
        emit(Op::mul);
      } else if (accept('/')) {
        unary(nesting);
        emit(Op::div);
      } else {
        return;
      }
    }
  }

  void unary(int nesting) {
    if (nesting > kMaxNesting) fail("expression nested too deeply", pos_);
    if (accept('-')) {
      unary(nesting + 1);
      emit(Op::neg);
    } else if (accept('+')) {
      unary(nesting + 1);
    } else {
      power(nesting);
    }
  }

  // Right-associative, and the exponent may carry its own sign: 2^-1, 2^3^2 = 2^9.
  void power(int nesting) {
    primary(nesting);
    if (accept('^')) {
      unary(nesting + 1);
      emit(Op::pow);
    }
  }

  void primary(int nesting) {
    skip_space();
    if (pos_ == s_.size()) fail("expected a number, a name or '(' but the expression ended", pos_);
    const char c = s_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      number();
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      name(nesting);
    } else if (c == '(') {
      ++pos_;
      expression(nesting + 1);
      expect(')');
    } else {
      fail(std::string("unexpected '") + c + "'", pos_);
    }
  }

  void number() {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      return pos_ - from;
    };
    std::size_t n = digits();
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      n += digits();
    }
    if (n == 0) fail("malformed number", start);
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) fail("malformed exponent of a number", start);
    }
    double v = 0.0;
    const auto r = std::from_chars(s_.data() + start, s_.data() + pos_, v);
    if (r.ec != std::errc() || r.ptr != s_.data() + pos_) fail("malformed number", start);
    code_->push_back({Op::constant, 0, v});
  }

  void name(int nesting) {
    const std::size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
      ++pos_;
    const std::string id = s_.substr(start, pos_ - start);
    if (const Function* f = find_function(id)) {
      if (!accept('(')) fail("function '" + id + "' needs arguments in parentheses", pos_);
      expression(nesting + 1);
      for (int k = 1; k < f->arity; ++k) {
        if (!accept(','))
          fail("function '" + id + "' takes " + std::to_string(f->arity) + " arguments", pos_);
        expression(nesting + 1);
      }
      if (accept(','))
        fail("function '" + id + "' takes " + std::to_string(f->arity) +
                 (f->arity == 1 ? " argument" : " arguments"),
             pos_ - 1);
      expect(')');
      emit(f->op);
      return;
    }
    if (id == "pi") {
      code_->push_back({Op::constant, 0, std::numbers::pi});
      return;
    }
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == '(') fail("unknown function '" + id + "'", start);
    auto& vars = *vars_;
    const auto it = std::find(vars.begin(), vars.end(), id);
    const auto slot = static_cast<std::uint32_t>(it - vars.begin());
    if (it == vars.end()) vars.push_back(id);
    code_->push_back({Op::variable, slot, 0.0});
  }

  const std::string& s_;
  std::size_t pos_ = 0;
  std::vector<Instr>* code_ = nullptr;
  std::vector<std::string>* vars_ = nullptr;
};

int stack_depth(const std::vector<Instr>& code) {
  int top = 0, most = 0;
  for (const Instr& in : code) {
    top += 1 - arity(in.op);
    most = std::max(most, top);
  }
  return most;
}

} // namespace

bool Expression::is_reserved(std::string_view name) {
  return name == "pi" || find_function(name) != nullptr;
}

Expression Expression::parse(const std::string& text) {
  Expression e;
  e.text_ = text;
  Parser(text).parse(e.code_, e.variables_);
  e.depth_ = stack_depth(e.code_);
  if (e.depth_ > kMaxDepth)
    throw std::invalid_argument("expression '" + text + "' is too complex to evaluate (needs " +
                                std::to_string(e.depth_) + " stack slots, at most " +
                                std::to_string(kMaxDepth) + ")");
  return e;
}

double Expression::eval(std::span<const double> values) const {
  if (values.size() < variables_.size())
    throw std::invalid_argument("expression '" + text_ + "' needs " +
                                std::to_string(variables_.size()) + " values, got " +
                                std::to_string(values.size()));
  return run(code_, values.data());
}

double Expression::eval(const std::function<double(std::string_view)>& lookup) const {
  std::vector<double> values;
  values.reserve(variables_.size());
  for (const auto& v : variables_) values.push_back(lookup(v));
  return run(code_, values.data());
}

BoundExpression Expression::bind(const std::vector<std::string>& names) const {
  std::vector<std::uint32_t> slot_of(variables_.size());
  for (std::size_t k = 0; k < variables_.size(); ++k) {
    const auto it = std::find(names.begin(), names.end(), variables_[k]);
    if (it == names.end())
      throw std::invalid_argument("unknown name '" + variables_[k] + "' in expression '" + text_ +
                                  "'");
    slot_of[k] = static_cast<std::uint32_t>(it - names.begin());
  }
  BoundExpression b;
  b.code_ = code_;
  for (Instr& in : b.code_)
    if (in.op == Op::variable) in.slot = slot_of[in.slot];
  return b;
}

double BoundExpression::operator()(const double* values) const {
  return run(code_, values);
}

} // namespace glia
