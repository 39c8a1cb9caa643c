// Reads and writes through the installed C++ API against nbdkit.
#include <cstdio>
#include <vector>

#include <nbdref/client.hpp>

int main() {
  try {
    nbdref::Client c;
    c.connect_command({"nbdkit", "-s", "--exit-with-parent", "memory", "1M"});
    std::vector<std::byte> out(512, std::byte{0x5a}), in(512);
    c.pwrite(out, 4096);
    c.pread(in, 4096);
    if (in != out) return 1;
    std::printf("consumer ok: size %llu\n", static_cast<unsigned long long>(c.size()));
    c.shutdown();
    return 0;
  } catch (const nbdref::ClientError& e) {
    std::fprintf(stderr, "%s (errno %d)\n", e.what(), e.errnum());
    return 1;
  }
}
