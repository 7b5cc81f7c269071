// Tests of the per-neuron expression evaluator: grammar, precedence, functions,
// variable binding and error positions.
#include "io/expression.hpp"

#include <catch2/catch.hpp>

#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using glia::Expression;

double value_of(const std::string& text) {
  return Expression::parse(text).eval(std::span<const double>{});
}

std::string parse_error(const std::string& text) {
  try {
    Expression::parse(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  FAIL("no error for '" << text << "'");
  return {};
}

} // namespace

TEST_CASE("expression: numbers, operators and precedence", "[io]") {
  CHECK(value_of("1 + 2 * 3") == 7.0);
  CHECK(value_of("(1 + 2) * 3") == 9.0);
  CHECK(value_of("10 - 4 - 3") == 3.0);
  CHECK(value_of("12 / 3 / 2") == 2.0);
  CHECK(value_of("2^3^2") == 512.0); // right-associative
  CHECK(value_of("-2^2") == -4.0);   // power binds tighter than unary minus
  CHECK(value_of("2^-1") == 0.5);
  CHECK(value_of("--3") == 3.0);
  CHECK(value_of("+4") == 4.0);
  CHECK(value_of("1e-3 * 1000") == Approx(1.0));
  CHECK(value_of("2.5E2") == 250.0);
  CHECK(value_of(".5 + 5.") == 5.5);
  CHECK(value_of("  7\t") == 7.0);
}

TEST_CASE("expression: functions and constants", "[io]") {
  CHECK(value_of("exp(0)") == 1.0);
  CHECK(value_of("log(exp(2))") == Approx(2.0));
  CHECK(value_of("sqrt(16)") == 4.0);
  CHECK(value_of("abs(-3)") == 3.0);
  CHECK(value_of("min(1, 2)") == 1.0);
  CHECK(value_of("max(1, 2)") == 2.0);
  CHECK(value_of("pow(2, 10)") == 1024.0);
  CHECK(value_of("2 * pi") == Approx(2.0 * std::numbers::pi));
  CHECK(Expression::is_reserved("exp"));
  CHECK(Expression::is_reserved("pi"));
  CHECK_FALSE(Expression::is_reserved("r"));
}

TEST_CASE("expression: variables by lookup, by position and bound to a names table", "[io]") {
  const Expression e = Expression::parse("-65 + 15 * r^2 + 0 * r * tau_m");
  CHECK_FALSE(e.is_constant());
  REQUIRE(e.variables() == std::vector<std::string>{"r", "tau_m"}); // each once, in order

  CHECK(e.eval([](std::string_view name) { return name == "r" ? 0.5 : 10.0; }) == -61.25);
  const std::vector<double> values{0.5, 10.0};
  CHECK(e.eval(values) == -61.25);

  // Bound to a per-neuron table whose order differs from the expression's.
  const std::vector<std::string> names{"a", "tau_m", "r"};
  const glia::BoundExpression b = e.bind(names);
  for (double r : {0.0, 0.25, 1.0}) {
    const double row[] = {99.0, 10.0, r};
    CHECK(b(row) == Approx(-65.0 + 15.0 * r * r));
  }
  CHECK_THROWS_WITH(e.bind({"tau_m"}), Catch::Contains("unknown name 'r'"));
  CHECK_THROWS_AS(e.eval(std::vector<double>{1.0}), std::invalid_argument);
}

TEST_CASE("expression: constant subexpressions are folded", "[io]") {
  const Expression e = Expression::parse("2 * 3 + exp(0)");
  CHECK(e.is_constant());
  CHECK(e.eval(std::span<const double>{}) == 7.0);
  const Expression v = Expression::parse("x * (2 + 3)");
  CHECK(v.eval(std::vector<double>{2.0}) == 10.0);
}

TEST_CASE("expression: errors name the column", "[io]") {
  CHECK_THAT(parse_error(""), Catch::Contains("empty expression"));
  CHECK_THAT(parse_error("1 +"), Catch::Contains("expression ended"));
  CHECK_THAT(parse_error("(1 + 2"), Catch::Contains("expected ')'"));
  CHECK_THAT(parse_error("1 2"), Catch::Contains("unexpected '2' at column 3"));
  CHECK_THAT(parse_error("3 $ 4"), Catch::Contains("unexpected '$' at column 3"));
  CHECK_THAT(parse_error("foo(1)"), Catch::Contains("unknown function 'foo' at column 1"));
  CHECK_THAT(parse_error("exp + 1"), Catch::Contains("function 'exp' needs arguments"));
  CHECK_THAT(parse_error("min(1)"), Catch::Contains("'min' takes 2 arguments"));
  CHECK_THAT(parse_error("abs(1, 2)"), Catch::Contains("'abs' takes 1 argument"));
  CHECK_THAT(parse_error("1e+"), Catch::Contains("malformed exponent"));
  CHECK_THAT(parse_error(std::string(200, '(') + "1" + std::string(200, ')')),
             Catch::Contains("nested too deeply"));
}
