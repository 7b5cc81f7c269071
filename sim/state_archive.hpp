// Named arrays of plain numbers: what every stateful part of a running simulation
// (populations, projections, rules, modulators, inputs) hands to a checkpoint and takes
// back on resume. Parts only put and get their own keys (prefixed by the caller); the
// checkpoint writer (io/) turns each entry into one HDF5 dataset of the same type, so
// a checkpoint is readable with h5py and an entry's type is checked when it is read.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace glia {

enum class ArchiveType : std::uint8_t { f64, i64, u64, u32, u16, u8, f32 };

template <class T> constexpr ArchiveType archive_type_of() {
  if constexpr (std::is_same_v<T, double>)
    return ArchiveType::f64;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return ArchiveType::i64;
  else if constexpr (std::is_same_v<T, std::uint64_t>)
    return ArchiveType::u64;
  else if constexpr (std::is_same_v<T, std::uint32_t>)
    return ArchiveType::u32;
  else if constexpr (std::is_same_v<T, std::uint16_t>)
    return ArchiveType::u16;
  else if constexpr (std::is_same_v<T, float>)
    return ArchiveType::f32;
  else {
    static_assert(std::is_same_v<T, std::uint8_t>, "unsupported archive element type");
    return ArchiveType::u8;
  }
}

class StateArchive {
public:
  struct Entry {
    ArchiveType type = ArchiveType::f64;
    std::size_t count = 0;
    std::vector<unsigned char> bytes;
  };

  template <class T> void put(const std::string& key, const T* data, std::size_t n) {
    Entry e;
    e.type = archive_type_of<T>();
    e.count = n;
    e.bytes.resize(n * sizeof(T));
    if (n) std::memcpy(e.bytes.data(), data, n * sizeof(T));
    entries_[key] = std::move(e);
  }
  template <class T, class A> void put(const std::string& key, const std::vector<T, A>& v) {
    put(key, v.data(), v.size());
  }
  template <class T> void put_scalar(const std::string& key, T v) { put(key, &v, 1); }
  // A new entry of n values for the caller to fill in place (large arrays gathered in
  // another order, without a temporary copy). The pointer is valid until the next put.
  template <class T> T* put_array(const std::string& key, std::size_t n) {
    Entry& e = entries_[key];
    e.type = archive_type_of<T>();
    e.count = n;
    e.bytes.assign(n * sizeof(T), 0);
    return reinterpret_cast<T*>(e.bytes.data());
  }

  bool has(const std::string& key) const { return entries_.count(key) != 0; }

  // Throws std::runtime_error naming the key when it is missing or of another type.
  template <class T> std::vector<T> get(const std::string& key) const {
    const Entry& e = entry<T>(key);
    std::vector<T> v(e.count);
    if (e.count) std::memcpy(v.data(), e.bytes.data(), e.bytes.size());
    return v;
  }
  template <class T> T get_scalar(const std::string& key) const {
    const Entry& e = entry<T>(key);
    if (e.count != 1)
      throw std::runtime_error("checkpoint entry '" + key + "' is not a single value");
    T v;
    std::memcpy(&v, e.bytes.data(), sizeof(T));
    return v;
  }
  // Reads into an existing array of the expected length (state whose size the built
  // network fixes); a different length means the checkpoint is of another network.
  template <class T> void get_into(const std::string& key, T* data, std::size_t n) const {
    const T* from = view<T>(key, n);
    if (n) std::memcpy(data, from, n * sizeof(T));
  }
  template <class T, class A> void get_into(const std::string& key, std::vector<T, A>& v) const {
    get_into(key, v.data(), v.size());
  }
  // The values of an entry of the expected length, in place (large arrays scattered in
  // another order); valid while the archive is unchanged.
  template <class T> const T* view(const std::string& key, std::size_t n) const {
    const Entry& e = entry<T>(key);
    if (e.count != n)
      throw std::runtime_error("checkpoint entry '" + key + "' has " + std::to_string(e.count) +
                               " values, the network has " + std::to_string(n) +
                               " (a checkpoint of another network?)");
    return reinterpret_cast<const T*>(e.bytes.data());
  }

  const std::map<std::string, Entry>& entries() const { return entries_; }
  std::map<std::string, Entry>& entries() { return entries_; }

private:
  template <class T> const Entry& entry(const std::string& key) const {
    const auto it = entries_.find(key);
    if (it == entries_.end())
      throw std::runtime_error("checkpoint has no entry '" + key +
                               "' (written by another version or network?)");
    if (it->second.type != archive_type_of<T>())
      throw std::runtime_error("checkpoint entry '" + key + "' has another type");
    return it->second;
  }
  std::map<std::string, Entry> entries_;
};

} // namespace glia
