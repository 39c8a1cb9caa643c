#include "runner/outcome.hpp"

namespace nbdref::conform {

std::string_view status_name(Status status) {
  switch (status) {
    case Status::Pass:
      return "pass";
    case Status::Fail:
      return "fail";
    case Status::NotApplicable:
      return "n/a";
    case Status::Error:
      return "error";
  }
  return "error";
}

}  // namespace nbdref::conform
