// The characters toml++ 3.3 must not see (io/toml_guard.hpp): experiments with them
// parse (no undefined behaviour, which the fuzzer's UBSan build would report), strings
// keep them, and messages show them. The upstream reproducers of toml++ issues #190
// and #295 are among the cases.
#include "io/experiment.hpp"
#include "io/toml_guard.hpp"

#include <catch2/catch.hpp>

using namespace glia;

namespace {

const std::string kBase = "[run]\nduration = 20.0\n\n[[population]]\nname = \"E\"\n"
                          "model = \"lif_delta\"\nsize = 10\n";

} // namespace

TEST_CASE("TomlShield replaces exactly the characters toml++ cannot classify, and restores them",
          "[toml_guard]") {
  // é (U+00E9), τ (U+03C4), あ (U+3042) are replaced; ü in Latin-1 too; ASCII, U+00A0,
  // U+2000 (a case toml++ handles) and a CJK ideograph stay.
  const std::string text = "# \xc3\xa9 \xcf\x84 \xe3\x81\x82 \xc2\xa0 \xe2\x80\x80 \xe4\xb8\x80 x";
  const TomlShield shield(text);
  CHECK(shield.text() != text);
  CHECK(shield.text().find("\xc3\xa9") == std::string::npos);
  CHECK(shield.text().find("\xcf\x84") == std::string::npos);
  CHECK(shield.text().find("\xe3\x81\x82") == std::string::npos);
  CHECK(shield.text().find("\xc2\xa0 \xe2\x80\x80 \xe4\xb8\x80 x") != std::string::npos);
  CHECK(shield.restore(shield.text()) == text);
  // A placeholder the text already holds is not used.
  const std::string with_private = "\xee\x80\x80 \xc2\xb5";
  const TomlShield other(with_private);
  CHECK(other.text().substr(0, 3) == "\xee\x80\x80");
  CHECK(other.restore(other.text()) == with_private);
  const TomlShield none("plain ascii");
  CHECK(none.text() == "plain ascii");
}

// The message of the InputError that parsing `text` throws.
std::string error_of(const std::string& text) {
  try {
    parse_experiment(text, "e.toml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST_CASE("experiments with such characters: no undefined behaviour, originals in messages",
          "[toml_guard]") {
  // In comments: a valid experiment.
  const Experiment ex = parse_experiment("# 20 \xc2\xb5s, \xcf\x84_m = 10 ms\n" + kBase, "e.toml");
  CHECK(ex.populations.size() == 1);
  CHECK(ex.source_text.find("\xcf\x84_m") != std::string::npos);
  // toml++ issue #190: a line-ending backslash, then one of the characters; the string
  // is read (and refused by the validator, naming it as written).
  CHECK_THAT(error_of(kBase + "integrator = \"\"\"\\\n   \xc2\xa7\"\"\"\n"),
             Catch::Contains("e.toml:8:") && Catch::Contains("'\xc2\xa7'"));
  // toml++ issue #295: two bytes at the top level.
  CHECK_THAT(error_of("\xcc\xaa"), Catch::Contains("e.toml:1:1: invalid TOML"));
  // A unit typed after a number.
  CHECK_THAT(error_of("[run]\nduration = 20.0 \xc2\xb5s\n"),
             Catch::Contains("e.toml:2:") && Catch::Contains("invalid TOML"));
  // A key with one: unknown, and shown as written.
  CHECK_THAT(error_of(kBase + "[population.params]\n\"\xcf\x84_m\" = 10.0\n"),
             Catch::Contains("\xcf\x84_m"));
}
