// Other people's NBD clients against nbdref-mock serving RAM disks
// (mockserver/scripts/serve/ram-disks.nbd): libnbd's nbdinfo and nbdcopy,
// qemu's qemu-img and qemu-io. Each must do its job, and the mock must judge
// every connection as having completed the script.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "support/program_run.hpp"
#include "third_party/mock_process.hpp"

namespace nbdref::test {
namespace {

const std::string RAM_DISKS = std::string(NBDREF_MOCK_SCRIPTS) + "/serve/ram-disks.nbd";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The mock judged the client's connections: at least one verdict (the
// last may still be on its way when the client exits), none failed.
void expect_verdicts_completed(const MockProcess& mock) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!contains(mock.output(), ": completed") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const std::string out = mock.output();
  EXPECT_TRUE(contains(out, ": completed")) << out;
  EXPECT_FALSE(contains(out, "FAILED")) << out;
}

std::vector<char> pattern(std::size_t size) {
  std::vector<char> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 7 + i / 4096) & 0xff);
  return bytes;
}

std::string write_file(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

std::vector<char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Nbdinfo, ListsEveryExportWithSizeDescriptionAndReadOnlyFlag) {
  MockProcess mock(RAM_DISKS);
  const ProgramRun run = run_program({"nbdinfo", "--list", mock.uri()});
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_TRUE(contains(run.output, "export=\"\":")) << run.output;
  EXPECT_TRUE(contains(run.output, "export=\"small\":")) << run.output;
  EXPECT_TRUE(contains(run.output, "export=\"scratch\":")) << run.output;
  EXPECT_TRUE(contains(run.output, "description: nbdref mock scratch disk")) << run.output;
  EXPECT_TRUE(contains(run.output, "export-size: 67108864")) << run.output;
  EXPECT_TRUE(contains(run.output, "export-size: 1048576")) << run.output;
  EXPECT_TRUE(contains(run.output, "is_read_only: true")) << run.output;
  expect_verdicts_completed(mock);
}

TEST(Nbdinfo, ReportsSizeFlagsAndProtocol) {
  MockProcess mock(RAM_DISKS);
  const ProgramRun size = run_program({"nbdinfo", "--size", mock.uri()});
  ASSERT_EQ(size.status, 0) << describe(size);
  EXPECT_EQ(size.output, "67108864\n");
  const ProgramRun run = run_program({"nbdinfo", mock.uri()});
  ASSERT_EQ(run.status, 0) << describe(run);
  for (const char* line :
       {"protocol: newstyle-fixed", "is_read_only: false", "can_flush: true", "can_fua: true",
        "can_trim: true", "can_zero: true", "can_fast_zero: true", "can_cache: true",
        "can_df: true", "can_multi_conn: true", "base:allocation"}) {
    EXPECT_TRUE(contains(run.output, line)) << line << " missing from:\n" << run.output;
  }
  const ProgramRun read_only = run_program({"nbdinfo", "--is", "read-only", mock.uri("small")});
  EXPECT_EQ(read_only.status, 0) << describe(read_only);
  expect_verdicts_completed(mock);
}

TEST(Nbdinfo, MapShowsTheDataThenTheHole) {
  MockProcess mock(RAM_DISKS);
  const ProgramRun run = run_program({"nbdinfo", "--map", mock.uri()});
  ASSERT_EQ(run.status, 0) << describe(run);
  // The script's 17 bytes of data allocate the first 4 KiB page; the rest of
  // the 64 MiB is a hole that reads as zeroes.
  EXPECT_TRUE(contains(run.output, "         0        4096    0  data\n")) << run.output;
  EXPECT_TRUE(contains(run.output, "      4096    67104768    3  hole,zero\n")) << run.output;
  expect_verdicts_completed(mock);
}

TEST(Nbdcopy, CopiesInAndOutUnchanged) {
  MockProcess mock(RAM_DISKS);
  const auto data = pattern(4 << 20);
  const std::string in = write_file(mock.file("in.bin"), data);
  const std::string out = mock.file("out.bin");
  const ProgramRun copy_in = run_program({"nbdcopy", in, mock.uri("scratch")});
  ASSERT_EQ(copy_in.status, 0) << describe(copy_in);
  const ProgramRun copy_out = run_program({"nbdcopy", mock.uri("scratch"), out});
  ASSERT_EQ(copy_out.status, 0) << describe(copy_out);
  EXPECT_TRUE(read_file(out) == data) << "the copy out differs from what was copied in";
  expect_verdicts_completed(mock);
}

TEST(QemuImg, ConvertsIntoTheExportAndComparesIdentical) {
  MockProcess mock(RAM_DISKS);
  const std::string in = write_file(mock.file("in.bin"), pattern(4 << 20));
  const ProgramRun info =
      run_program({"qemu-img", "info", "--output=json", "-f", "raw", mock.uri("scratch2")});
  ASSERT_EQ(info.status, 0) << describe(info);
  EXPECT_TRUE(contains(info.output, "\"virtual-size\": 4194304")) << info.output;
  const ProgramRun convert = run_program(
      {"qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", in, mock.uri("scratch2")});
  ASSERT_EQ(convert.status, 0) << describe(convert);
  const ProgramRun compare =
      run_program({"qemu-img", "compare", "-f", "raw", "-F", "raw", in, mock.uri("scratch2")});
  EXPECT_EQ(compare.status, 0) << describe(compare);
  EXPECT_TRUE(contains(compare.output, "Images are identical.")) << compare.output;
  expect_verdicts_completed(mock);
}

TEST(QemuIo, WritesReadsBackAndDiscards) {
  MockProcess mock(RAM_DISKS);
  const ProgramRun run = run_program({"qemu-io", "-f", "raw", "-c", "write -P 0xab 65536 65536",
                                      "-c", "read -P 0xab 65536 65536", "-c", "discard 65536 65536",
                                      "-c", "read -P 0 65536 65536", mock.uri("scratch")});
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_TRUE(contains(run.output, "wrote 65536/65536 bytes at offset 65536")) << run.output;
  EXPECT_TRUE(contains(run.output, "discard 65536/65536 bytes at offset 65536")) << run.output;
  EXPECT_FALSE(contains(run.output, "Pattern verification failed")) << run.output;
  EXPECT_FALSE(contains(run.output, "failed")) << run.output;
  expect_verdicts_completed(mock);
}

}  // namespace
}  // namespace nbdref::test
