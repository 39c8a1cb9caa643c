// The metadata contexts this server knows (proto.md "Metadata querying"):
// just base:allocation, which reports the RAM disk's holes and zeroes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace nbdref::mock {

inline constexpr std::string_view BASE_ALLOCATION = "base:allocation";
// The id NBD_OPT_SET_META_CONTEXT gives base:allocation.
inline constexpr std::uint32_t BASE_ALLOCATION_ID = 1;

enum class ContextOption { List, Set };

// Whether `queries` name base:allocation under the rules of `option`, or
// why they are invalid (a query without a namespace and a colon).
tl::expected<bool, std::string> queries_select_allocation(std::span<const std::string_view> queries,
                                                          ContextOption option);

}  // namespace nbdref::mock
