// A glia run's output opens in h5py (python3, without glia) with the SONATA spike and
// report layouts, the run metadata and the metrics.
#include "run_glia.hpp"

#include <catch2/catch.hpp>

using namespace glia::test;

TEST_CASE("run output is SONATA and readable with h5py", "[io][h5py]") {
  ScratchDir dir("sonata");
  const std::string exp = dir.write("exp.toml", R"([run]
duration = 50.0
dt = 0.1
seed = 7

[[population]]
name = "cells"
model = "lif_exp"
size = 10
[population.params]
I_e = 600.0

[[record]]
type = "spikes"
population = "cells"

[[record]]
type = "state"
population = "cells"
variables = ["V_m", "I_syn_ex"]
neurons = [2, 5]
interval = 0.5
)");
  const std::string out = dir / "out.h5";
  const RunResult r = run_glia("run " + exp + " -o " + out + " -q --set run.duration=40", dir);
  INFO(r.err);
  REQUIRE(r.code == 0);

  const std::string script = dir.write("check.py", R"(
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
g = f["/spikes/cells"]
assert g.attrs["sorting"] in ("by_time", b"by_time"), g.attrs["sorting"]
t, ids = g["timestamps"], g["node_ids"]
assert t.dtype == np.float64 and ids.dtype == np.uint64
assert t.attrs["units"] in ("ms", b"ms")
t, ids = t[()], ids[()]
assert len(t) == len(ids) and len(t) > 10
assert np.all(np.diff(t) >= 0) and t.max() <= 40.0 and t.min() > 0
assert set(ids.tolist()) == set(range(10))   # identical neurons, all firing
d = f["/report/cells/V_m/data"]
assert d.shape == (80, 2), d.shape            # 40 ms every 0.5 ms, two neurons
assert list(f["/report/cells/V_m/mapping/node_ids"][()]) == [2, 5]
start, stop, step = f["/report/cells/V_m/mapping/time"][()]
assert abs(step - 0.5) < 1e-12 and abs(start - 0.5) < 1e-12 and abs(stop - 40.5) < 1e-9
assert "/report/cells/I_syn_ex/data" in f
assert f.attrs["seed"] == 7
assert "duration = 40" in f.attrs["experiment"]   # the resolved text includes --set
assert "duration = 50.0" in f.attrs["experiment_source"]
assert f.attrs["glia_version"]
m = f["/metrics"].attrs
assert abs(m["rate_cells_hz"] - len(t) / 10 / 0.040) < 1e-9
assert m["wall_time_s"] > 0 and m["peak_rss_bytes"] > 0
print("ok")
)");
  const std::string cmd =
      "/usr/bin/python3 " + script + " " + out + " > " + (dir / "py.txt") + " 2>&1";
  const int rc = std::system(cmd.c_str());
  INFO(slurp(dir / "py.txt"));
  CHECK(rc == 0);
}
