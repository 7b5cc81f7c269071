// Checkpoint state of the step loop (see Simulator::save in simulator.hpp): the step,
// the recent spike lists that plastic projections read when the spikes arrive, the spike
// statistics behind the summary, buffered records, and the network's state. Spike lists
// are kept per thread block while running; they are saved as one list per step (blocks
// concatenated, which is neuron order) and split again by the loading network's blocks.
#include "sim/network_state.hpp"
#include "sim/simulator.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace glia {
namespace {

// The per-neuron arrays of spike statistics, by name (SpikeStats or const SpikeStats).
template <class Stats, class F> void for_each_stat_array(Stats& st, F&& f) {
  f("count", st.count);
  f("last_step", st.last_step);
  f("n_isi", st.n_isi);
  f("isi_sum", st.isi_sum);
  f("isi_sumsq", st.isi_sumsq);
}

} // namespace

void Simulator::save(StateArchive& ar) const {
  ar.put_scalar<std::uint64_t>("simulator/step", step_);
  ar.put_scalar<std::uint64_t>("simulator/history", history_);
  for (std::size_t p = 0; p < spikes_.size(); ++p) {
    std::vector<std::uint64_t> counts(history_, 0);
    std::vector<std::uint32_t> ids;
    for (std::size_t h = 0; h < history_; ++h)
      for (const auto& blk : spikes_[p]) {
        counts[h] += blk[h].size();
        ids.insert(ids.end(), blk[h].begin(), blk[h].end());
      }
    ar.put(indexed_key("simulator/spikes", p) + "counts", counts);
    ar.put(indexed_key("simulator/spikes", p) + "ids", ids);
    const std::string k = indexed_key("simulator/stats", p);
    for_each_stat_array(stats_[p], [&](const char* name, const auto& v) { ar.put(k + name, v); });
    ar.put_scalar<std::uint64_t>(k + "total", stats_[p].total);
  }
  // With a sink, records are flushed at every checkpoint; without one they hold the
  // whole run so far.
  if (!sink_) {
    for (std::size_t r = 0; r < spike_records_.size(); ++r) {
      ar.put(indexed_key("simulator/spike_record", r) + "times", spike_records_[r].times);
      ar.put(indexed_key("simulator/spike_record", r) + "ids", spike_records_[r].ids);
    }
    for (std::size_t r = 0; r < state_records_.size(); ++r) {
      const StateRecord& rec = state_records_[r];
      ar.put(indexed_key("simulator/state_record", r) + "rows", rec.rows.data(),
             rec.n_rows * rec.neurons.size());
    }
  }
  save_network_state(net_, ar);
}

void Simulator::load(const StateArchive& ar) {
  if (ar.get_scalar<std::uint64_t>("simulator/history") != history_)
    throw std::runtime_error("checkpoint keeps spikes of another number of steps than this "
                             "network's plastic delays need (a checkpoint of another network?)");
  step_ = ar.get_scalar<std::uint64_t>("simulator/step");
  for (std::size_t p = 0; p < spikes_.size(); ++p) {
    const auto counts = ar.get<std::uint64_t>(indexed_key("simulator/spikes", p) + "counts");
    const auto ids = ar.get<std::uint32_t>(indexed_key("simulator/spikes", p) + "ids");
    if (counts.size() != history_)
      throw std::runtime_error("checkpoint entry '" + indexed_key("simulator/spikes", p) +
                               "counts' has " + std::to_string(counts.size()) +
                               " steps, expected " + std::to_string(history_));
    const auto& blocks = net_.blocks(static_cast<int>(p));
    std::size_t at = 0;
    for (std::size_t h = 0; h < history_; ++h) {
      if (counts[h] > ids.size() - at)
        throw std::runtime_error("checkpoint entry '" + indexed_key("simulator/spikes", p) +
                                 "ids' is too short");
      const auto first = ids.begin() + static_cast<std::ptrdiff_t>(at);
      const auto last = first + static_cast<std::ptrdiff_t>(counts[h]);
      for (std::size_t b = 0; b < blocks.size(); ++b) {
        auto& list = spikes_[p][b][h];
        const auto lo = std::lower_bound(first, last, blocks[b].first);
        const auto hi = std::lower_bound(lo, last, blocks[b].second);
        list.assign(lo, hi);
      }
      at += counts[h];
    }
    const std::string k = indexed_key("simulator/stats", p);
    for_each_stat_array(stats_[p], [&](const char* name, auto& v) { ar.get_into(k + name, v); });
    stats_[p].total = ar.get_scalar<std::uint64_t>(k + "total");
  }
  if (!sink_) {
    for (std::size_t r = 0; r < spike_records_.size(); ++r) {
      spike_records_[r].times = ar.get<double>(indexed_key("simulator/spike_record", r) + "times");
      spike_records_[r].ids =
          ar.get<std::uint64_t>(indexed_key("simulator/spike_record", r) + "ids");
    }
    for (std::size_t r = 0; r < state_records_.size(); ++r) {
      StateRecord& rec = state_records_[r];
      rec.rows = ar.get<double>(indexed_key("simulator/state_record", r) + "rows");
      rec.n_rows = rec.neurons.empty() ? step_ / rec.every : rec.rows.size() / rec.neurons.size();
    }
  }
  load_network_state(net_, ar);
}

} // namespace glia
