// One thread per connection; a failure ends the program.
#include "connection_threads.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

namespace nbdref::bench {

void run_per_connection(unsigned count, const std::function<void(unsigned)>& job) {
  std::vector<std::string> failures(count);
  std::vector<std::thread> threads;
  threads.reserve(count);
  for (unsigned i = 0; i < count; ++i) {
    threads.emplace_back([&job, &failures, i] {
      try {
        job(i);
      } catch (const std::exception& e) {
        failures[i] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  bool failed = false;
  for (unsigned i = 0; i < count; ++i) {
    if (failures[i].empty()) continue;
    std::fprintf(stderr, "bench: connection %u: %s\n", i + 1, failures[i].c_str());
    failed = true;
  }
  if (failed) std::exit(1);
}

}  // namespace nbdref::bench
