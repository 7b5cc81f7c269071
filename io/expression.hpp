// Arithmetic expressions for per-neuron values in experiment files, e.g.
// c = "-65 + 15 * r^2". Grammar: numbers (1, 2.5, 1e-3), identifiers, + - * /, ^ (power,
// right-associative, binds tighter than unary minus: -2^2 = -4), parentheses, the
// constant pi, and the functions exp, log, sqrt, abs (one argument) and min, max, pow
// (two arguments). An expression is parsed once into postfix code with variable slots
// (constant subexpressions folded), then evaluated per neuron without allocation.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace glia {

namespace expr_detail {
enum class Op : std::uint8_t {
  constant,
  variable,
  neg,
  add,
  sub,
  mul,
  div,
  pow,
  exp,
  log,
  sqrt,
  abs,
  min,
  max
};
struct Instr {
  Op op;
  std::uint32_t slot = 0; // variable
  double value = 0.0;     // constant
};
} // namespace expr_detail

// An expression whose variables are bound to positions of a caller's value array.
class BoundExpression {
public:
  // values[k] is the value of the k-th name given to Expression::bind.
  double operator()(const double* values) const;

private:
  friend class Expression;
  std::vector<expr_detail::Instr> code_;
};

class Expression {
public:
  // Throws std::invalid_argument with the column of the problem.
  static Expression parse(const std::string& text);

  const std::string& text() const { return text_; }
  // Identifiers referenced, each once, in order of first appearance.
  const std::vector<std::string>& variables() const { return variables_; }
  bool is_constant() const { return variables_.empty(); }

  // values[k] is the value of variables()[k].
  double eval(std::span<const double> values) const;
  // Looks every variable up once, then evaluates.
  double eval(const std::function<double(std::string_view)>& lookup) const;
  // Binds the variables to positions in `names`; throws std::invalid_argument naming
  // the first variable that is not among them.
  BoundExpression bind(const std::vector<std::string>& names) const;

  // Whether `name` is reserved (a function or a named constant), so it cannot be a variable.
  static bool is_reserved(std::string_view name);

private:
  std::string text_;
  std::vector<std::string> variables_;
  std::vector<expr_detail::Instr> code_;
  int depth_ = 0;
};

} // namespace glia
