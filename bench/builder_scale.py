#!/usr/bin/env python
"""The workflow builder at scale: a 200-step workflow with branches in headless Chromium.

    .venv/bin/python bench/builder_scale.py [--steps 200] [--loads 10] [--drags 5]
    .venv/bin/python bench/builder_scale.py --screenshots docs/screenshots

Measures, in the browser (Debian's /usr/bin/chromium through Playwright):

- load: navigation start -> the flow drawn (`builder-rendered`, a performance mark the
  page sets once its cards are in the DOM) and -> painted (`builder-painted`, two
  animation frames later); also when the API data was in (`builder-data-loaded`) and
  how long drawing the flow took (`builder-render`). The first load is a warm-up.
- drag: requestAnimationFrame intervals while a card is dragged over the canvas by
  the mouse (pointer events, the slot under the pointer lighting up), in --moves
  small steps, as fitted on screen and at 100%; and with the pointer held at the
  canvas's lower edge, where the canvas pans by itself.
- drop: redrawing the whole flow after the drop (the last `builder-render`).

The app runs as in the browser tests: a real server on a free port in this process,
a fresh SQLite file, the Socket.IO message queue on a claimed Redis database.
Figures and how they were taken: bench/builder_figures.md.

--screenshots DIR instead writes the builder's screenshots (builder.png: the demo
workflow with live step counts and a step's form open; builder-test-run.png: a test
run lit up on the canvas) from the same set-up, with the demo data of `make run`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine_throughput import claimed_redis  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, serving  # noqa: E402

PASSWORD = "bench-password"
VIEWPORT = {"width": 1440, "height": 900}
FRAME_MS = 1000 / 60
ACTIONS = ["add_tag", "send_sms", "wait", "add_note", "assign_user", "manual_sms", "update_contact_field",
           "remove_tag", "manual_call"]

MARKS = """() => {
  const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
  const renders = performance.getEntriesByName("builder-render");
  return {data: at("builder-data-loaded"), rendered: at("builder-rendered"), painted: at("builder-painted"),
          render: renders[renders.length - 1]?.duration ?? null,
          cards: document.querySelectorAll(".step-card").length};
}"""
RECORD = """() => {
  window.__frames = [];
  window.__recording = true;
  const tick = (t) => { window.__frames.push(t); if (window.__recording) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}"""
STOP = """() => { window.__recording = false; return window.__frames; }"""


# --- the workflow ---------------------------------------------------------------------------

def config_for(step_type: str, n: int, user_id: int) -> dict[str, Any]:
    return {
        "add_tag": {"tag": f"stage-{n}"}, "remove_tag": {"tag": f"stage-{n - 1}"},
        "send_sms": {"message": f"Hi {{{{ contact.first_name }}}}, update number {n}."},
        "wait": {"amount": n % 5 + 1, "unit": "hours"}, "add_note": {"body": f"Reached step {n}."},
        "assign_user": {"user_ids": [user_id]}, "manual_sms": {"message": "Checking in, {{ contact.first_name }}."},
        "update_contact_field": {"field": "custom.stage", "value": str(n)}, "manual_call": {},
    }[step_type]


def scale_graph(size: int, user_id: int, *, every: int = 10, side: int = 8) -> dict[str, Any]:
    """`size` steps: a main path with an if/else every `every` steps; the main path goes on in its
    first branch and a side path of `side` steps hangs under Else."""
    steps: dict[str, dict[str, Any]] = {}
    count = 0

    def add(step_type: str, config: dict[str, Any], name: str = "") -> str:
        nonlocal count
        count += 1
        step_id = f"s{count}"
        steps[step_id] = {"type": step_type, "name": name, "config": config, "next": None}
        return step_id

    def link(previous: tuple[str, str] | None, step_id: str) -> None:
        if previous is None:
            return
        owner, path = previous
        if path == "next":
            steps[owner]["next"] = step_id
        elif path == "else":
            steps[owner]["config"]["else_next"] = step_id
        else:
            steps[owner]["config"]["branches"][0]["next"] = step_id

    previous: tuple[str, str] | None = None
    while count < size:
        if count % every == every - 1 and size - count > side + 2:
            branch = add("if_else", {"branches": [{"name": f"Segment {count}", "conditions": [
                {"field": "contact.tags", "op": "has_tag", "value": f"segment-{count}"}], "next": None}],
                "else_next": None}, name=f"Which segment? ({count + 1})")
            link(previous, branch)
            side_previous: tuple[str, str] = (branch, "else")
            for _ in range(side):
                step_type = ACTIONS[count % len(ACTIONS)]
                step_id = add(step_type, config_for(step_type, count + 1, user_id))
                link(side_previous, step_id)
                side_previous = (step_id, "next")
            previous = (branch, "branch")
            continue
        step_type = ACTIONS[count % len(ACTIONS)]
        step_id = add(step_type, config_for(step_type, count + 1, user_id))
        link(previous, step_id)
        previous = (step_id, "next")
    return {"name": f"{size}-step nurture", "trigger": {"type": "contact_tag_added", "config": {"tag": "lead"}},
            "start": "s1", "steps": steps}


# --- the app ----------------------------------------------------------------------------------

@contextmanager
def serve(redis_url: str) -> Iterator[Any]:
    """The app on a fresh SQLite file, served on a free port, its app context pushed."""
    import uuid

    from app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/builder.sqlite3", "REDIS_URL": redis_url,
            "SOCKETIO_MESSAGE_QUEUE": redis_url, "RQ_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
            "SECRET_KEY": "bench", "TESTING": True,
        })
        with serving(app) as live:
            yield live


def login(page: Page, url: str, email: str, then: str) -> None:
    page.goto(f"{url}/login?next={then}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}{then}")


def open_builder(page: Page, url: str, workflow_id: int) -> dict[str, Any]:
    page.goto(f"{url}/workflows/{workflow_id}/edit")
    page.wait_for_function("performance.getEntriesByName('builder-painted').length > 0")
    return page.evaluate(MARKS)


# --- measuring -----------------------------------------------------------------------------------

def intervals(frames: list[float]) -> list[float]:
    return [b - a for a, b in zip(frames, frames[1:], strict=False)]


def frame_summary(gaps: list[float]) -> dict[str, float]:
    ordered = sorted(gaps)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    mean = statistics.fmean(gaps)
    return {"frames": len(gaps), "mean": mean, "p95": p95, "max": ordered[-1], "fps": 1000 / mean,
            "long": sum(1 for g in gaps if g > FRAME_MS * 1.5)}


def drag_frames(page: Page, moves: int, *, edge: bool = False) -> list[float]:
    """Press on a card in view, move over the canvas in small steps, release where nothing takes it."""
    canvas = page.locator("#canvas").bounding_box()
    cards = page.locator(".step-card:not(.trigger-card)")
    source = None
    for index in range(min(cards.count(), 40)):
        box = cards.nth(index).bounding_box()
        if box and canvas["y"] + 80 < box["y"] < canvas["y"] + canvas["height"] / 2 \
                and canvas["x"] < box["x"] < canvas["x"] + canvas["width"] - box["width"]:
            source = box
            break
    if source is None:
        raise SystemExit("no card in view to drag")
    x, y = source["x"] + source["width"] / 2, source["y"] + 12
    page.mouse.move(x, y)
    page.evaluate(RECORD)
    page.mouse.down()
    if edge:  # into the band along the lower edge, then hold still: the canvas pans on its own
        page.mouse.move(x, canvas["y"] + canvas["height"] - 15, steps=10)
        for _ in range(moves):
            page.mouse.move(x + (1 if _ % 2 else 0), canvas["y"] + canvas["height"] - 15)
    else:  # a zigzag across the canvas, over slots and cards
        width, height = canvas["width"] - 80, canvas["height"] - 120
        for step in range(moves):
            up_and_down = 1 - abs(2 * (step % 40) / 40 - 1)
            page.mouse.move(canvas["x"] + 40 + width * step / moves, canvas["y"] + 60 + height * up_and_down)
    page.mouse.move(canvas["x"] + 5, canvas["y"] + 5)  # over the empty corner: no slot, no drop
    page.mouse.up()
    return intervals(page.evaluate(STOP))[1:]


def drop_render(page: Page) -> float:
    """Drop a palette item on the first visible slot; how long the redraw took."""
    page.get_by_role("button", name="Fit").click()
    slot = page.locator(".slot").nth(3).bounding_box()
    item = page.locator("#palette .palette-item").first.bounding_box()
    before = page.locator(".step-card").count()
    page.mouse.move(item["x"] + 20, item["y"] + 10)
    page.mouse.down()
    page.mouse.move(slot["x"] + slot["width"] / 2, slot["y"] + slot["height"] / 2, steps=10)
    page.mouse.up()
    page.wait_for_function(f"document.querySelectorAll('.step-card').length > {before}")
    return page.evaluate(MARKS)["render"]


def bench(args: argparse.Namespace) -> None:
    from builder.domain.users import create_user
    from builder.domain.workflows import create_workflow
    from builder.extensions import db
    from builder.models import Account

    with claimed_redis(args.redis, None) as redis_url, serve(redis_url) as live:
        account = Account(name="Bench", quiet_hours_enabled=False)
        db.session.add(account)
        db.session.commit()
        manager = create_user("manager@bench.test", "manager", PASSWORD, "Morgan Manager", account)
        graph = scale_graph(args.steps, manager.id)
        workflow_id = create_workflow(account.id, graph, author_id=manager.id, publish=True).id
        db.session.commit()
        db.session.remove()

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_context(viewport=VIEWPORT).new_page()
            login(page, live.url, "manager@bench.test", "/")
            loads = [open_builder(page, live.url, workflow_id) for _ in range(args.loads + 1)][1:]
            forks = sum(1 for step in graph["steps"].values() if step["type"] == "if_else")
            print(f"\n## {args.steps}-step workflow ({forks} if/else), {loads[0]['cards']} cards, "
                  f"viewport {VIEWPORT['width']}x{VIEWPORT['height']}\n")
            print("| load (ms from navigation start) | median | max |\n|---|---|---|")
            for key, label in (("data", "API data in"), ("rendered", "flow drawn (in the DOM)"),
                               ("painted", "painted"), ("render", "drawing the flow (JS)")):
                values = [load[key] for load in loads]
                print(f"| {label} | {statistics.median(values):.0f} | {max(values):.0f} |")

            print("\n| drag | frames | mean interval (ms) | p95 | max | fps | frames > 25 ms |")
            print("|---|---|---|---|---|---|---|")
            scale = page.locator("#zoom-level").inner_text()
            runs = [("over the canvas, fitted (" + scale + ")", False, False),
                    ("over the canvas, at 100%", False, True), ("held at the edge (auto-pan), at 100%", True, True)]
            for label, edge, full in runs:
                gaps: list[float] = []
                for _ in range(args.drags):
                    open_builder(page, live.url, workflow_id)
                    if full:
                        page.locator("#zoom-level").click()
                    gaps += drag_frames(page, args.moves, edge=edge)
                s = frame_summary(gaps)
                print(f"| {label} | {s['frames']} | {s['mean']:.1f} | {s['p95']:.1f} | {s['max']:.1f} | "
                      f"{s['fps']:.0f} | {s['long']} |")
            open_builder(page, live.url, workflow_id)
            drops = [drop_render(page) for _ in range(3)]
            print(f"\nDrop, then redraw of all {args.steps}+ cards: {statistics.median(drops):.0f} ms median "
                  f"({', '.join(f'{d:.0f}' for d in drops)})")
            browser.close()


# --- screenshots ---------------------------------------------------------------------------------

def screenshots(args: argparse.Namespace) -> None:
    from builder.extensions import db
    from builder.models import Workflow
    from builder.server import demo
    from tests.conftest import run_jobs

    out = Path(args.screenshots)
    out.mkdir(parents=True, exist_ok=True)
    with claimed_redis(args.redis, None) as redis_url, serve(redis_url) as live:
        demo.load()  # the team, eight contacts, and "New lead follow-up" run for them
        db.session.commit()
        run_jobs(live.app)
        workflow_id = db.session.scalar(db.select(Workflow.id).where(Workflow.name == "New lead follow-up"))
        db.session.remove()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_context(viewport=VIEWPORT, device_scale_factor=1).new_page()
            page.goto(f"{live.url}/login?next=/workflows/{workflow_id}/edit")
            page.get_by_label("Email").fill("manager@flowdesk.test")
            page.get_by_label("Password").fill(demo.PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_function("performance.getEntriesByName('builder-painted').length > 0")
            page.wait_for_selector('[data-step-id="sms"] [data-stat="waiting"]')
            page.locator('[data-step-id="sms"]').click()
            page.get_by_role("button", name="Fit").click()
            page.mouse.move(5, 5)
            page.screenshot(path=str(out / "builder.png"))

            page.get_by_role("button", name="Test workflow").click()
            page.wait_for_selector("body[data-watching=true]")
            page.get_by_text("Create a test contact").click()
            page.get_by_label("First name").fill("Tess")
            page.get_by_label("Phone").fill("+14155551000")
            page.get_by_role("button", name="Create test contact").click()
            page.wait_for_function("document.querySelector('#test-contact').value !== ''")
            page.get_by_role("button", name="Run test").click()
            page.wait_for_selector("#test-status:text('Running')")
            run_jobs(live.app)
            page.wait_for_selector('[data-step-id="sms"][data-run-state="waiting"]')
            page.locator('[data-step-id="assign"]').click()
            page.get_by_role("button", name="Fit").click()
            page.mouse.move(5, 5)
            page.screenshot(path=str(out / "builder-test-run.png"))
            browser.close()
    print(f"wrote {out / 'builder.png'} and {out / 'builder-test-run.png'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--loads", type=int, default=10, help="page loads measured (after one warm-up)")
    parser.add_argument("--drags", type=int, default=5, help="drags per kind")
    parser.add_argument("--moves", type=int, default=120, help="mouse moves per drag")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379", help="Redis without a database number")
    parser.add_argument("--screenshots", metavar="DIR", help="write the builder's screenshots instead")
    args = parser.parse_args(argv)
    if args.screenshots:
        screenshots(args)
    else:
        bench(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
