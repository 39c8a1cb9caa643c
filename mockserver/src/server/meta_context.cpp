#include "server/meta_context.hpp"

namespace nbdref::mock {

tl::expected<bool, std::string> queries_select_allocation(std::span<const std::string_view> queries,
                                                          ContextOption option) {
  const bool listing = option == ContextOption::List;
  // S-BS-025: an empty LIST asks for every context; S-BS-035: an empty SET selects none.
  bool selected = listing && queries.empty();
  for (auto q : queries) {
    const auto colon = q.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      // S-BS-021 lets the server refuse what C-BS-006 / C-BS-011 forbid.
      return tl::unexpected("query '" + std::string(q.substr(0, 64)) +
                            "' does not start with a namespace and a colon [" +
                            (listing ? "C-BS-006" : "C-BS-011") + "]");
    }
    if (q == BASE_ALLOCATION) selected = true;
    // S-BS-013: "base:" is a wildcard when listing; S-BS-012: ignored when
    // setting. Other leaves and namespaces are ignored (S-BS-014, S-BS-022).
    if (listing && q == "base:") selected = true;
  }
  return selected;
}

}  // namespace nbdref::mock
