// Session tests run once per feed mode: the server must answer the same
// whether the client's bytes arrive whole, one at a time, or split in two.
#pragma once

#include <gtest/gtest.h>

#include "session_driver.hpp"

namespace nbdref::mock::test {

class SessionTest : public ::testing::TestWithParam<FeedMode> {
 protected:
  SessionDriver make(ServeConfig config = default_config()) {
    return SessionDriver(std::move(config), GetParam());
  }
};

#define NBDREF_SESSION_TEST_SUITE(Suite)                                                         \
  INSTANTIATE_TEST_SUITE_P(                                                                      \
      FeedModes, Suite, ::testing::Values(FeedMode::Whole, FeedMode::Bytewise, FeedMode::Split), \
      [](const auto& p) { return feed_mode_name(p.param); })

}  // namespace nbdref::mock::test
