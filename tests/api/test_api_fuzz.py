"""Schemathesis over /api/openapi.json: every operation, as an admin and as an agent, with every check.

Responses must match the document (status codes, headers, bodies and formats), valid requests must
be accepted, invalid ones refused, and nothing may answer a 500. The examples are derandomized and
few, so a run is repeatable and the file takes a few minutes on both databases.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import select

from builder.extensions import db
from builder.models import ManualAction
from jobqueue import enroll
from tests.factories import make_contact, make_workflow, run_jobs, token_for

GRAPH = {
    "name": "Fuzz",
    "start": "s1",
    "steps": {
        "s1": {"type": "manual_sms", "config": {"message": "Hi", "continue_without_waiting": True}, "next": "s2"},
        "s2": {"type": "manual_call", "config": {}, "next": None},
    },
}


@pytest.fixture
def seeded(app, account, users) -> dict[str, str]:
    """A few contacts, a published workflow with runs, and queued SMS and call actions; the tokens."""
    contacts = [make_contact(account, first_name=name, phone=f"+1415555{1000 + i}",
                             assigned_user_id=users["agent"].id if i % 2 == 0 else None)
                for i, name in enumerate(["Ada", "Lin", "Noor"])]
    workflow = make_workflow(account, GRAPH, user=users["admin"])
    make_workflow(account, {**GRAPH, "name": "Draft"}, publish=False, user=users["manager"])
    enroll.create_request(workflow, workflow.published_version, [c.id for c in contacts], is_test=False)
    run_jobs(app)
    assert db.session.scalars(select(ManualAction)).all()
    return {role: token_for(users[role]) for role in ("admin", "agent")}


# Every check, with these adjustments:
# - the bearer token is ours to send (an admin's, then an agent's), not generated data;
# - unknown query parameters are ignored, as usual on the web (a cache-buster must not break a page),
#   and OpenAPI does not forbid them, so they are not generated as "invalid" requests;
# - a request the document calls valid may still be a 422 when it breaks a rule OpenAPI cannot
#   state (a phone number that does not parse, a user id that is not in the account, a contact
#   with neither a name, an email nor a phone).
CONFIG = schemathesis.Config.from_dict({
    "generation": {"with-security-parameters": False, "allow-extra-parameters": False},
    "checks": {"positive_data_acceptance": {
        "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]}},
})
EXAMPLES = 200  # per operation, valid and invalid requests mixed: about a minute per database


# Hypothesis is driven here rather than through schemathesis' pytest plugin (`schema.parametrize()`):
# the plugin's lazy-fixture path reads `request.node._nodeid`, which pytest 9 no longer has.
def fuzz_operation(operation, tokens: dict[str, str]) -> None:
    """Valid and invalid requests for one operation, each sent as an admin and as an agent."""
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=cases)
    def run(case) -> None:
        for role in ("admin", "agent"):  # the same request from each
            case.call_and_validate(headers={"Authorization": f"Bearer {tokens[role]}"})

    run()


def test_api_conforms_to_its_openapi_document(app, seeded):
    # Every operation is fuzzed. Were a logout or token revocation added, it would need excluding
    # (schema.exclude(...)): it would end the very tokens the rest of the run sends.
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=CONFIG)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            fuzz_operation(operation, seeded)
        except (Exception, BaseExceptionGroup) as exc:  # report every operation's failures, not just the first
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
