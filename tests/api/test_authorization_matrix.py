"""Who may call what: every route of app.url_map and every Socket.IO event, for every kind of caller.

ROUTES has one line per endpoint with its rule; a route added without a line fails
test_every_route_has_a_rule (and likewise SOCKET_EVENTS for builder.live.sockets). The callers:
anonymous, agent A (who owns the objects), agent B, a manager, an admin, and the admin of
another account. The objects (a contact assigned to agent A, its queued Manual SMS, a
workflow with an enroll request) are created afresh for each caller, so a caller allowed
to delete something never spoils the next caller's check. The JSON API is called with API
tokens, pages with login sessions.

Expectations: anonymous gets 401 (API) or a redirect to the login page; a caller the rule
refuses gets 403, or 404 for an object they may not see; an allowed caller never gets 401,
403 or a 5xx, nor a 404 for an object that is there for them.

Rules:
- PUBLIC: anyone, logged in or not.
- USER: any logged-in user (for an object: any member of its account).
- OWNER: an object its assignee (agent A) and the account's admins and managers may see.
- STAFF: admins and managers (of the object's account).
- ADMIN: admins (of the object's account).
- SIGNED: Twilio webhooks: refused (403) without a valid Twilio signature, whoever calls.
- SECRET: the URL's secret is the credential: wrong secret 404, right one accepted, whoever calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import url_for

from builder.domain.users import create_user
from builder.extensions import db, socketio
from builder.models import (
    Account,
    Call,
    ContactImport,
    CustomField,
    ManualAction,
    Notification,
    Task,
    User,
    WorkflowTemplate,
    WorkflowVersion,
)
from builder.web.workflow_hooks import hook_secret
from jobqueue.enroll import create_request
from tests.factories import ApiClient, make_contact, make_workflow, run_jobs, token_for

PUBLIC, USER, OWNER, STAFF, ADMIN, SIGNED, SECRET = "public", "user", "owner", "staff", "admin", "signed", "secret"
CALLERS = ("anonymous", "outsider", "agent2", "agent", "manager", "admin")
ALLOWED = {
    USER: {"agent", "agent2", "manager", "admin", "outsider"},
    OWNER: {"agent", "manager", "admin"},
    STAFF: {"manager", "admin", "outsider"},
    ADMIN: {"admin", "outsider"},
}
# SELF: an object only the user it is for may reach (agent A's notification); anyone else gets 404.
SELF = "self"
ALLOWED[SELF] = {"agent"}
SMS_FLOW = {"name": "Matrix", "start": "m", "steps": {
    "m": {"type": "manual_sms", "name": "Say hi", "config": {"message": "Hi {{ contact.first_name }}"}, "next": None}}}
GRAPH = {"name": "Matrix copy", "start": "m", "steps": SMS_FLOW["steps"]}


@dataclass(frozen=True)
class Rule:
    kind: str
    body: dict[str, Any] | Callable[[dict[str, int]], dict[str, Any]] | None = field(default=None)


# endpoint -> rule (and the JSON body allowed callers send, so they get past validation to the real work).
ROUTES: dict[str, Rule] = {
    "auth.login": Rule(PUBLIC),
    "auth.logout": Rule(USER),
    "pages.home": Rule(USER),
    "pages.favicon": Rule(PUBLIC),
    "pages.manual_actions": Rule(USER),
    "pages.manual_action_session": Rule(USER),
    "task_pages.tasks": Rule(USER),
    "contact_pages.contacts": Rule(USER),
    "contact_pages.contact": Rule(OWNER),
    "contact_import_pages.import_contacts": Rule(STAFF),
    "workflow_pages.workflows": Rule(USER),
    "workflow_pages.edit": Rule(STAFF),
    "report_pages.reports": Rule(STAFF),
    "settings_pages.twilio": Rule(ADMIN),
    "settings_pages.messaging": Rule(ADMIN),
    "integration_pages.integrations": Rule(ADMIN),
    "team_pages.team": Rule(ADMIN),
    "team_pages.audit": Rule(ADMIN),
    "team_pages.profile": Rule(USER),
    "api-docs.openapi_json": Rule(PUBLIC),
    "api_auth.create_token": Rule(PUBLIC, {"email": "agent@acme.test", "password": "correct-horse"}),
    "api_contacts.list_contacts": Rule(USER),
    "api_contacts.create_contact": Rule(STAFF, {"first_name": "New", "phone": "+14155559999"}),
    "api_contacts.get_contact": Rule(OWNER),
    "api_contacts.update_contact": Rule(OWNER, {"first_name": "Changed"}),
    "api_contacts.delete_contact": Rule(STAFF),
    "api_contact_imports.upload": Rule(STAFF),
    "api_contact_imports.start": Rule(STAFF, {"mapping": ["first_name"]}),
    "api_contact_imports.get_import": Rule(STAFF),
    "api_contact_imports.rejected_rows": Rule(STAFF),
    "api_contact_export.export_contacts": Rule(USER),
    "api_contacts.contact_timeline": Rule(OWNER),
    "api_contacts.add_note": Rule(OWNER, {"body": "Called back"}),
    "api_conversations.list_messages": Rule(OWNER),
    "api_conversations.send_message": Rule(OWNER, {"body": "Hello"}),
    "api_dashboard.manual_actions": Rule(USER),
    "api_manual_actions.list_actions": Rule(USER),
    "api_manual_actions.get_action": Rule(OWNER),
    "api_manual_actions.delete_action": Rule(OWNER),
    "api_manual_actions.reassign_action": Rule(STAFF, lambda ids: {"assignee_id": ids["agent_id"]}),
    "api_manual_actions.complete_action": Rule(OWNER, {"message": "Done"}),
    "api_manual_actions.context": Rule(OWNER),
    "api_manual_actions.dial": Rule(OWNER, {}),
    "api_manual_actions.skip": Rule(OWNER),
    "api_manual_actions.start": Rule(USER, {}),
    "api_tasks.list_tasks": Rule(USER),
    "api_tasks.task_counts": Rule(USER),
    "api_tasks.create_task": Rule(USER, lambda ids: {"contact_id": ids["contact_id"], "title": "Call back",
                                                     "due_at": "2030-01-15T09:30:00Z"}),
    "api_tasks.get_task": Rule(OWNER),
    "api_tasks.edit_task": Rule(OWNER, {"title": "Changed"}),
    "api_tasks.delete_task": Rule(OWNER),
    "api_tasks.complete_task": Rule(OWNER),
    "api_tasks.reopen_task": Rule(OWNER),
    "api_reports.call_report": Rule(USER),
    "api_reports.manual_action_report": Rule(STAFF),
    "api_reports.funnel": Rule(STAFF),
    "api_custom_fields.list_fields": Rule(USER),
    "api_custom_fields.create_field": Rule(ADMIN, {"key": "tier", "label": "Tier", "type": "text"}),
    "api_custom_fields.update_field": Rule(ADMIN, {"label": "Renamed"}),
    "api_custom_fields.delete_field": Rule(ADMIN),
    "custom_field_pages.custom_fields": Rule(ADMIN),
    "api_messaging_settings.get_messaging": Rule(ADMIN),
    "api_messaging_settings.put_messaging": Rule(ADMIN, {}),
    "api_settings.get_twilio": Rule(ADMIN),
    "api_settings.put_twilio": Rule(ADMIN, {}),
    "api_settings.delete_twilio": Rule(ADMIN),
    "api_integration_settings.get_integrations": Rule(ADMIN),
    "api_integration_settings.rotate_signing_secret": Rule(ADMIN),
    "api_integration_settings.put_slack": Rule(ADMIN, {"url": "https://hooks.slack.com/services/T0/B0/abcdef"}),
    "api_integration_settings.delete_slack": Rule(ADMIN),
    "api_users.list_users": Rule(STAFF),
    "api_users.get_me": Rule(USER),
    "api_users.update_me": Rule(USER, {"phone": None}),
    "api_users.change_my_password": Rule(USER, {"current_password": "correct-horse", "new_password": "new-horse-1"}),
    "api_team.list_team": Rule(ADMIN),
    "api_team.invite": Rule(ADMIN, {"email": "new@acme.test", "role": "agent"}),
    "api_team.update_member": Rule(ADMIN, {"role": "agent"}),
    "api_team.deactivate": Rule(ADMIN, {}),
    "api_team.reactivate": Rule(ADMIN),
    "api_team.reset_password": Rule(ADMIN),
    "api_team.reassign_actions": Rule(ADMIN, {"reassign_to": None}),
    "api_audit.list_events": Rule(ADMIN),
    "api_notifications.list_notifications": Rule(USER),
    "api_notifications.mark_read": Rule(SELF),
    "api_notifications.mark_all_read": Rule(USER),
    "api_workflows.list_workflows": Rule(USER),
    "api_workflows.create_workflow": Rule(STAFF, GRAPH),
    "api_workflows.get_workflow": Rule(USER),
    "api_workflows.save_workflow": Rule(STAFF, GRAPH),
    "api_workflows.delete_workflow": Rule(STAFF),
    "api_workflows.diff": Rule(USER),
    "api_workflows.duplicate": Rule(STAFF),
    "api_workflows.enroll_contacts": Rule(STAFF, lambda ids: {"contact_ids": [ids["contact_id"]]}),
    "api_workflows.enroll_status": Rule(USER),
    "api_workflows.executions": Rule(STAFF),
    "api_workflows.retry_one": Rule(STAFF, {"version": "own"}),
    "api_workflows.retry_all_failed": Rule(STAFF, {}),
    "api_workflows.impact": Rule(STAFF, GRAPH),
    "api_workflows.publish": Rule(STAFF, {}),
    "api_workflows.stats": Rule(STAFF),
    "api_workflows.list_versions": Rule(USER),
    "api_workflows.restore_version": Rule(STAFF),
    "api_workflows.action_types": Rule(USER),
    "api_workflows.trigger_types": Rule(USER),
    "api_workflows.export_workflow": Rule(STAFF),
    "api_workflows.import_workflow": Rule(STAFF, {"format": "flowdesk.workflow", "version": 1, "graph": GRAPH}),
    "api_workflows.from_template": Rule(STAFF, {"template": "builtin:speed-to-lead"}),
    "api_workflows.save_as_template": Rule(ADMIN, {}),
    "api_workflow_templates.list_templates": Rule(STAFF),
    "api_workflow_templates.delete_template": Rule(ADMIN),
    "api_workflows.get_hook": Rule(STAFF),
    "api_workflows.rotate_hook": Rule(STAFF),
    "api_workflows.listen_for_sample": Rule(STAFF, {}),
    "api_workflows.hook_sample": Rule(STAFF),
    "workflow_hooks.receive": Rule(SECRET, {"first": "Ada"}),
    "webhooks.inbound_sms": Rule(SIGNED),
    "webhooks.message_status": Rule(SIGNED),
    "webhooks.call_status": Rule(SIGNED),
    "webhooks.voice_bridge": Rule(SIGNED),
}

# Socket.IO event -> rule; the object (if any) is named in the payload.
SOCKET_EVENTS: dict[str, str] = {
    "connect": USER,
    "manual_actions.sync": USER,
    "workflow.watch": STAFF,
    "workflow.unwatch": USER,
    "contact.watch": OWNER,
    "contact.unwatch": USER,
}

# URL arguments -> the object they name ("number" is the workflow's first version).
OBJECT_ARGS = {"field_key": "custom_field_key", "template_id": "template_id",
               "contact_id": "contact_id", "action_id": "action_id", "workflow_id": "workflow_id",
               "bulk_id": "bulk_id", "import_id": "import_id", "call_id": "call_id", "number": "number",
               "user_id": "agent_id"}
OBJECT_ARGS["notification_id"] = "notification_id"
OBJECT_ARGS["task_id"] = "task_id"
OBJECT_ARGS["enrollment_id"] = "enrollment_id"


def endpoints(app) -> dict[str, Any]:
    return {rule.endpoint: rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"}


def test_every_route_has_a_rule(app):
    assert set(endpoints(app)) == set(ROUTES)


def test_every_socket_event_has_a_rule(app):
    assert set(socketio.server.handlers["/"]) == set(SOCKET_EVENTS)


# --- callers and objects ----------------------------------------------------------------------

@pytest.fixture
def people(app, account, users) -> dict[str, User]:
    other = Account(name="Other Co")
    db.session.add(other)
    db.session.commit()
    return {**users, "outsider": create_user("boss@other.test", "admin", "correct-horse", "Boss", other)}


def objects_for(app, account: Account, owner: User, count: int) -> list[dict[str, int]]:
    """`count` sets of objects owned by agent A: a contact, its queued Manual SMS (from a real run), the
    workflow that queued it (published version 1, draft version 2) with its enroll request, and a call."""
    sets = []
    for n in range(count):
        contact = make_contact(account, first_name=f"Lead{n}", phone=f"+1415555{3000 + n}",
                               assigned_user_id=owner.id)
        workflow = make_workflow(account, SMS_FLOW)
        db.session.add(WorkflowVersion(workflow_id=workflow.id, number=2, graph=GRAPH))  # a draft: diff has two
        bulk = create_request(workflow, workflow.published_version, [contact.id], is_test=False)
        db.session.add(CustomField(account_id=account.id, key=f"field{n}", label=f"Field {n}", type="text"))
        template = WorkflowTemplate(account_id=account.id, name="Matrix", graph=GRAPH)
        db.session.add(template)
        db.session.commit()
        sets.append({"contact_id": contact.id, "workflow_id": workflow.id, "bulk_id": bulk.id, "number": 1,
                     "agent_id": owner.id, "custom_field_key": f"field{n}"})
        sets[-1]["template_id"] = template.id
        upload = ContactImport(account_id=account.id, filename="x.csv", stored_name="gone.csv", headers=["name"])
        db.session.add(upload)
        db.session.commit()
        sets[-1]["import_id"] = upload.id
        notification = Notification(account_id=account.id, user_id=owner.id, title="For agent A", body="")
        db.session.add(notification)
        db.session.commit()
        sets[-1]["notification_id"] = notification.id
    run_jobs(app)
    for ids in sets:
        action = db.session.scalar(db.select(ManualAction).where(ManualAction.contact_id == ids["contact_id"]))
        assert action is not None and action.assignee_id == owner.id
        call = Call(account_id=account.id, manual_action_id=action.id, contact_id=ids["contact_id"],
                    user_id=owner.id, to_number="+14155550000", status="initiating", provider="console")
        db.session.add(call)
        db.session.commit()
        ids.update(action_id=action.id, call_id=call.id, enrollment_id=action.enrollment_id)
        # Agent A's task about their contact.
        task = Task(account_id=account.id, contact_id=ids["contact_id"], title="Matrix", assignee_id=owner.id,
                    due_at=call.created_at)
        db.session.add(task)
        db.session.commit()
        ids["task_id"] = task.id
    return sets


def session_client(app, user: User | None):
    client = app.test_client()
    if user is not None:
        response = client.post("/login", data={"email": user.email, "password": "correct-horse"})
        assert response.status_code == 302, response.get_data(as_text=True)
    return client


def call(app, user: User | None, rule: Any, method: str, ids: dict[str, int], body: Any, *, secret: str = ""):
    values = {arg: ids[OBJECT_ARGS[arg]] for arg in rule.arguments if arg in OBJECT_ARGS}
    if "secret" in rule.arguments:
        values["secret"] = secret
    with app.test_request_context():
        path = url_for(rule.endpoint, **values)
    kwargs: dict[str, Any] = {}
    if method in ("POST", "PUT", "PATCH") and body is not None:
        kwargs["json"] = body(ids) if callable(body) else body
    if path.startswith("/api/"):
        client = ApiClient(app.test_client(), user) if user is not None else app.test_client()
    else:
        client = session_client(app, user)
    return getattr(client, method.lower())(path, **kwargs)


def verdict(rule: Rule, caller: str, has_object: bool) -> str:
    """What `caller` should get: ok, login, or denied."""
    if rule.kind == PUBLIC:
        return "ok"
    if caller == "anonymous":
        return "login"
    if has_object and caller == "outsider":
        return "denied"  # another account's object: never visible
    return "ok" if caller in ALLOWED[rule.kind] else "denied"


def check(response, expected: str, *, is_api: bool, has_object: bool) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if expected == "login":
        if is_api:
            return None if status == 401 else f"expected 401, got {status}"
        redirected = status == 302 and "/login" in response.headers["Location"]
        return None if redirected else f"expected a login redirect, got {status}"
    if expected == "denied":
        return None if status in (403, 404) else f"expected 403 or 404, got {status}"
    if status in (401, 403) or (has_object and status == 404):
        return f"expected to be allowed, got {status}: {response.get_data(as_text=True)[:200]}"
    return None


def methods(rule: Any) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_route_answers_each_caller_by_its_rule(app, account, people, endpoint):
    url_rule = endpoints(app).get(endpoint)
    if url_rule is None:
        pytest.fail(f"{endpoint} is in ROUTES but not in app.url_map: remove its line")
    rule = ROUTES[endpoint]
    has_object = any(arg in OBJECT_ARGS for arg in url_rule.arguments)
    # A route that names an object gets a fresh set per caller; the others cannot spoil one, so one will do.
    sets = objects_for(app, account, people["agent"], len(CALLERS) if has_object or rule.kind == SECRET else 1)
    problems = []
    for n, caller in enumerate(CALLERS):
        user = people.get(caller)
        ids = sets[n % len(sets)]
        for method in methods(url_rule):
            if rule.kind == SIGNED:
                response = call(app, user, url_rule, method, ids, {"From": "+14155553000"})
                if response.status_code != 403:
                    problems.append(f"{caller} {method}: an unsigned webhook got {response.status_code}")
                continue
            if rule.kind == SECRET:
                wrong = call(app, user, url_rule, method, ids, rule.body, secret="0" * 32)
                right = call(app, user, url_rule, method, ids, rule.body,
                             secret=hook_secret(ids["workflow_id"]))
                if wrong.status_code != 404:
                    problems.append(f"{caller} {method}: a wrong secret got {wrong.status_code}")
                if right.status_code in (401, 403, 404) or right.status_code >= 500:
                    problems.append(f"{caller} {method}: the right secret got {right.status_code}")
                continue
            response = call(app, user, url_rule, method, ids, rule.body)
            problem = check(response, verdict(rule, caller, has_object), is_api=url_rule.rule.startswith("/api/"),
                            has_object=has_object)
            if problem:
                problems.append(f"{caller} {method} {url_rule.rule}: {problem}")
    assert problems == [], "\n".join(problems)


# --- Socket.IO --------------------------------------------------------------------------------

def test_socket_events_answer_each_caller_by_their_rule(app, account, people):
    ids = objects_for(app, account, people["agent"], 1)[0]
    payloads = {"workflow.watch": {"workflow_id": ids["workflow_id"]}, "workflow.unwatch": {"workflow_id": 1},
                "contact.watch": {"contact_id": ids["contact_id"]}, "contact.unwatch": {"contact_id": 1},
                "manual_actions.sync": None}
    assert not socketio.test_client(app).is_connected()  # anonymous: refused at connect
    assert not socketio.test_client(app, auth={"token": "not-a-token"}).is_connected()
    problems = []
    for caller in CALLERS[1:]:
        client = socketio.test_client(app, auth={"token": token_for(people[caller])})
        if not client.is_connected():
            problems.append(f"{caller}: could not connect")
            continue
        for event, kind in SOCKET_EVENTS.items():
            if event == "connect":
                continue
            ack = client.emit(event, payloads[event], callback=True)
            has_object = event.endswith(".watch")
            allowed = verdict(Rule(kind), caller, has_object) == "ok"
            if event == "manual_actions.sync":
                ok = isinstance(ack, dict) and "pending_total" in ack
            else:
                ok = isinstance(ack, dict) and ack.get("ok") is True
            if ok != allowed:
                problems.append(f"{caller} {event}: {'allowed' if ok else 'refused'} ({ack})")
        client.disconnect()
    assert problems == [], "\n".join(problems)


# Call steps: the TwiML Twilio asks for when the contact answers, and the whisper to the user.
ROUTES["webhooks.voice_connect"] = Rule(SIGNED)
ROUTES["webhooks.voice_whisper"] = Rule(SIGNED)


@pytest.mark.parametrize("endpoint", ["webhooks.voice_connect", "webhooks.voice_whisper"])
def test_call_step_routes_answer_each_caller_by_their_rule(app, account, people, endpoint):
    # Added after the parametrized test above was collected: checked by the same rule here.
    test_route_answers_each_caller_by_its_rule(app, account, people, endpoint)


# Send Email: Settings > Email (admins), and the public unsubscribe page, whose signed token is the key.
EMAIL_SETTINGS_ROUTES = {
    "email_settings_pages.email": Rule(ADMIN),
    "api_email_settings.get_email": Rule(ADMIN),
    "api_email_settings.put_email": Rule(ADMIN, {"host": "smtp.acme.test", "port": 587,
                                                 "from_address": "hello@acme.test"}),
    "api_email_settings.delete_email": Rule(ADMIN),
}
ROUTES.update(EMAIL_SETTINGS_ROUTES)
ROUTES["unsubscribe_pages.confirm"] = Rule(PUBLIC)
ROUTES["unsubscribe_pages.unsubscribe_contact"] = Rule(PUBLIC)


@pytest.mark.parametrize("endpoint", sorted(EMAIL_SETTINGS_ROUTES))
def test_email_settings_routes_answer_each_caller_by_their_rule(app, account, people, endpoint):
    test_route_answers_each_caller_by_its_rule(app, account, people, endpoint)


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_unsubscribe_page_is_public_and_only_a_signed_token_opens_it(app, account, people, method):
    from builder.integrations import unsubscribe

    contact = make_contact(account, email="lead@example.com")
    with app.test_request_context():
        good = unsubscribe.token_for(contact.id)
    problems = []
    for caller in CALLERS:
        client = session_client(app, people[caller] if caller != "anonymous" else None)
        for token, expected in ((good, 200), (good[:-2] + "xx", 404), (str(contact.id), 404)):
            status = getattr(client, method)(f"/unsubscribe/{token}").status_code
            if status != expected:
                problems.append(f"{caller} {method} {token}: expected {expected}, got {status}")
    assert problems == [], "\n".join(problems)


# Settings > Custom values: every role reads them (the builder offers them, agents see the messages they
# are in), admins manage them. Each set of objects gets a custom value of its own too.
CUSTOM_VALUE_ROUTES = {
    "custom_value_pages.custom_values": Rule(ADMIN),
    "api_custom_values.list_values": Rule(USER),
    "api_custom_values.create_value": Rule(ADMIN, {"key": "offer", "value": "10% off"}),
    "api_custom_values.update_value": Rule(ADMIN, {"value": "Changed"}),
    "api_custom_values.delete_value": Rule(ADMIN),
}
ROUTES.update(CUSTOM_VALUE_ROUTES)
from builder.models import CustomValue  # noqa: E402  (with the lines it is for)

OBJECT_ARGS["value_key"] = "custom_value_key"
_objects_without_custom_values = objects_for


def objects_for(app, account: Account, owner: User, count: int) -> list[dict[str, int]]:  # noqa: F811
    sets = _objects_without_custom_values(app, account, owner, count)
    for n, ids in enumerate(sets):
        db.session.add(CustomValue(account_id=account.id, key=f"value{n}", value=""))
        ids["custom_value_key"] = f"value{n}"
    db.session.commit()
    return sets


@pytest.mark.parametrize("endpoint", sorted(CUSTOM_VALUE_ROUTES))
def test_custom_value_routes_answer_each_caller_by_their_rule(app, account, people, endpoint):
    test_route_answers_each_caller_by_its_rule(app, account, people, endpoint)
