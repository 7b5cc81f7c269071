// Checkpoint files: the complete state of a run at a step boundary (a StateArchive,
// one HDF5 dataset per entry under /state), plus what is needed to continue it: the
// resolved experiment, the step, the output file and how many entries each of its
// reports held when the checkpoint was taken (as root and /output attributes).
// Readable with h5py. Written atomically: into "<path>.tmp", synced, then renamed over
// the previous checkpoint, so a crash or a full disk at any moment leaves the previous
// checkpoint whole.
#pragma once

#include "sim/state_archive.hpp"

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace glia {

// A file that is not a readable glia checkpoint (bad input: exit code 2).
class CheckpointError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct CheckpointInfo {
  std::string glia_version;
  std::string experiment;        // resolved text (after --set)
  std::string experiment_path;   // absolute: relative paths inside resolve against it
  std::string experiment_source; // the file as read
  std::string overrides;         // the --set arguments, one per line
  std::uint64_t step = 0;        // steps done
  double dt = 0.0;               // ms
  std::int64_t threads = 0;      // of the run that wrote it (any count can resume)
  std::string output_path;
  std::map<std::string, std::uint64_t> output_counts; // Hdf5Output::record_counts()
  double wall_time_s = 0.0;                           // of all segments so far
  std::string created;
  double time_ms() const { return static_cast<double>(step) * dt; }
};

struct Checkpoint {
  CheckpointInfo info;
  StateArchive state;
};

// Throws OutputError (I/O failure; the previous checkpoint at `path` is untouched).
void write_checkpoint(const std::string& path, const CheckpointInfo& info,
                      const StateArchive& state);
// Throws CheckpointError.
Checkpoint read_checkpoint(const std::string& path);

} // namespace glia
