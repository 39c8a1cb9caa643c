// Asks a server about its exports without entering transmission: option
// mode, NBD_OPT_LIST_META_CONTEXT and NBD_OPT_INFO for each export.
#pragma once

#include <string>

#include <nbdref/client.hpp>

#include "report.hpp"

namespace nbdref::info {

// The settings a report needs, made before connecting: option mode, so the
// tool chooses what to ask, and full info, for names and descriptions.
void prepare_for_report(Client& client);

// The report on one export. Throws StepError when the server cannot be
// asked or refuses the export.
ServerReport report_export(Client& client, const std::string& name);

// The report on every export the server lists. An export the server lists
// but will not describe is reported with its failure; throws StepError when
// the list itself cannot be had.
ServerReport report_listed_exports(Client& client);

}  // namespace nbdref::info
