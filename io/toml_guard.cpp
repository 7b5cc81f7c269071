// Characters toml++ 3.3 must not see (see toml_guard.hpp).
#include "io/toml_guard.hpp"

#include <cstdint>
#include <unordered_set>

namespace glia {
namespace {

// toml++ 3.3's is_non_ascii_horizontal_whitespace, down to the switch whose default
// is unreachable: true where that default is reached.
bool toml_cannot_classify(char32_t c) {
  if (c < 0xA0 || c > 0xFEFF) return false;
  const std::uint64_t child = (static_cast<std::uint64_t>(c) - 0xA0) / 0x3FA;
  if ((1ull << child) & 0x7FFFFFFFFFFFF75Eull) return false;
  if (c == 0xA0 || c == 0x3000 || c == 0xFEFF) return false;
  return child != 0x05 && child != 0x07;
}

// One well-formed UTF-8 sequence at s[i]: its code point and length; length 0 when the
// bytes there are ASCII or not well-formed (left for toml++ to judge).
std::size_t decode(std::string_view s, std::size_t i, char32_t& c) {
  const auto b = static_cast<unsigned char>(s[i]);
  const std::size_t n = b >= 0xC2 && b <= 0xDF   ? 2
                        : b >= 0xE0 && b <= 0xEF ? 3
                        : b >= 0xF0 && b <= 0xF4 ? 4
                                                 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  c = b & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (std::size_t k = 1; k < n; ++k) {
    const auto t = static_cast<unsigned char>(s[i + k]);
    if ((t & 0xC0) != 0x80) return 0;
    c = (c << 6) | (t & 0x3F);
  }
  const bool overlong = (n == 3 && c < 0x800) || (n == 4 && c < 0x10000);
  if (overlong || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  return n;
}

void encode(char32_t c, std::string& out) {
  if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
  } else {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
  }
  out += static_cast<char>(0x80 | (c & 0x3F));
}

// Calls f(position, length, code point) for every well-formed non-ASCII sequence.
template <class F> void for_each_code_point(std::string_view s, F&& f) {
  for (std::size_t i = 0; i < s.size();) {
    char32_t c = 0;
    const std::size_t n = decode(s, i, c);
    if (n > 0) f(i, n, c);
    i += n > 0 ? n : 1;
  }
}

} // namespace

TomlShield::TomlShield(std::string_view text) {
  std::unordered_set<char32_t> used;
  bool any = false;
  for_each_code_point(text, [&](std::size_t, std::size_t, char32_t c) {
    used.insert(c);
    any = any || toml_cannot_classify(c);
  });
  if (!any) {
    text_ = text;
    return;
  }
  // Placeholders from the private-use area (E000-F8FF, three bytes, which toml++ tells
  // from whitespace without reaching the switch), none that the text itself contains.
  std::unordered_map<char32_t, char32_t> to;
  char32_t next = 0xE000;
  std::size_t copied = 0;
  for_each_code_point(text, [&](std::size_t at, std::size_t n, char32_t c) {
    if (!toml_cannot_classify(c)) return;
    auto [it, fresh] = to.try_emplace(c, 0);
    if (fresh) {
      while (next <= 0xF8FF && used.count(next)) ++next;
      if (next > 0xF8FF) return; // thousands of distinct characters: left as they are
      it->second = next++;
      back_[it->second] = c;
    }
    if (it->second == 0) return;
    text_.append(text.substr(copied, at - copied));
    encode(it->second, text_);
    copied = at + n;
  });
  text_.append(text.substr(copied));
}

std::string TomlShield::restore(std::string_view s) const {
  if (back_.empty()) return std::string(s);
  std::string out;
  std::size_t copied = 0;
  for_each_code_point(s, [&](std::size_t at, std::size_t n, char32_t c) {
    const auto it = back_.find(c);
    if (it == back_.end()) return;
    out.append(s.substr(copied, at - copied));
    encode(it->second, out);
    copied = at + n;
  });
  out.append(s.substr(copied));
  return out;
}

} // namespace glia
