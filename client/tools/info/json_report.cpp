#include "json_report.hpp"

#include "extent_meaning.hpp"
#include "human_size.hpp"
#include "json_writer.hpp"

namespace nbdref::info {
namespace {

void write_export(JsonWriter& json, const ExportReport& e) {
  json.begin_object();
  json.key("export-name");
  json.string(e.name);
  if (e.failure) {
    json.key("error");
    json.string(*e.failure);
    json.end_object();
    return;
  }
  json.key("canonical-name");
  json.string(e.canonical_name);
  json.key("description");
  if (e.description) {
    json.string(*e.description);
  } else {
    json.null();
  }
  json.key("size");
  json.number(e.size);
  json.key("size-human");
  json.string(human_size(e.size));
  json.key("capabilities");
  json.begin_object();
  for (const auto& c : e.capabilities) {
    json.key(c.name);
    json.boolean(c.offered);
  }
  json.end_object();
  json.key("block-sizes");
  if (e.block_sizes) {
    json.begin_object();
    json.key("minimum");
    json.number(e.block_sizes->minimum);
    json.key("preferred");
    json.number(e.block_sizes->preferred);
    json.key("maximum");
    json.number(e.block_sizes->maximum);
    json.end_object();
  } else {
    json.null();
  }
  json.key("metadata-contexts");
  if (e.contexts_unavailable) {
    json.null();
    json.key("metadata-contexts-error");
    json.string(*e.contexts_unavailable);
  } else {
    json.begin_array();
    for (const auto& c : e.contexts) json.string(c);
    json.end_array();
  }
  json.end_object();
}

}  // namespace

void print_json(std::ostream& out, const ServerReport& report) {
  JsonWriter json(out);
  json.begin_object();
  json.key("protocol");
  json.string(report.protocol);
  json.key("structured-replies");
  json.boolean(report.structured_replies);
  json.key("extended-headers");
  json.boolean(report.extended_headers);
  json.key("exports");
  json.begin_array();
  for (const auto& e : report.exports) write_export(json, e);
  json.end_array();
  json.end_object();
}

void print_json(std::ostream& out, const ExtentMap& map) {
  JsonWriter json(out);
  json.begin_object();
  json.key("export-name");
  json.string(map.export_name);
  json.key("metadata-context");
  json.string(map.context);
  json.key("size");
  json.number(map.size);
  json.key("extents");
  json.begin_array();
  for (const auto& e : map.extents) {
    json.begin_object();
    json.key("offset");
    json.number(e.offset);
    json.key("length");
    json.number(e.length);
    json.key("flags");
    json.number(e.flags);
    if (const auto meaning = extent_meaning(map.context, e.flags)) {
      json.key("meaning");
      json.string(*meaning);
    }
    json.end_object();
  }
  json.end_array();
  json.end_object();
}

}  // namespace nbdref::info
