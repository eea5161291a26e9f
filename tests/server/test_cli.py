from sqlalchemy import func, select

from builder.extensions import db
from builder.models import Enrollment, ManualAction, User, Workflow
from tests.factories import run_jobs


def test_users_create(runner, app):
    result = runner.invoke(args=["users", "create", "Boss@Acme.test", "--role", "manager", "--password", "s3cret-pass"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert user.email == "boss@acme.test" and user.role == "manager" and user.check_password("s3cret-pass")
    again = runner.invoke(args=["users", "create", "boss@acme.test", "--role", "agent", "--password", "s3cret-pass"])
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(args=["users", "create", "x@acme.test", "--role", "agent", "--password", "short"])
    assert short.exit_code != 0 and "at least 8" in short.output


def test_users_create_with_a_phone(runner, app):
    bad = runner.invoke(args=["users", "create", "a@acme.test", "--role", "agent", "--password", "s3cret-pass",
                              "--phone", "12"])
    assert bad.exit_code != 0 and "--phone" in bad.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    ok = runner.invoke(args=["users", "create", "a@acme.test", "--role", "agent", "--password", "s3cret-pass",
                             "--phone", "(415) 555-0100"])
    assert ok.exit_code == 0, ok.output
    assert db.session.scalar(select(User.phone)) == "+14155550100"


def test_demo_fills_the_agents_queues_and_is_safe_to_repeat(runner, app):
    assert "loaded" in runner.invoke(args=["demo"]).output
    assert "already loaded" in runner.invoke(args=["demo"]).output
    run_jobs(app)
    assert db.session.scalar(select(func.count()).select_from(Workflow)) == 6  # see demo.load
    parked = db.session.scalar(select(func.count()).where(Enrollment.status == "parked"))
    assert parked == 8 + 3
    assignees = set(db.session.scalars(select(ManualAction.assignee_id)))
    agents = set(db.session.scalars(select(User.id).where(User.role == "agent")))
    assert assignees == agents


def test_users_deactivate_activate_and_set_password(runner, app):
    runner.invoke(args=["users", "create", "a@acme.test", "--role", "agent", "--password", "s3cret-pass"])
    for command in (["deactivate", "nobody@acme.test"], ["activate", "nobody@acme.test"],
                    ["set-password", "nobody@acme.test", "--password", "n3w-secret"]):
        result = runner.invoke(args=["users", *command])
        assert result.exit_code != 0 and "No user has the email" in result.output
    assert runner.invoke(args=["users", "deactivate", "A@acme.test"]).exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(select(User.active)) is False
    assert runner.invoke(args=["users", "activate", "a@acme.test"]).exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(select(User.active)) is True
    short = runner.invoke(args=["users", "set-password", "a@acme.test", "--password", "short"])
    assert short.exit_code != 0 and "at least 8" in short.output
    ok = runner.invoke(args=["users", "set-password", "a@acme.test"], input="n3w-secret\nn3w-secret\n")
    assert ok.exit_code == 0, ok.output
    db.session.expire_all()
    assert db.session.scalar(select(User)).check_password("n3w-secret")
