// What toml++ must not see. toml++ 3.3 (Debian 12) reaches undefined behaviour
// (__builtin_unreachable in is_non_ascii_horizontal_whitespace; upstream issues #190
// and #295, fixed after 3.3) when it asks whether certain non-ASCII characters are
// whitespace: most of Latin-1, Greek and Cyrillic (U+00A1-U+0499: é, µ, °, τ, ...),
// U+2C8E-U+3087 and U+FB36-U+FEFE. It asks that between tokens, where any such
// character is an error, but also inside strings after a line-ending backslash, so the
// characters cannot simply be refused. Instead the text toml++ parses has each of them
// replaced by a private-use character (which toml++ treats alike, except that it is
// safely not whitespace), and the strings of the parsed document, and messages, get
// the original characters back. Found by the experiment-file fuzzer (fuzz/).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace glia {

class TomlShield {
public:
  explicit TomlShield(std::string_view text);
  // The text to parse: `text` with the characters replaced (the same text when none).
  const std::string& text() const { return text_; }
  // `s` (a parsed string, a message) with the original characters put back.
  std::string restore(std::string_view s) const;

private:
  std::string text_;
  std::unordered_map<char32_t, char32_t> back_; // placeholder -> original
};

} // namespace glia
