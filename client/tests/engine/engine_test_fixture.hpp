// Engine tests run once per feed mode: the same conversation must give the
// same result whether the server's bytes arrive whole, one at a time, or
// split in two.
#pragma once

#include <gtest/gtest.h>

#include "engine_harness.hpp"

namespace nbdref::test {

class EngineTest : public ::testing::TestWithParam<FeedMode> {
 protected:
  EngineHarness make(engine::ConnectionConfig config = {}) {
    return EngineHarness(std::move(config), GetParam());
  }
};

#define NBDREF_ENGINE_TEST_SUITE(Suite)                                                          \
  INSTANTIATE_TEST_SUITE_P(                                                                      \
      FeedModes, Suite, ::testing::Values(FeedMode::Whole, FeedMode::Bytewise, FeedMode::Split), \
      [](const auto& p) { return feed_mode_name(p.param); })

}  // namespace nbdref::test
