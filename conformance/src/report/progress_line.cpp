#include "report/progress_line.hpp"

#include <string>

namespace nbdref::conform {

void ProgressLine::operator()(std::size_t position, std::size_t total, const Check& check,
                              const CheckResult* finished) {
  const std::string head =
      "[" + std::to_string(position) + "/" + std::to_string(total) + "] " + check.id;
  if (interactive_) {
    // \r and "erase line" rewrite the one line; the last check clears it.
    if (!finished) {
      std::fprintf(out_, "\r\033[K%s ...", head.c_str());
    } else if (position == total) {
      std::fprintf(out_, "\r\033[K");
    }
  } else if (finished) {
    std::fprintf(out_, "%s ... %s\n", head.c_str(),
                 std::string(status_name(finished->outcome.status)).c_str());
  }
  std::fflush(out_);
}

}  // namespace nbdref::conform
