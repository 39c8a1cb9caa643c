#include "report_collector.hpp"

#include <cerrno>
#include <utility>

#include "step_error.hpp"

namespace nbdref::info {
namespace {

ServerReport server_facts(Client& client) {
  return while_doing("reading the negotiated protocol", [&] {
    ServerReport r;
    r.protocol = client.protocol();
    r.structured_replies = client.structured_replies_negotiated();
    r.extended_headers = client.extended_headers_negotiated();
    return r;
  });
}

// Lists the contexts before NBD_OPT_INFO so both use the same export name.
// A server may rightly refuse the listing (S-BS-019, or without structured
// replies at all); that is part of the report, not a failure of the tool.
void list_contexts(Client& client, ExportReport& report) {
  if (!client.is_negotiating()) {
    report.contexts_unavailable = "the server's handshake has no option phase";
    return;
  }
  try {
    // No queries: every context the export offers (S-BS-025).
    report.contexts = client.opt_list_meta_context();
  } catch (const ClientError& e) {
    report.contexts_unavailable = e.what();
  }
}

// Fills `report` from what the last NBD_OPT_INFO or NBD_OPT_GO said.
void read_details(Client& client, ExportReport& report) {
  while_doing("reading the details of " + export_label(report.name), [&] {
    report.canonical_name = client.canonical_export_name();
    try {
      report.description = client.export_description();
    } catch (const ClientError& e) {
      // ENOTSUP: the server sent no NBD_INFO_DESCRIPTION, which it may omit.
      if (e.errnum() != ENOTSUP) throw;
    }
    report.size = client.size();
    report.capabilities = {
        {"read-only", client.is_read_only()},
        {"rotational", client.is_rotational()},
        {"flush", client.can_flush()},
        {"fua", client.can_fua()},
        {"trim", client.can_trim()},
        {"zero", client.can_zero()},
        {"fast-zero", client.can_fast_zero()},
        {"df", client.can_df()},
        {"multi-conn", client.can_multi_conn()},
        {"cache", client.can_cache()},
    };
    const BlockSizes sizes{client.block_size(BlockSize::Minimum),
                           client.block_size(BlockSize::Preferred),
                           client.block_size(BlockSize::Maximum)};
    // The library answers 0 for all three when NBD_INFO_BLOCK_SIZE was absent.
    if (sizes.minimum != 0) report.block_sizes = sizes;
  });
}

}  // namespace

void prepare_for_report(Client& client) {
  while_doing("setting up the client", [&] {
    client.set_opt_mode(true);
    client.set_full_info(true);
  });
}

ServerReport report_export(Client& client, const std::string& name) {
  ServerReport server = server_facts(client);
  ExportReport report;
  report.name = name;
  const std::string what = "asking about " + export_label(name);
  if (client.is_negotiating()) {
    while_doing(what, [&] { client.set_export_name(name); });
    list_contexts(client, report);
    try {
      client.opt_info();
    } catch (const ClientError& e) {
      // A server that does not support NBD_OPT_INFO describes the export
      // only on the way into transmission: NBD_OPT_GO, or NBD_OPT_EXPORT_NAME
      // when GO is unsupported too (C-OPT-005).
      if (e.errnum() != ENOTSUP) throw StepError(what, e);
      while_doing(what, [&] { client.opt_go(); });
    }
  } else {
    list_contexts(client, report);
  }
  read_details(client, report);
  server.exports.push_back(std::move(report));
  return server;
}

ServerReport report_listed_exports(Client& client) {
  ServerReport server = server_facts(client);
  if (!client.is_negotiating()) {
    throw StepError("listing the exports: the server's " + server.protocol +
                    " handshake has no option phase, so it cannot list exports");
  }
  const auto listed = while_doing("listing the exports", [&] { return client.opt_list(); });
  server.listed = true;
  for (const auto& entry : listed) {
    ExportReport report;
    report.name = entry.name;
    try {
      const std::string what = "asking about " + export_label(entry.name);
      while_doing(what, [&] { client.set_export_name(entry.name); });
      list_contexts(client, report);
      while_doing(what, [&] { client.opt_info(); });
      read_details(client, report);
      // NBD_OPT_LIST may carry a description NBD_OPT_INFO left out.
      if (!report.description && !entry.description.empty()) report.description = entry.description;
    } catch (const StepError& e) {
      report = ExportReport{};
      report.name = entry.name;
      report.failure = e.what();
    }
    server.exports.push_back(std::move(report));
  }
  return server;
}

}  // namespace nbdref::info
