// Introspection parsing and service walking; see introspect.h.
#include "proto/dbus/introspect.h"

#include <expat.h>

#include <deque>
#include <memory>
#include <set>

#include "proto/dbus/signature.h"
#include "proto/dbus/type_schema.h"

namespace opdbus::dbus {
namespace {

constexpr size_t kMaxDocument = 4u << 20;
constexpr size_t kMaxElements = 100000;

struct ParserFree {
  void operator()(XML_ParserStruct* parser) const { XML_ParserFree(parser); }
};

// What the expat callbacks build: the node, and where in it the next element goes. Elements
// count only at their own depth (node 1, interface 2, member 3, arg 4), so pointers into the
// vectors are never kept across a push to the same vector.
struct Builder {
  Node node;
  int depth = 0;
  size_t elements = 0;
  Interface* interface = nullptr;
  Method* method = nullptr;
  Signal* signal = nullptr;
  std::string error;
};

std::string attribute(const XML_Char** attributes, std::string_view name) {
  for (size_t i = 0; attributes[i]; i += 2)
    if (name == attributes[i]) return attributes[i + 1];
  return {};
}

void add_argument(Builder& builder, const XML_Char** attributes) {
  Argument argument{attribute(attributes, "name"), attribute(attributes, "type")};
  if (builder.method)
    (attribute(attributes, "direction") == "out" ? builder.method->out : builder.method->in)
        .push_back(std::move(argument));
  else if (builder.signal)
    builder.signal->args.push_back(std::move(argument));
}

void on_start(void* user, const XML_Char* element, const XML_Char** attributes) {
  auto& builder = *static_cast<Builder*>(user);
  std::string_view name(element);
  ++builder.depth;
  if (++builder.elements > kMaxElements) builder.error = "too many elements";
  if (name == "node" && builder.depth == 2) {
    builder.node.children.push_back(attribute(attributes, "name"));
  } else if (name == "interface" && builder.depth == 2) {
    builder.node.interfaces.push_back({attribute(attributes, "name"), {}, {}, {}});
    builder.interface = &builder.node.interfaces.back();
  } else if (builder.interface && builder.depth == 3 && name == "method") {
    builder.interface->methods.push_back({attribute(attributes, "name"), {}, {}});
    builder.method = &builder.interface->methods.back();
  } else if (builder.interface && builder.depth == 3 && name == "signal") {
    builder.interface->signals.push_back({attribute(attributes, "name"), {}});
    builder.signal = &builder.interface->signals.back();
  } else if (builder.interface && builder.depth == 3 && name == "property") {
    builder.interface->properties.push_back({attribute(attributes, "name"),
                                             attribute(attributes, "type"),
                                             attribute(attributes, "access")});
  } else if (name == "arg" && builder.depth == 4) {
    add_argument(builder, attributes);
  }
}

void on_end(void* user, const XML_Char*) {
  auto& builder = *static_cast<Builder*>(user);
  if (builder.depth == 2) builder.interface = nullptr;
  if (builder.depth == 3) builder.method = nullptr, builder.signal = nullptr;
  --builder.depth;
}

Status check_types(const Node& node) {
  for (const auto& interface : node.interfaces) {
    for (const auto& property : interface.properties)
      TRY(with_context(split_signature(property.type),
                       fmt::format("property {}.{}", interface.name, property.name)));
    for (const auto& method : interface.methods)
      for (const auto& list : {method.in, method.out})
        for (const auto& argument : list)
          TRY(with_context(split_signature(argument.type),
                           fmt::format("method {}.{}", interface.name, method.name)));
  }
  return ok();
}

std::string child_path(const std::string& parent, const std::string& child) {
  return parent == "/" ? "/" + child : parent + "/" + child;
}

// Object paths an ObjectManager at `path` reports.
Result<std::vector<std::string>> managed_objects(Bus& bus, const std::string& service,
                                                 const std::string& path,
                                                 std::chrono::milliseconds timeout) {
  auto reply = TRY(bus.call({service, path, "org.freedesktop.DBus.ObjectManager",
                             "GetManagedObjects", "", Json::array(), timeout}));
  std::vector<std::string> paths;
  if (!reply.empty() && reply[0].is_object())
    for (const auto& [object, interfaces] : reply[0].items()) {
      (void)interfaces;
      paths.push_back(object);
    }
  return paths;
}

}  // namespace

Result<Node> parse_introspection(std::string_view xml) {
  if (xml.size() > kMaxDocument)
    return fail(ErrorCode::invalid_input, "introspection document over {} bytes", kMaxDocument);
  std::unique_ptr<XML_ParserStruct, ParserFree> parser(XML_ParserCreate(nullptr));
  if (!parser) return fail(ErrorCode::internal, "expat could not create a parser");
  Builder builder;
  XML_SetUserData(parser.get(), &builder);
  XML_SetElementHandler(parser.get(), on_start, on_end);
  if (XML_Parse(parser.get(), xml.data(), static_cast<int>(xml.size()), 1) != XML_STATUS_OK)
    return fail(ErrorCode::invalid_input, "introspection XML line {}: {}",
                XML_GetCurrentLineNumber(parser.get()),
                XML_ErrorString(XML_GetErrorCode(parser.get())));
  if (!builder.error.empty())
    return fail(ErrorCode::invalid_input, "introspection XML: {}", builder.error);
  TRY(check_types(builder.node));
  return std::move(builder.node);
}

Result<Node> introspect_object(Bus& bus, const std::string& service, const std::string& path,
                               std::chrono::milliseconds timeout) {
  auto xml = TRY(bus.call({service, path, "org.freedesktop.DBus.Introspectable", "Introspect", "",
                           Json::array(), timeout}));
  if (xml.empty() || !xml[0].is_string())
    return fail(ErrorCode::invalid_input, "{} {}: Introspect did not return a string", service,
                path);
  return with_context(parse_introspection(xml[0].get<std::string>()),
                      fmt::format("{} {}", service, path));
}

Result<std::vector<ObjectInfo>> walk_service(Bus& bus, const std::string& service,
                                             const WalkLimits& limits) {
  auto deadline = std::chrono::steady_clock::now() + limits.deadline;
  std::deque<std::string> queue{"/"};
  std::set<std::string> seen{"/"};
  std::vector<ObjectInfo> objects;
  auto enqueue = [&](const std::string& path) {
    if (seen.insert(path).second) queue.push_back(path);
  };
  while (!queue.empty()) {
    if (seen.size() > limits.max_objects)
      return fail(ErrorCode::unavailable, "{} has more than {} objects; stopped", service,
                  limits.max_objects);
    if (std::chrono::steady_clock::now() > deadline)
      return fail(ErrorCode::unavailable, "walking {} took longer than {} ms; stopped", service,
                  limits.deadline.count());
    auto path = std::move(queue.front());
    queue.pop_front();
    auto node = TRY(introspect_object(bus, service, path, limits.call_timeout));
    for (const auto& child : node.children) enqueue(child_path(path, child));
    for (const auto& interface : node.interfaces)
      if (interface.name == "org.freedesktop.DBus.ObjectManager")
        for (const auto& managed : TRY(managed_objects(bus, service, path, limits.call_timeout)))
          enqueue(managed);
    if (!node.interfaces.empty()) objects.push_back({path, std::move(node.interfaces)});
  }
  return objects;
}

Json interface_json(const Interface& interface) {
  auto arguments = [](const std::vector<Argument>& list) {
    Json out = Json::array();
    for (const auto& argument : list)
      out.push_back({{"name", argument.name}, {"type", argument.type}});
    return out;
  };
  auto schema = [](const std::vector<Argument>& list) {
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& argument : list) pairs.emplace_back(argument.name, argument.type);
    auto out = arguments_schema(pairs);
    return out ? *out : Json(false);  // types were checked when the XML was parsed
  };
  Json methods = Json::object(), properties = Json::object(), signals = Json::object();
  for (const auto& method : interface.methods)
    methods[method.name] = {{"in", arguments(method.in)},
                            {"out", arguments(method.out)},
                            {"input_schema", schema(method.in)},
                            {"output_schema", schema(method.out)}};
  for (const auto& property : interface.properties)
    properties[property.name] = {{"type", property.type}, {"access", property.access}};
  for (const auto& signal : interface.signals) signals[signal.name] = arguments(signal.args);
  return {{"methods", methods}, {"properties", properties}, {"signals", signals}};
}

}  // namespace opdbus::dbus
