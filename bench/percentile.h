// The benchmarks' one percentile: the nearest rank of the sorted values
// (p = 0.5 is the median: the upper middle of an even count).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace etl::bench {

inline double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5)];
}

}  // namespace etl::bench
