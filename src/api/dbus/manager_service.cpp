// org.opdbus.Manager1; see manager_service.h.
#include "api/dbus/manager_service.h"

#include <pwd.h>
#include <systemd/sd-bus.h>

#include <functional>

#include "base/fs.h"
#include "engine/engine.h"
#include "engine/record.h"
#include "engine/render.h"
#include "engine/state_file.h"
#include "ledger/verify.h"

namespace opdbus::api {
namespace {

constexpr const char* kPath = "/org/opdbus/Manager1";
constexpr const char* kInterface = "org.opdbus.Manager1";

using Operation = std::function<Result<Json>(ManagerService&, const Json& arguments)>;

const char* error_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_input:
      return "org.opdbus.Error.InvalidInput";
    case ErrorCode::not_found:
      return "org.opdbus.Error.NotFound";
    case ErrorCode::conflict:
      return "org.opdbus.Error.Conflict";
    case ErrorCode::unavailable:
      return "org.opdbus.Error.Unavailable";
    case ErrorCode::verify_failed:
      return "org.opdbus.Error.VerifyFailed";
    default:
      return "org.opdbus.Error.Failed";
  }
}

struct Caller {
  std::string bus_name;
  bool interactive = false;  // the caller allows polkit to ask for authentication
  ledger::Actor actor;
};

Result<Json> ask_bus(dbus::Bus& bus, const char* method, const std::string& name) {
  auto reply =
      TRY(bus.call({"org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", method,
                    "s", Json::array({name}), std::chrono::milliseconds(5000)}));
  return reply.at(0);
}

// Who called, as the bus daemon saw it on the caller's socket: the uid is required; the pid and
// command are recorded when known (a caller in another pid namespace, such as the host calling
// into a container's bus, has no pid there).
Result<Caller> identify(dbus::Bus& bus, sd_bus_message* message) {
  Caller caller;
  caller.bus_name = sd_bus_message_get_sender(message) ? sd_bus_message_get_sender(message) : "";
  caller.interactive = sd_bus_message_get_allow_interactive_authorization(message) > 0;
  auto uid = ask_bus(bus, "GetConnectionUnixUser", caller.bus_name);
  if (!uid)
    return fail(ErrorCode::conflict, "cannot tell who the caller is: {}", uid.error().describe());
  caller.actor.uid = uid->get<uint32_t>();
  caller.actor.interface = "dbus";
  if (auto pid = ask_bus(bus, "GetConnectionUnixProcessID", caller.bus_name)) {
    caller.actor.pid = static_cast<int>(pid->get<uint32_t>());
    if (auto comm = read_file(fmt::format("/proc/{}/comm", caller.actor.pid))) {
      caller.actor.process = *comm;
      while (!caller.actor.process.empty() && caller.actor.process.back() == '\n')
        caller.actor.process.pop_back();
    }
  }
  if (auto* entry = ::getpwuid(caller.actor.uid))
    caller.actor.user = entry->pw_name;
  else
    caller.actor.user = std::to_string(caller.actor.uid);
  return caller;
}

// Whether the bus daemon saw `group` among the caller's groups (GetConnectionCredentials).
bool caller_in_group(dbus::Bus& bus, const Caller& caller, uint32_t group) {
  auto credentials = ask_bus(bus, "GetConnectionCredentials", caller.bus_name);
  if (!credentials || !credentials->is_object()) return false;
  for (const auto& gid : credentials->value("UnixGroupIDs", Json::array()))
    if (gid.is_number_unsigned() && gid.get<uint32_t>() == group) return true;
  return false;
}

// The verdict on `action` for the caller: root and the configured group are allowed without
// asking; everyone else is polkit's to decide.
Status authorize(ManagerService& service, const Caller& caller, const std::string& action) {
  auto& bus = service.bus();
  if (caller.actor.uid == 0) return ok();
  if (service.access().group && caller_in_group(bus, caller, *service.access().group)) return ok();
  Json subject = Json::array(
      {"system-bus-name", {{"name", {{"signature", "s"}, {"value", caller.bus_name}}}}});
  // CheckAuthorizationFlags 1: polkit may ask the caller's agent (a person) to authenticate.
  uint32_t flags = caller.interactive ? 1 : 0;
  auto reply =
      bus.call({"org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization", "(sa{sv})sa{ss}us",
                Json::array({subject, action, Json::object(), flags, ""}),
                std::chrono::milliseconds(caller.interactive ? 300000 : 10000)});
  if (!reply)
    return fail(ErrorCode::conflict, "{} is not authorised: polkit could not be asked ({})", action,
                reply.error().describe());
  const auto& verdict = reply->at(0);
  if (verdict.at(0).get<bool>()) return ok();
  return fail(ErrorCode::conflict, "{} is not authorised for uid {} by polkit{}", action,
              caller.actor.uid,
              verdict.at(1).get<bool>() ? " (it needs interactive authentication)" : "");
}

Result<StateDocument> document_from(const Json& text, const Registry& registry) {
  auto document = TRY(parse_state_text("dbus:Apply", text.get<std::string>()));
  TRY(validate_state_document(document, registry));
  return document;
}

Result<Json> query(ManagerService& service, const Json& arguments) {
  Engine engine(service.context());
  auto plugin = arguments.at(0).get<std::string>();
  auto host = TRY(engine.query(plugin.empty() ? std::nullopt : std::optional(plugin)));
  return host.document;
}

Result<Json> diff(ManagerService& service, const Json& arguments) {
  auto document = TRY(document_from(arguments.at(0), service.context().registry));
  Engine engine(service.context());
  return render_plan_json(TRY(engine.plan(document, std::nullopt)));
}

Result<Json> apply(ManagerService& service, const Json& arguments) {
  auto document = TRY(document_from(arguments.at(0), service.context().registry));
  const auto& options = arguments.at(1);
  ApplyOptions apply_options;
  apply_options.dry_run = options.value("dry_run", false);
  apply_options.no_commit = options.value("no_commit", false);
  apply_options.timeout_seconds = options.value("timeout", apply_options.no_commit ? 60 : 0);
  Engine engine(service.context());
  return render_apply_json(TRY(engine.apply(document, apply_options)));
}

Result<Json> rollback(ManagerService& service, const Json&) {
  Engine engine(service.context());
  auto result = TRY(engine.rollback());
  return Json{{"rolled_back", result.checkpoint_id}, {"writes", result.writes}};
}

Result<Json> commit(ManagerService& service, const Json&) {
  Engine engine(service.context());
  return Json{{"committed", TRY(engine.commit()).id}};
}

Result<Json> ledger_verify(ManagerService& service, const Json&) {
  return ledger::verify_summary(service.context().config.state_dir);
}

int reply_error(sd_bus_error* error, const Error& failure) {
  const char* name = failure.code == ErrorCode::conflict &&
                             failure.message.find("not authorised") != std::string::npos
                         ? SD_BUS_ERROR_ACCESS_DENIED
                         : error_name(failure.code);
  return sd_bus_error_set(error, name, failure.describe().c_str());
}

// One method call: who is calling, polkit for writes (refusals recorded), the operation with the
// caller as the ledger's actor, the reply, and Changed after a write.
int serve(sd_bus_message* message, void* userdata, sd_bus_error* error, const char* action,
          const Operation& operation) {
  auto& service = *static_cast<ManagerService*>(userdata);
  auto& context = service.context();
  auto arguments = dbus::read_arguments(message);
  if (!arguments) return reply_error(error, arguments.error());
  auto caller = identify(service.bus(), message);
  if (!caller) return reply_error(error, caller.error());
  context.caller = caller->actor;
  auto interface = std::exchange(context.interface, "dbus");
  Result<Json> result = Json();
  if (auto allowed = action ? authorize(service, *caller, action) : ok(); !allowed) {
    if (auto* ledger = open_ledger(context).value_or(nullptr))
      (void)ledger->append(
          denied_record(context, sd_bus_message_get_member(message), allowed.error().message));
    result = make_failure(allowed.error());
  } else {
    result = operation(service, *arguments);
  }
  context.caller.reset();
  context.interface = interface;
  if (!result) return reply_error(error, result.error());
  if (action)
    (void)service.bus().emit_signal(
        kPath, kInterface, "Changed", "ss",
        Json::array({sd_bus_message_get_member(message), result->value("outcome", "done")}));
  sd_bus_message* reply = nullptr;
  int rc = sd_bus_message_new_method_return(message, &reply);
  if (rc >= 0) rc = sd_bus_message_append(reply, "s", result->dump().c_str());
  if (rc >= 0) rc = sd_bus_send(nullptr, reply, nullptr);
  sd_bus_message_unref(reply);
  return rc;
}

template <const char* Action, Result<Json> (*Function)(ManagerService&, const Json&)>
int method(sd_bus_message* message, void* userdata, sd_bus_error* error) {
  return serve(message, userdata, error, Action[0] ? Action : nullptr, Function);
}

constexpr char kRead[] = "";
constexpr char kApply[] = "org.opdbus.apply";
constexpr char kRollback[] = "org.opdbus.rollback";

const sd_bus_vtable kVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_NAMES("Query", "s", SD_BUS_PARAM(plugin), "s", SD_BUS_PARAM(state),
                             (method<kRead, query>), SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("Diff", "s", SD_BUS_PARAM(desired), "s", SD_BUS_PARAM(plan),
                             (method<kRead, diff>), SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("Apply", "sa{sv}", SD_BUS_PARAM(desired) SD_BUS_PARAM(options), "s",
                             SD_BUS_PARAM(result), (method<kApply, apply>),
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("Rollback", "", , "s", SD_BUS_PARAM(result),
                             (method<kRollback, rollback>), SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("Commit", "", , "s", SD_BUS_PARAM(result), (method<kApply, commit>),
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("LedgerVerify", "", , "s", SD_BUS_PARAM(report),
                             (method<kRead, ledger_verify>), SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL_WITH_NAMES("Changed", "ss", SD_BUS_PARAM(action) SD_BUS_PARAM(outcome), 0),
    SD_BUS_VTABLE_END};

}  // namespace

Result<std::unique_ptr<ManagerService>> ManagerService::create(Context& context, dbus::Bus& bus,
                                                               const AccessPolicy& access) {
  std::unique_ptr<ManagerService> service(new ManagerService(context, bus, access));
  service->object_ = TRY(bus.export_object(kPath, kInterface, kVtable, service.get()));
  TRY(bus.request_name("org.opdbus"));
  return service;
}

}  // namespace opdbus::api
