#include "transport/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace nbdref::transport {
namespace {

bool is_open(int fd) {
  return fcntl(fd, F_GETFD) != -1;
}

struct Pipe {
  Pipe() { EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0); }
  int fds[2];
};

TEST(UniqueFd, ClosesItsDescriptorOnDestruction) {
  Pipe p;
  UniqueFd write_end(p.fds[1]);
  {
    UniqueFd read_end(p.fds[0]);
    EXPECT_TRUE(read_end);
    EXPECT_EQ(read_end.get(), p.fds[0]);
  }
  EXPECT_FALSE(is_open(p.fds[0]));
}

TEST(UniqueFd, DefaultIsEmpty) {
  UniqueFd fd;
  EXPECT_FALSE(fd);
  EXPECT_EQ(fd.get(), -1);
}

TEST(UniqueFd, ReleaseGivesUpOwnershipWithoutClosing) {
  Pipe p;
  UniqueFd write_end(p.fds[1]);
  int raw;
  {
    UniqueFd read_end(p.fds[0]);
    raw = read_end.release();
    EXPECT_FALSE(read_end);
  }
  EXPECT_TRUE(is_open(raw));
  close(raw);
}

TEST(UniqueFd, MoveTransfersOwnership) {
  Pipe p;
  UniqueFd write_end(p.fds[1]);
  UniqueFd a(p.fds[0]);
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a);  // the moved-from object no longer owns it
  EXPECT_EQ(b.get(), p.fds[0]);
  UniqueFd c;
  c = std::move(b);
  EXPECT_EQ(c.get(), p.fds[0]);
  EXPECT_TRUE(is_open(p.fds[0]));
}

TEST(UniqueFd, ResetClosesTheOldDescriptorAndKeepsTheNew) {
  Pipe p;
  UniqueFd fd(p.fds[0]);
  fd.reset(p.fds[1]);
  EXPECT_FALSE(is_open(p.fds[0]));
  EXPECT_EQ(fd.get(), p.fds[1]);
  fd.reset();
  EXPECT_FALSE(is_open(p.fds[1]));
  EXPECT_FALSE(fd);
}

}  // namespace
}  // namespace nbdref::transport
